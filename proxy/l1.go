package proxy

import (
	"fmt"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/cespare/xxhash/v2"
	"github.com/dgraph-io/ristretto/v2"

	"corral/xfetch"
)

// entryOverhead approximates an L1 entry's bytes beyond its key and value:
// the entry struct and ristretto's bookkeeping.
const entryOverhead = 96

// stripes is the number of write-generation stripes guarding L1 fills.
const stripes = 1024

// entry is one cached upstream reply for GET. Its key and value follow it
// in the same allocation, and ristretto holds a pointer to it: on a large
// keyspace the hit path is bound by cache and TLB misses, and this keeps
// ristretto's map slots small (a group of eight in 7 cache lines, not 15)
// and leaves one miss after the map lookup, for the entry with its key and
// value. Entries are immutable once built.
type entry struct {
	expireAt int64 // logical expiry, unix nanoseconds
	// earlyAt (unix ns) is when XFetch may start refreshing the entry:
	// before it, no random draw could trigger a refresh. delta is how long
	// the read that filled it took (ns). Both are 0 when XFetch is off.
	earlyAt, delta int64
	epoch          uint64
	klen, vlen     uint32
	found          bool // false caches "no such key"
}

// entrySize is where an entry's key begins, its value right after it.
const entrySize = unsafe.Sizeof(entry{})

// newEntry builds the entry for key and value in one allocation of bytes,
// which holds no pointers, so the collector never scans it. Allocations
// of 16 bytes or more are 8-byte aligned, as entry's fields need. One
// spare byte at the end keeps the key and value pointers inside the
// allocation when they are empty: a pointer just past it would keep the
// next object alive.
func newEntry(key string, value []byte) *entry {
	buf := make([]byte, int(entrySize)+len(key)+len(value)+1)
	copy(buf[entrySize:], key)
	copy(buf[int(entrySize)+len(key):], value)
	e := (*entry)(unsafe.Pointer(unsafe.SliceData(buf)))
	e.klen, e.vlen = uint32(len(key)), uint32(len(value))
	return e
}

func (e *entry) data() *byte { return (*byte)(unsafe.Add(unsafe.Pointer(e), entrySize)) }

func (e *entry) key() []byte { return unsafe.Slice(e.data(), e.klen) }

func (e *entry) value() []byte {
	return unsafe.Slice((*byte)(unsafe.Add(unsafe.Pointer(e.data()), e.klen)), e.vlen)
}

// l1 is the proxy's in-process cache of GET replies. Reads are lock-free
// and allocation-free. Fills from upstream reads race with this proxy's
// writes, so each fill carries the write generation of its key's stripe
// from before the read and is dropped if a write came in between; that is
// what lets a connection read its own writes.
//
// All methods are safe for concurrent use.
type l1 struct {
	cache  *ristretto.Cache[string, *entry]
	maxAge time.Duration
	policy xfetch.Config
	rand   xfetch.Rand
	epoch  atomic.Uint64
	stale  atomic.Int64 // ristretto hits that were logically expired
	// Ristretto hits and misses of stale-if-error lookups and of flights
	// looking again: the GET that missed before them is counted already.
	rereadHits, rereadMisses atomic.Int64
	// Misses of GETs tried on an event loop, which Exec looks up again.
	retried atomic.Int64

	locks [stripes]sync.Mutex    // serializes fills against writes per stripe
	gens  [stripes]atomic.Uint64 // bumped by every write to the stripe
}

// maxCounters caps the admission sketch: ristretto's TinyLFU counts every
// hit at four random places of a sketch of NumCounters 4-bit counters per
// row, so a sketch beyond the CPU caches costs four cache misses per GET.
// 1<<20 counters is 2 MiB of sketch, 10 counters per key for the hot 100k.
// Measured on the 2-core machine, corral dev pinned to one core, GET P16
// over 100k keys: the uncapped 128mb default (8M counters, 16 MiB) about
// 590k req/s, capped about 640k (see bench/RESULTS.md).
const maxCounters = 1 << 20

func newL1(maxAge time.Duration, maxBytes int64, policy xfetch.Config, rand xfetch.Rand) (*l1, error) {
	items := maxBytes / 256
	// BufferItems batches the hits ristretto's policy goroutine counts
	// for admission: each full batch is a channel send that wakes it. At
	// 64 the wake-ups (futex, scheduler) were 15% of the proxy's CPU on
	// GETs at pipeline 16; at 1024 the proxy served 13-20% more of them on
	// one event loop (two builds side by side, alternating redis-benchmark
	// runs; see bench/RESULTS.md). 4096 gained nothing more.
	c, err := ristretto.NewCache(&ristretto.Config[string, *entry]{
		NumCounters:        min(max(10*items, 1000), maxCounters),
		MaxCost:            maxBytes,
		BufferItems:        1024,
		Metrics:            true,
		IgnoreInternalCost: true,
	})
	if err != nil {
		return nil, fmt.Errorf("proxy: l1: %w", err)
	}
	return &l1{cache: c, maxAge: maxAge, policy: policy, rand: rand}, nil
}

