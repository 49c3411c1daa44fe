// Package hugepage asks the kernel for transparent huge pages on the
// process's heap.
//
// The proxy's L1 and a store's data are hash tables read at random: a GET
// touches a map group, a slot and a value in places no earlier GET warmed.
// On 4 KiB pages tens of megabytes of them need thousands of TLB entries
// more than a core has, so most of those reads also miss the TLB, and in a
// virtual machine each of those misses walks two page tables. Go does not
// ask for huge pages itself (since Go 1.21.1 it leaves the heap to the
// system's setting), and the usual setting, "madvise", gives them only to
// memory marked MADV_HUGEPAGE. Keep marks the heap and collapses what was
// faulted in before the mark (MADV_COLLAPSE).
//
// The cost is the one transparent huge pages always have: a huge page is
// resident whole, so memory the Go scavenger returns in pieces smaller
// than 2 MiB, or a stretch of heap only partly used, still counts. corral
// dev after the bench-compare load: 168 MB resident with it (121 MB of it
// in huge pages), 165 MB without.
package hugepage

import (
	"context"
	"log/slog"
	"os"
	"runtime"
	"runtime/metrics"
	"strings"
)

// Size is the huge page size this package marks memory in multiples of.
const Size = 2 << 20

// Keep marks the process's memory now, and again after each garbage
// collection that finds more memory mapped than the last mark covered
// (the heap maps new arenas as it grows), until ctx ends. It returns when
// ctx ends, or at once where huge pages are not supported, and logs what
// it did to log.
func Keep(ctx context.Context, log *slog.Logger) {
	if !Supported() {
		log.Debug("transparent huge pages: not supported here; --huge-pages does nothing")
		return
	}
	if thpDisabled(os.Getenv("GODEBUG")) {
		log.Debug("transparent huge pages: GODEBUG=disablethp=1; --huge-pages does nothing")
		return
	}
	k := &keeper{wake: make(chan struct{}, 1), ctx: ctx.Done(), stop: make(chan struct{})}
	defer close(k.stop)
	k.arm()
	m := newMarker()
	sample := []metrics.Sample{{Name: "/memory/classes/total:bytes"}}
	var covered uint64
	for {
		metrics.Read(sample)
		if mapped := sample[0].Value.Uint64(); mapped > covered {
			advised, collapsed, err := m.mark()
			if err != nil {
				log.Warn("transparent huge pages: madvise failed; the heap stays on small pages", "err", err)
				return
			}
			log.Debug("transparent huge pages: marked", "advised", advised, "collapsed", collapsed, "mapped", mapped)
			covered = mapped
		}
		select {
		case <-ctx.Done():
			return
		case <-k.wake:
		}
	}
}

// keeper wakes Keep after every garbage collection: a cleanup attached to
// an unreachable sentinel runs after the cycle that finds it dead, and
// attaches the next one.
type keeper struct {
	wake chan struct{}
	ctx  <-chan struct{} // Keep's ctx ended
	stop chan struct{}   // Keep returned
}

type sentinel struct{ _ *byte } // a pointer keeps it out of the tiny allocator

func (k *keeper) arm() {
	runtime.AddCleanup(&sentinel{}, (*keeper).collected, k)
}

func (k *keeper) collected() {
	select {
	case <-k.ctx:
		return // no next sentinel
	case <-k.stop:
		return
	default:
	}
	select {
	case k.wake <- struct{}{}:
	default:
	}
	k.arm()
}

// thpDisabled reports whether godebug (the GODEBUG variable) asks the
// runtime to keep the heap off huge pages.
func thpDisabled(godebug string) bool {
	disabled := false
	for _, kv := range strings.Split(godebug, ",") {
		if k, v, ok := strings.Cut(strings.TrimSpace(kv), "="); ok && k == "disablethp" {
			disabled = v == "1" // the last setting wins, as in the runtime
		}
	}
	return disabled
}
