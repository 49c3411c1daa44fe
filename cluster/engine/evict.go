package engine

import (
	"fmt"
	"math/rand/v2"
	"strings"

	"corral/cluster/hlc"
)

// Policy is what Reclaim evicts when the engine is over Config.MaxMemory.
// The names (String, ParsePolicy) are Redis's maxmemory-policy names.
type Policy uint8

const (
	// AllKeysLRU evicts the least recently used key of a sample: the
	// default, since corral is a cache.
	AllKeysLRU Policy = iota
	// AllKeysRandom evicts random keys.
	AllKeysRandom
	// VolatileLRU evicts the least recently used key with a TTL of a
	// sample.
	VolatileLRU
	// VolatileRandom evicts random keys with a TTL.
	VolatileRandom
	// VolatileTTL evicts the key with the nearest deadline of a sample.
	VolatileTTL
	// NoEviction evicts nothing: writes are refused while over the limit.
	NoEviction

	numPolicies
)

// String returns p's Redis name, such as "allkeys-lru".
func (p Policy) String() string {
	switch p {
	case AllKeysLRU:
		return "allkeys-lru"
	case AllKeysRandom:
		return "allkeys-random"
	case VolatileLRU:
		return "volatile-lru"
	case VolatileRandom:
		return "volatile-random"
	case VolatileTTL:
		return "volatile-ttl"
	case NoEviction:
		return "noeviction"
	}
	return fmt.Sprintf("Policy(%d)", uint8(p))
}

// ParsePolicy returns the Policy named name (Redis's names, any case).
func ParsePolicy(name string) (Policy, error) {
	names := make([]string, 0, numPolicies)
	for p := range numPolicies {
		if strings.EqualFold(name, p.String()) {
			return p, nil
		}
		names = append(names, p.String())
	}
	return 0, fmt.Errorf("engine: unknown maxmemory policy %q (use one of %s)", name, strings.Join(names, ", "))
}

// volatile reports whether p evicts only keys with a TTL.
func (p Policy) volatile() bool {
	return p == VolatileLRU || p == VolatileRandom || p == VolatileTTL
}

// maxEvictMisses bounds how many candidates in a row Reclaim may lose to
// concurrent writes before it gives up for this call.
const maxEvictMisses = 64

// MaxMemory returns Config.MaxMemory (0: no limit).
func (e *Engine) MaxMemory() int64 { return e.maxMemory }

// Policy returns Config.Policy.
func (e *Engine) Policy() Policy { return e.policy }

// Reclaim brings UsedBytes down to MaxMemory, evicting keys as Policy
// says, and reports whether UsedBytes is at most MaxMemory afterwards
// (always true without a limit; false when the policy is NoEviction or
// finds nothing left to evict). Each victim is picked from
// Config.EvictionSamples random live keys (with a TTL, for the volatile
// policies): the least recently accessed (LRU), the one whose deadline is
// nearest (VolatileTTL), or the first (random policies), as Redis does.
//
// An eviction is a delete: the key's record becomes a tombstone with a
// fresh Version, which the caller replicates like any delete so that every
// owner drops the key and anti-entropy does not copy it back. Its death
// time is set so that it is collected EvictedTombstoneTTL after the
// eviction, everywhere. An eviction frees the value's bytes at once, and
// the tombstone's (key and overhead) when collected.
//
// prefer, when not nil, names the partitions to evict from first (a
// cluster node's primary partitions, whose reads it sees); the others are
// sampled only when those have nothing left to evict. fn, when not nil, is
// called with each eviction's partition, key and tombstone, with no
// partition lock held; it must not call Reclaim. Concurrent calls run one
// at a time.
func (e *Engine) Reclaim(nowMs int64, prefer func(p int) bool, fn func(p int, key []byte, tomb Record)) bool {
	if e.maxMemory == 0 || e.usedBytes.Load() <= e.maxMemory {
		return true
	}
	if e.policy == NoEviction {
		return false
	}
	e.evictMu.Lock()
	defer e.evictMu.Unlock()
	include, misses := prefer, 0
	for e.usedBytes.Load() > e.maxMemory {
		c, ok := e.sampleLocked(nowMs, include)
		if !ok {
			if include == nil {
				return false
			}
			include = nil
			continue
		}
		t, ok := e.evict(c, nowMs)
		if !ok {
			if misses++; misses > maxEvictMisses {
				break
			}
			continue
		}
		misses = 0
		e.evicted.Add(1)
		if fn != nil {
			fn(c.part, []byte(c.key), t)
		}
	}
	return e.usedBytes.Load() <= e.maxMemory
}