// get returns the live entry for key. key may alias a connection buffer:
// it is never retained. Hot path: no allocations.
func (l *l1) get(key []byte, now int64) (*entry, bool) {
	e, ok := l.cache.Get(unsafe.String(unsafe.SliceData(key), len(key)))
	if !ok || string(e.key()) != string(key) {
		return nil, false
	}
	if now >= e.expireAt || e.epoch != l.epoch.Load() {
		l.stale.Add(1)
		return nil, false
	}
	return e, true
}

// getStale returns key's entry even if expired, as long as it expired less
// than window before now and no flush came after it: stale-if-error
// serves it when the upstream fails.
func (l *l1) getStale(key []byte, now int64, window time.Duration) (*entry, bool) {
	e, ok := l.reread(unsafe.String(unsafe.SliceData(key), len(key)))
	if !ok || e.epoch != l.epoch.Load() || now-e.expireAt >= int64(window) {
		return nil, false
	}
	return e, true
}

// getAgain is get for a GET whose miss is counted already: a flight
// looks again before it reads upstream, since a flight for the key that
// ended between that miss and this one's start has filled the entry.
func (l *l1) getAgain(key string, now int64) (*entry, bool) {
	e, ok := l.reread(key)
	if !ok || now >= e.expireAt || e.epoch != l.epoch.Load() {
		return nil, false
	}
	return e, true
}

// reread looks key up for a GET counted already: its ristretto hit or
// miss is taken out of the L1's hits and misses.
func (l *l1) reread(key string) (*entry, bool) {
	e, ok := l.cache.Get(key)
	if ok {
		l.rereadHits.Add(1)
	} else {
		l.rereadMisses.Add(1)
	}
	if !ok || string(e.key()) != string(key) {
		return nil, false
	}
	return e, true
}

func stripe(key []byte) int { return int(xxhash.Sum64(key) % stripes) }

// generation returns the write generation of key's stripe; pass it to
// fill.
func (l *l1) generation(key []byte) uint64 { return l.gens[stripe(key)].Load() }

// fill caches a GET reply read from the upstream when no write to the
// key's stripe happened since gen was taken; call settle before relying on
// it. ttl is the upstream's remaining TTL (negative: none), now the time
// the read was sent and delta how long it took; the entry lives
// min(ttl, maxAge spread by the TTL jitter) from now.
func (l *l1) fill(key string, value []byte, found bool, ttl time.Duration, now int64, delta time.Duration, gen uint64) {
	life := xfetch.Jitter(l.maxAge, l.policy.Jitter, l.rand())
	if ttl >= 0 && ttl-time.Millisecond < life {
		life = ttl - time.Millisecond // PTTL may round up by up to 1ms
	}
	if life <= 0 {
		return
	}
	e := newEntry(key, value)
	e.found, e.expireAt, e.epoch = found, now+int64(life), l.epoch.Load()
	if l.policy.Beta > 0 && delta > 0 {
		e.delta = int64(delta)
		e.earlyAt = e.expireAt - int64(xfetch.Horizon(delta, l.policy.Beta))
	}
	i := stripe(e.key())
	l.locks[i].Lock()
	if l.gens[i].Load() == gen {
		// No ristretto TTL: its check costs a clock read per hit. An
		// expired entry is replaced by the next fill or evicted by cost.
		l.cache.Set(key, e, int64(len(key)+len(value)+entryOverhead))
	}
	l.locks[i].Unlock()
}

// settle waits until fills are visible. ristretto applies new entries
// asynchronously; a flight settles before it ends, so that the readers it
// releases, and those right behind them, find the entry instead of starting
// a second upstream read.
func (l *l1) settle() { l.cache.Wait() }

// invalidate drops key after a write, and makes fills that started before
// the write be discarded.
func (l *l1) invalidate(key []byte) {
	i := stripe(key)
	l.locks[i].Lock()
	l.gens[i].Add(1)
	l.cache.Del(string(key))
	l.locks[i].Unlock()
	// A fill that passed its generation check just before may still be
	// queued in ristretto; wait until it and the delete behind it are
	// applied, so the writer's next read cannot see it.
	l.cache.Wait()
}

// flush forgets every entry (FLUSHALL through this proxy).
func (l *l1) flush() {
	for i := range l.locks {
		l.locks[i].Lock()
		l.gens[i].Add(1)
	}
	l.epoch.Add(1)
	for i := range l.locks {
		l.locks[i].Unlock()
	}
}

func (l *l1) hits() float64 {
	return float64(l.cache.Metrics.Hits()) - float64(l.stale.Load()) - float64(l.rereadHits.Load())
}

func (l *l1) misses() float64 {
	return float64(l.cache.Metrics.Misses()) + float64(l.stale.Load()) - float64(l.rereadMisses.Load()) - float64(l.retried.Load())
}

func (l *l1) close() { l.cache.Close() }
