//go:build linux

package hugepage

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"strconv"

	"golang.org/x/sys/unix"
)

// Supported reports whether the kernel offers transparent huge pages in a
// mode that honours MADV_HUGEPAGE ("always" or "madvise").
func Supported() bool {
	b, err := os.ReadFile("/sys/kernel/mm/transparent_hugepage/enabled")
	return err == nil && !bytes.Contains(b, []byte("[never]"))
}

// marker marks memory MADV_HUGEPAGE and collapses what was faulted in
// before the mark (MADV_COLLAPSE, Linux 6.1 on), remembering which huge
// pages it asked to collapse so that each is tried once.
type marker struct {
	collapsed map[uintptr]struct{} // huge page addresses
}

func newMarker() *marker { return &marker{collapsed: make(map[uintptr]struct{})} }

// mark marks MADV_HUGEPAGE every private anonymous read-write mapping of
// the process that spans a whole huge page (the Go heap's arenas, and the
// runtime's own large tables), then collapses the huge pages of them not
// collapsed before. Memory faulted in after the mark gets huge pages as it
// is touched; memory touched before it would wait for khugepaged, which
// by default scans 16 MiB every 10 seconds. The runtime maps each stretch
// of heap it grows into anew (MAP_FIXED), which loses the mark: Keep calls
// mark again as the heap grows.
func (m *marker) mark() (advised, collapsed int64, err error) {
	f, err := os.Open("/proc/self/maps")
	if err != nil {
		return 0, 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	var spans [][2]uintptr
	for sc.Scan() {
		lo, hi, ok := anonRW(sc.Bytes())
		if !ok {
			continue
		}
		lo = (lo + Size - 1) &^ (Size - 1)
		hi &^= Size - 1
		if hi > lo {
			spans = append(spans, [2]uintptr{lo, hi})
		}
	}
	if err := sc.Err(); err != nil {
		return 0, 0, err
	}
	for _, s := range spans {
		switch err := madvise(s[0], s[1]-s[0], unix.MADV_HUGEPAGE); err {
		case nil:
			advised += int64(s[1] - s[0])
		case unix.ENOMEM: // unmapped since the read
			continue
		default:
			return advised, collapsed, fmt.Errorf("hugepage: madvise %#x-%#x: %w", s[0], s[1], err)
		}
		collapsed += m.collapse(s[0], s[1])
	}
	return advised, collapsed, nil
}

// collapse collapses the huge pages in [lo, hi) it has not collapsed
// before, a run of them per call, and returns the bytes it asked for.
func (m *marker) collapse(lo, hi uintptr) int64 {
	var n int64
	for p := lo; p < hi; {
		if _, done := m.collapsed[p]; done {
			p += Size
			continue
		}
		end := p
		for end < hi {
			if _, done := m.collapsed[end]; done {
				break
			}
			m.collapsed[end] = struct{}{}
			end += Size
		}
		// Failures leave it to the mark and khugepaged: EAGAIN (pages
		// busy), ENOMEM (no free huge page, or nothing faulted in yet),
		// EINVAL (a kernel before 6.1, or a mapping it will not collapse,
		// such as the binary's bss).
		madvise(p, end-p, unix.MADV_COLLAPSE)
		n += int64(end - p)
		p = end
	}
	return n
}

// anonRW parses one line of /proc/self/maps ("lo-hi perms offset dev inode
// [name]") and reports the range of a private anonymous read-write mapping.
func anonRW(line []byte) (lo, hi uintptr, ok bool) {
	fields := bytes.Fields(line)
	if len(fields) < 5 || string(fields[1]) != "rw-p" || string(fields[4]) != "0" {
		return 0, 0, false
	}
	if len(fields) > 5 && !bytes.HasPrefix(fields[5], []byte("[anon:")) {
		return 0, 0, false // [stack], [heap] of brk, [vvar]...
	}
	r := fields[0]
	dash := bytes.IndexByte(r, '-')
	if dash < 0 {
		return 0, 0, false
	}
	l, err1 := strconv.ParseUint(string(r[:dash]), 16, 64)
	h, err2 := strconv.ParseUint(string(r[dash+1:]), 16, 64)
	if err1 != nil || err2 != nil || h <= l {
		return 0, 0, false
	}
	return uintptr(l), uintptr(h), true
}

func madvise(addr, n uintptr, advice int) error {
	_, _, e := unix.Syscall(unix.SYS_MADVISE, addr, n, uintptr(advice))
	if e != 0 {
		return e
	}
	return nil
}
