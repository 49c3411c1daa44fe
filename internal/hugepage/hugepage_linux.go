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
// runtime's own large tables) except those the runtime marked
// MADV_NOHUGEPAGE itself (its sparse heap indexes, while the heap is
// small), then collapses the huge pages of them not collapsed before.
// Memory faulted in after the mark gets huge pages as it is touched;
// memory touched before it would wait for khugepaged, which by default
// scans 16 MiB every 10 seconds. The runtime maps each stretch of heap it
// grows into anew (MAP_FIXED), which loses the mark: Keep calls mark again
// as the heap grows.
func (m *marker) mark() (advised, collapsed int64, err error) {
	spans, err := candidates()
	if err != nil {
		return 0, 0, err
	}
	marked := spans[:0]
	for _, s := range spans {
		switch err := madvise(s[0], s[1]-s[0], unix.MADV_HUGEPAGE); err {
		case nil:
			advised += int64(s[1] - s[0])
			marked = append(marked, s)
		case unix.ENOMEM: // unmapped since the read
		default:
			return advised, 0, fmt.Errorf("hugepage: madvise %#x-%#x: %w", s[0], s[1], err)
		}
	}
	// Collapsing copies and takes the address space's lock: mark every
	// span first, so that nothing waits on the collapses to be marked.
	for _, s := range marked {
		collapsed += m.collapse(s[0], s[1])
	}
	return advised, collapsed, nil
}

// candidates reads /proc/self/smaps for the mappings mark marks, trimmed
// to whole huge pages.
func candidates() ([][2]uintptr, error) {
	f, err := os.Open("/proc/self/smaps")
	if err != nil {
		return nil, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	var spans [][2]uintptr
	var lo, hi uintptr
	var ok bool
	for sc.Scan() {
		line := sc.Bytes()
		if l, h, isRW, isHeader := header(line); isHeader {
			lo, hi, ok = l, h, isRW
			continue
		}
		if !ok || !bytes.HasPrefix(line, []byte("VmFlags:")) {
			continue
		}
		ok = false
		if hasFlag(line, "nh") {
			continue // the runtime's choice, or GODEBUG=disablethp=1
		}
		l := (lo + Size - 1) &^ (Size - 1)
		h := hi &^ (Size - 1)
		if h > l {
			spans = append(spans, [2]uintptr{l, h})
		}
	}
	return spans, sc.Err()
}

// header reports whether line heads a mapping in smaps, and if so its
// range and whether it is a private anonymous read-write mapping.
func header(line []byte) (lo, hi uintptr, anon, ok bool) {
	sp := bytes.IndexByte(line, ' ')
	if sp < 0 || bytes.IndexByte(line[:sp], '-') < 0 || line[sp-1] == ':' {
		return 0, 0, false, false
	}
	lo, hi, anon = anonRW(line)
	return lo, hi, anon, true
}

func hasFlag(vmFlags []byte, flag string) bool {
	for _, f := range bytes.Fields(vmFlags[len("VmFlags:"):]) {
		if string(f) == flag {
			return true
		}
	}
	return false
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

// anonRW parses a mapping's line of /proc/self/maps or smaps ("lo-hi perms
// offset dev inode [name]") and reports the range of a private anonymous
// read-write mapping.
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