// candidate is a sampled eviction victim, as it was when sampled.
type candidate struct {
	part     int
	key      string
	version  hlc.Timestamp
	idle     uint32 // ms since last access (mod 2^32)
	expireAt int64
}

// sampleLocked picks the policy's victim among up to EvictionSamples
// random eligible records of the partitions include admits (nil: all).
// It reports false when there is none. Callers hold evictMu, which
// guards rnd.
func (e *Engine) sampleLocked(nowMs int64, include func(p int) bool) (candidate, bool) {
	n := e.samples
	if e.policy == AllKeysRandom || e.policy == VolatileRandom {
		n = 1
	}
	var best candidate
	found := false
	for range n {
		c, ok := e.pickLocked(nowMs, include)
		if !ok {
			break
		}
		if !found || e.better(&c, &best) {
			best, found = c, true
		}
	}
	return best, found
}

// better reports whether a is a better victim than b under the policy.
func (e *Engine) better(a, b *candidate) bool {
	if e.policy == VolatileTTL {
		return a.expireAt < b.expireAt
	}
	return a.idle > b.idle
}

// pickLocked returns one random eligible record: a random one of a random
// partition, walking on to the next partitions while they hold none.
func (e *Engine) pickLocked(nowMs int64, include func(p int) bool) (candidate, bool) {
	volatile := e.policy.volatile()
	n := len(e.parts)
	start := e.rnd.IntN(n)
	for i := range n {
		pi := (start + i) % n
		if include != nil && !include(pi) {
			continue
		}
		p := &e.parts[pi]
		p.mu.RLock()
		ent := p.randomLocked(e.rnd, volatile)
		var c candidate
		if ent != nil {
			c = candidate{part: pi, key: ent.key, version: ent.rec.Version, idle: ent.idle(nowMs), expireAt: ent.rec.ExpireAt}
		}
		p.mu.RUnlock()
		if ent != nil {
			return c, true
		}
	}
	return candidate{}, false
}

// randomLocked returns a random record of p that is not a tombstone (and
// has a deadline, if volatile), or nil if p holds none.
func (p *partition) randomLocked(r *rand.Rand, volatile bool) *entry {
	want := p.live
	if volatile {
		want = p.expires
	}
	if want == 0 {
		return nil
	}
	ok := func(ent *entry) bool { return !ent.rec.Tombstone && (!volatile || ent.rec.ExpireAt != 0) }
	n := len(p.all)
	for range 4 {
		if ent := p.all[r.IntN(n)]; ok(ent) {
			return ent
		}
	}
	start := r.IntN(n)
	for i := range n {
		if ent := p.all[(start+i)%n]; ok(ent) {
			return ent
		}
	}
	return nil
}

// evict turns candidate c's record into an eviction tombstone, unless it
// changed since it was sampled, and returns the tombstone. A record found
// expired becomes its expiry tombstone instead (and false is returned).
func (e *Engine) evict(c candidate, nowMs int64) (Record, bool) {
	p := &e.parts[c.part]
	p.mu.Lock()
	defer p.mu.Unlock()
	ent := p.m[c.key]
	if ent == nil || ent.rec.Tombstone || ent.rec.Version != c.version {
		return Record{}, false
	}
	if ent.rec.expired(nowMs) {
		p.expireLocked(ent)
		return Record{}, false
	}
	t := Record{
		ExpireAt:  max(nowMs-p.tombstoneTTLMs+e.evictedTTLMs, 1),
		Version:   e.stampLocked(ent),
		Tombstone: true,
	}
	p.replaceLocked(ent, t)
	return t, true
}
