package engine

import (
	"log/slog"
	"math/bits"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cespare/xxhash/v2"

	"corral/cluster/hlc"
	"corral/internal/clock"
)

// Engine is a partitioned in-memory string store. All methods are safe for
// concurrent use; each locks at most one partition at a time.
type Engine struct {
	cfg    Config
	clock  clock.Clock
	hlc    *hlc.Clock
	logger *slog.Logger

	parts   []partition
	nparts  uint64
	posBits uint // low cursor bits holding a position within a partition (see scan.go)

	usedBytes atomic.Int64 // sum of the partitions' usedBytes

	tickMu sync.Mutex // guards sweep
	sweep  int        // partition where the next ExpireTick starts

	maxMemory    int64  // Config.MaxMemory
	policy       Policy // Config.Policy
	samples      int    // Config.EvictionSamples, defaulted
	evictedTTLMs int64  // Config.EvictedTombstoneTTL in ms, defaulted
	evicted      atomic.Int64

	evictMu sync.Mutex // held through a Reclaim; guards rnd
	rnd     *rand.Rand // eviction's sampling source
}

// New returns an Engine configured by cfg, or an error wrapping
// ErrInvalidConfig.
func New(cfg Config) (*Engine, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	cfg.Clock = clock.Or(cfg.Clock)
	if cfg.HLC == nil {
		cfg.HLC = hlc.New(cfg.Clock, cfg.Logger)
	}
	if cfg.Rand == nil {
		seed := uint64(time.Now().UnixNano())
		cfg.Rand = rand.New(rand.NewPCG(seed, seed>>32|1))
	}
	e := &Engine{
		cfg:     cfg,
		clock:   cfg.Clock,
		hlc:     cfg.HLC,
		logger:  cfg.Logger.With("component", "engine"),
		parts:   make([]partition, cfg.Partitions),
		nparts:  uint64(cfg.Partitions),
		posBits: 64 - uint(bits.Len(uint(cfg.Partitions-1))),
		sweep:   cfg.Rand.IntN(cfg.Partitions),

		maxMemory: cfg.MaxMemory,
		policy:    cfg.Policy,
		samples:   cfg.EvictionSamples,
	}
	if e.samples == 0 {
		e.samples = 5
	}
	evTTL := cfg.EvictedTombstoneTTL
	if evTTL == 0 {
		evTTL = min(30*time.Second, cfg.TombstoneTTL)
	}
	e.evictedTTLMs = evTTL.Milliseconds()
	e.rnd = rand.New(rand.NewPCG(cfg.Rand.Uint64(), cfg.Rand.Uint64()))
	ttl := cfg.TombstoneTTL.Milliseconds()
	for i := range e.parts {
		e.parts[i].init(ttl, &e.usedBytes)
	}
	return e, nil
}

// Partitions returns the number of partitions P.
func (e *Engine) Partitions() int { return len(e.parts) }

// Partition returns the partition of key: xxhash64(key) % P.
func (e *Engine) Partition(key []byte) int {
	return int(xxhash.Sum64(key) % e.nparts)
}

func (e *Engine) part(key []byte) *partition {
	return &e.parts[xxhash.Sum64(key)%e.nparts]
}

// Get returns key's live record. It reports false when the key is absent,
// deleted, or expired at nowMs; an expired record found here is turned into
// its tombstone. The returned Value must not be modified.
func (e *Engine) Get(key []byte, nowMs int64) (Record, bool) {
	p := e.part(key)
	p.mu.RLock()
	ent := p.m[string(key)]
	if ent == nil || ent.rec.Tombstone {
		p.mu.RUnlock()
		return Record{}, false
	}
	r := ent.rec
	ent.touch(nowMs)
	p.mu.RUnlock()
	if r.expired(nowMs) {
		e.expireKey(p, key, nowMs)
		return Record{}, false
	}
	return r, true
}

// expireKey turns key's record into a tombstone if it is still expired.
func (e *Engine) expireKey(p *partition, key []byte, nowMs int64) {
	p.mu.Lock()
	if ent := p.m[string(key)]; ent != nil && ent.rec.expired(nowMs) {
		p.expireLocked(ent)
	}
	p.mu.Unlock()
}

// Update atomically reads and rewrites key under its partition's lock. fn
// sees the live record (exists is false, and cur the zero Record, when the
// key is absent, deleted or expired at nowMs) and returns what to do:
//
//   - OpNone leaves the key as it is; Update returns cur.
//   - OpPut stores next with a fresh Version (next.Version and
//     next.Tombstone are ignored) and returns the stored record. A next
//     whose ExpireAt has already passed is stored as a tombstone, as if the
//     key expired at once.
//   - OpDelete replaces a live record with a tombstone stamped with a fresh
//     Version and returns the tombstone; without a live record it does
//     nothing and returns cur.
//
// The engine keeps next.Value: it must be a fresh slice that nobody modifies
// afterwards (copy bytes borrowed from a network buffer). fn runs under the
// partition's lock, so it must be quick, must not block, and must not call
// the Engine.
func (e *Engine) Update(key []byte, nowMs int64, fn func(cur Record, exists bool) (next Record, op Op)) Record {
	p := e.part(key)
	p.mu.Lock()
	defer p.mu.Unlock()
	ent := p.m[string(key)]
	var cur Record
	exists := false
	if ent != nil {
		if ent.rec.expired(nowMs) {
			p.expireLocked(ent)
		}
		if !ent.rec.Tombstone {
			cur, exists = ent.rec, true
			ent.touch(nowMs)
		}
	}
	next, op := fn(cur, exists)
	switch op {
	case OpPut:
		next.Tombstone = false
		next.Loaded = false // a client's write, even one that kept a loaded value's bytes
		next.Version = e.stampLocked(ent)
		return p.putLocked(ent, key, next, nowMs)
	case OpDelete:
		if !exists {
			return cur
		}
		t := Record{ExpireAt: nowMs, Version: e.stampLocked(ent), Tombstone: true}
		p.replaceLocked(ent, t)
		return t
	default:
		return cur
	}
}

