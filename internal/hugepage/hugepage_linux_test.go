//go:build linux

package hugepage

import (
	"bufio"
	"context"
	"io"
	"log/slog"
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"
	"unsafe"
)

// vmFlags returns the VmFlags of the mapping holding addr, from
// /proc/self/smaps.
func vmFlags(t *testing.T, addr uintptr) string {
	t.Helper()
	f, err := os.Open("/proc/self/smaps")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	in := false
	for sc.Scan() {
		line := sc.Bytes()
		if lo, hi, ok := anyRange(line); ok {
			in = lo <= addr && addr < hi
			continue
		}
		if in && strings.HasPrefix(string(line), "VmFlags:") {
			return string(line)
		}
	}
	t.Fatalf("no mapping holds %#x", addr)
	return ""
}

// anyRange parses the range of a mapping's header line in smaps.
func anyRange(line []byte) (lo, hi uintptr, ok bool) {
	r, _, _ := strings.Cut(string(line), " ")
	l, h, found := strings.Cut(r, "-")
	if !found {
		return 0, 0, false
	}
	a, err1 := strconv.ParseUint(l, 16, 64)
	b, err2 := strconv.ParseUint(h, 16, 64)
	if err1 != nil || err2 != nil {
		return 0, 0, false
	}
	return uintptr(a), uintptr(b), b > a
}

func hugeAdvised(flags string) bool {
	return strings.Contains(flags, " hg")
}

func skipWithoutTHP(t *testing.T) {
	if !Supported() {
		t.Skip("transparent huge pages are off or absent on this kernel")
	}
}

// big allocates and touches n bytes of heap, and returns the address of
// a byte in its middle.
func big(n int) ([]byte, uintptr) {
	b := make([]byte, n)
	for i := 0; i < len(b); i += 4096 {
		b[i] = 1
	}
	return b, uintptr(unsafe.Pointer(&b[n/2]))
}

func TestMarkAdvisesTheHeap(t *testing.T) {
	skipWithoutTHP(t)
	b, addr := big(64 << 20)
	m := newMarker()
	advised, _, err := m.mark()
	if err != nil {
		t.Fatal(err)
	}
	if advised < 64<<20-2*Size {
		t.Errorf("advised %d bytes, want at least the 64 MiB slice's", advised)
	}
	if fl := vmFlags(t, addr); !hugeAdvised(fl) {
		t.Errorf("the heap holding a 64 MiB slice is not marked MADV_HUGEPAGE: %s", fl)
	}
	// Each huge page of the slice was tried once, and is remembered, so
	// that a second mark does not copy it again.
	start := uintptr(unsafe.Pointer(&b[0]))
	for p := (start + Size - 1) &^ (Size - 1); p+Size <= start+uintptr(len(b)); p += Size {
		if _, ok := m.collapsed[p]; !ok {
			t.Fatalf("huge page %#x of the slice was not collapsed", p)
		}
	}
	runtime.KeepAlive(b)
}

func TestKeepMarksTheHeapAsItGrows(t *testing.T) {
	skipWithoutTHP(t)
	probe, probeAddr := big(8 << 20)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		Keep(ctx, slog.New(slog.NewTextHandler(io.Discard, nil)))
	}()
	defer func() { cancel(); <-done }()
	waitMarked(t, probeAddr, "memory mapped before Keep started")

	// Grow the heap until a new stretch is mapped, unmarked: the runtime
	// maps it anew (MAP_FIXED), and only a collection wakes Keep for it.
	var grown [][]byte
	var addr uintptr
	for i := 0; ; i++ {
		if i == 32 {
			t.Skip("the heap grew into memory marked already; no new mapping to watch")
		}
		b, a := big(8 << 20)
		grown = append(grown, b)
		if !hugeAdvised(vmFlags(t, a)) {
			addr = a
			break
		}
	}
	runtime.GC()
	waitMarked(t, addr, "memory the heap grew into after Keep started")
	runtime.KeepAlive(probe)
	runtime.KeepAlive(grown)
}

// waitMarked waits until the mapping holding addr is marked MADV_HUGEPAGE.
func waitMarked(t *testing.T, addr uintptr, what string) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !hugeAdvised(vmFlags(t, addr)); time.Sleep(2 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%s was not marked within 10s: %s", what, vmFlags(t, addr))
		}
	}
}

func TestAnonRWPicksPrivateAnonymousWritableMappings(t *testing.T) {
	for _, tc := range []struct {
		line   string
		ok     bool
		lo, hi uintptr
	}{
		{"c000000000-c004000000 rw-p 00000000 00:00 0 ", true, 0xc000000000, 0xc004000000},
		{"7f00000000-7f00200000 rw-p 00000000 00:00 0    [anon:Go: heap]", true, 0x7f00000000, 0x7f00200000},
		{"00400000-00f60000 r-xp 00000000 fe:00 9978129    /bin/corral", false, 0, 0},
		{"01aaa000-01b1f000 rw-p 016aa000 fe:00 9978129    /bin/corral", false, 0, 0},
		{"7ffc0000-7ffc2000 rw-p 00000000 00:00 0    [stack]", false, 0, 0},
		{"7f0000-7f2000 rw-s 00000000 00:05 123    /dev/shm/x", false, 0, 0},
		{"35f938000000-35f93bc00000 ---p 00000000 00:00 0", false, 0, 0},
		{"garbage", false, 0, 0},
	} {
		lo, hi, ok := anonRW([]byte(tc.line))
		if ok != tc.ok || lo != tc.lo || hi != tc.hi {
			t.Errorf("anonRW(%q) = %#x, %#x, %v; want %#x, %#x, %v", tc.line, lo, hi, ok, tc.lo, tc.hi, tc.ok)
		}
	}
}

func TestHeaderTellsMappingsFromFields(t *testing.T) {
	for _, tc := range []struct {
		line       string
		anon, head bool
	}{
		{"c000000000-c004000000 rw-p 00000000 00:00 0 ", true, true},
		{"00400000-00f60000 r-xp 00000000 fe:00 9978129    /bin/corral", false, true},
		{"Rss:                4096 kB", false, false},
		{"VmFlags: rd wr mr mw me ac nh", false, false},
	} {
		if _, _, anon, head := header([]byte(tc.line)); anon != tc.anon || head != tc.head {
			t.Errorf("header(%q) = anon %v, header %v; want %v, %v", tc.line, anon, head, tc.anon, tc.head)
		}
	}
	if !hasFlag([]byte("VmFlags: rd wr mr mw me ac nh"), "nh") || hasFlag([]byte("VmFlags: rd wr hg"), "nh") {
		t.Error("hasFlag misreads VmFlags")
	}
}