// stampLocked returns a fresh Version for a write to ent (nil if absent):
// hlc.Now(), or one past the stored Version if that is ahead, so a key's
// versions always grow.
func (e *Engine) stampLocked(ent *entry) hlc.Timestamp {
	v := e.hlc.Now()
	if ent != nil && v <= ent.rec.Version {
		v = ent.rec.Version + 1
	}
	return v
}

// Delete replaces key's live record with a tombstone and reports whether
// there was one.
func (e *Engine) Delete(key []byte, nowMs int64) bool {
	p := e.part(key)
	p.mu.Lock()
	defer p.mu.Unlock()
	ent := p.m[string(key)]
	if ent == nil || ent.rec.Tombstone {
		return false
	}
	if ent.rec.expired(nowMs) {
		p.expireLocked(ent)
		return false
	}
	p.replaceLocked(ent, Record{ExpireAt: nowMs, Version: e.stampLocked(ent), Tombstone: true})
	return true
}

// Merge applies a record replicated from a peer: r replaces the stored
// record (tombstones included) when its Version is higher, or when the
// Versions are equal and r orders after it (tombstones first, then the later
// ExpireAt, then the greater Value bytes), so that every replica settles on
// the same record. Merge feeds r.Version to the HLC so local writes that
// follow are stamped after it. An r whose ExpireAt has passed is stored as
// its tombstone; a tombstone already past its collection time only removes
// an older record. Records with Version 0 are ignored. Merge reports whether
// r was applied; like Update, it keeps r.Value, which must not be modified
// afterwards.
func (e *Engine) Merge(key []byte, r Record) bool {
	if r.Version == 0 {
		return false
	}
	e.hlc.Update(r.Version)
	nowMs := e.clock.Now().UnixMilli()
	r = normalized(r, nowMs)
	p := e.part(key)
	p.mu.Lock()
	defer p.mu.Unlock()
	ent := p.m[string(key)]
	if ent != nil {
		if ent.rec.expired(nowMs) {
			p.expireLocked(ent)
		}
		if !newer(&r, &ent.rec) {
			return false
		}
	}
	if r.Tombstone && deadline(&r, p.tombstoneTTLMs) <= nowMs {
		if ent == nil {
			return false
		}
		p.removeLocked(ent)
		return true
	}
	p.putLocked(ent, key, r, nowMs)
	return true
}

// Len returns the number of live keys at nowMs (DBSIZE). It locks one
// partition at a time.
func (e *Engine) Len(nowMs int64) int {
	n := 0
	for i := range e.parts {
		p := &e.parts[i]
		p.mu.RLock()
		n += p.live
		if p.minDeadline.Load() <= nowMs {
			n -= p.heap.countDueLive(0, nowMs)
		}
		p.mu.RUnlock()
	}
	return n
}

// Flush drops every record, tombstones included (FLUSHALL). Writes that run
// concurrently may survive in partitions already flushed.
func (e *Engine) Flush() {
	for i := range e.parts {
		p := &e.parts[i]
		p.mu.Lock()
		p.resetLocked()
		p.mu.Unlock()
	}
}

// Stats is a snapshot of the engine's counters.
type Stats struct {
	// Keys counts records that are not tombstones, including expired ones
	// not yet collected (Len gives the exact live count).
	Keys int
	// Tombstones counts tombstones awaiting collection.
	Tombstones int
	// Expires counts the Keys that have a deadline.
	Expires int
	// ExpiredTotal counts records turned into tombstones by expiry since New.
	ExpiredTotal int64
	// UsedBytes estimates the memory held by keys, values and per-record
	// overhead, tombstones included.
	UsedBytes int64
	// EvictedTotal counts keys evicted by Reclaim since New.
	EvictedTotal int64
}

// Stats returns the engine's counters, summed one partition at a time.
func (e *Engine) Stats() Stats {
	var s Stats
	for i := range e.parts {
		p := &e.parts[i]
		p.mu.RLock()
		s.Keys += p.live
		s.Tombstones += p.tombs
		s.Expires += p.expires
		s.ExpiredTotal += p.expired
		s.UsedBytes += p.usedBytes
		p.mu.RUnlock()
	}
	s.EvictedTotal = e.evicted.Load()
	return s
}

// UsedBytes returns Stats().UsedBytes without locking: a cheap read for
// memory limits.
func (e *Engine) UsedBytes() int64 { return e.usedBytes.Load() }
