package engine

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestParsePolicy(t *testing.T) {
	for p := range numPolicies {
		for _, name := range []string{p.String(), strings.ToUpper(p.String())} {
			if got, err := ParsePolicy(name); err != nil || got != p {
				t.Errorf("ParsePolicy(%q) = %v, %v; want %v", name, got, err, p)
			}
		}
	}
	_, err := ParsePolicy("allkeys-lfu")
	if err == nil || !strings.Contains(err.Error(), "volatile-ttl") {
		t.Errorf("ParsePolicy(allkeys-lfu) = %v, want an error listing the policies", err)
	}
	if DefaultConfig().Policy != AllKeysLRU {
		t.Error("the default policy is not allkeys-lru")
	}
}

// recordBytes is what one record of key k and an n-byte value accounts.
func recordBytes(k string, n int) int64 {
	return sizeOf(k, &Record{Value: make([]byte, n)})
}

// fill writes n keys prefix0..prefix{n-1} with size-byte values, one per
// millisecond from nowMs, reclaiming after each as the store does.
func fill(t *testing.T, e *Engine, prefix string, n, size int, nowMs int64, ttl int64) []string {
	t.Helper()
	keys := make([]string, n)
	for i := range n {
		keys[i] = fmt.Sprintf("%s%d", prefix, i)
		at := nowMs + int64(i)
		exp := int64(0)
		if ttl > 0 {
			exp = at + ttl
		}
		set(e, keys[i], strings.Repeat("v", size), exp, at)
		e.Reclaim(at, nil, nil)
		if e.MaxMemory() > 0 && e.UsedBytes() > e.MaxMemory() && e.Policy() != NoEviction {
			t.Fatalf("after writing %s: UsedBytes %d over MaxMemory %d", keys[i], e.UsedBytes(), e.MaxMemory())
		}
	}
	return keys
}

// TestReclaimApproximatesLRU: keys read recently survive a wave of new
// writes; the victims are mostly the keys nobody touched; memory stays
// under the limit after every write.
func TestReclaimApproximatesLRU(t *testing.T) {
	const size = 1000
	limit := 100 * recordBytes("old00", size)
	e, _ := newTestEngine(t, func(c *Config) { c.MaxMemory = limit })
	old := fill(t, e, "old", 100, size, t0, 0)
	if e.Stats().EvictedTotal != 0 {
		t.Fatalf("evicted %d keys while under the limit", e.Stats().EvictedTotal)
	}
	hot := old[:20]
	for _, k := range hot {
		if _, ok := get(e, k, t0+10_000); !ok {
			t.Fatalf("%s missing before the limit was reached", k)
		}
	}
	fill(t, e, "new", 30, size, t0+20_000, 0)
	evicted := e.Stats().EvictedTotal
	if evicted < 30 {
		t.Fatalf("evicted %d keys for 30 new ones, want at least 30", evicted)
	}
	lostHot, lostCold := 0, 0
	for i, k := range old {
		if _, ok := get(e, k, t0+30_000); !ok {
			if i < len(hot) {
				lostHot++
			} else {
				lostCold++
			}
		}
	}
	if lostHot > 1 || int64(lostCold) < evicted-1 {
		t.Errorf("lost %d of %d recently read keys and %d cold ones (of %d evictions): not LRU-like", lostHot, len(hot), lostCold, evicted)
	}
	checkInvariants(t, e)
}

// TestReclaimRandomStaysUnderLimit: allkeys-random keeps usage under the
// limit too, and is deterministic for a seed.
func TestReclaimRandomStaysUnderLimit(t *testing.T) {
	run := func() []string {
		e, _ := newTestEngine(t, func(c *Config) {
			c.MaxMemory = 50 * recordBytes("k00", 2000)
			c.Policy = AllKeysRandom
		})
		keys := fill(t, e, "k", 200, 2000, t0, 0)
		var alive []string
		for _, k := range keys {
			if _, ok := get(e, k, t0+1000); ok {
				alive = append(alive, k)
			}
		}
		checkInvariants(t, e)
		return alive
	}
	a, b := run(), run()
	if strings.Join(a, ",") != strings.Join(b, ",") {
		t.Error("the same seed evicted different keys")
	}
	if len(a) < 30 || len(a) > 50 { // tombstones take some of the room
		t.Errorf("%d keys alive, want between 30 and 50", len(a))
	}
}

// TestEvictionLeavesReplicableTombstone: an eviction is a delete with a
// newer Version: a replica that merges the tombstone drops the key, the
// evicted record cannot come back by a merge, and the tombstone (key and
// overhead only) is collected EvictedTombstoneTTL later.
func TestEvictionLeavesReplicableTombstone(t *testing.T) {
	e, _ := newTestEngine(t, func(c *Config) { c.MaxMemory = 1 })
	replica, _ := newTestEngine(t, nil)
	live := set(e, "k", "value", 0, t0)
	replica.Merge([]byte("k"), live)
	var got []Record
	ok := e.Reclaim(t0+5, nil, func(p int, key []byte, tomb Record) {
		if string(key) != "k" || p != e.Partition(key) {
			t.Errorf("evicted %q in partition %d", key, p)
		}
		got = append(got, tomb)
	})
	if ok || len(got) != 1 {
		t.Fatalf("Reclaim = %v with %d evictions; want false (tombstones stay over 1 byte) and 1", ok, len(got))
	}
	tomb := got[0]
	if !tomb.Tombstone || tomb.Version <= live.Version {
		t.Fatalf("tombstone %+v does not outrank %+v", tomb, live)
	}
	if used := e.UsedBytes(); used != sizeOf("k", &tomb) || used != recordBytes("k", 0) {
		t.Errorf("UsedBytes %d, want the tombstone's key and overhead %d", used, recordBytes("k", 0))
	}
	if e.Merge([]byte("k"), live) {
		t.Error("the evicted record merged back")
	}
	if !replica.Merge([]byte("k"), tomb) {
		t.Fatal("the replica refused the tombstone")
	}
	if _, ok := get(replica, "k", t0+5); ok {
		t.Error("the replica still serves the evicted key")
	}
	if st := e.Stats(); st.EvictedTotal != 1 || st.Tombstones != 1 || st.Keys != 0 {
		t.Errorf("Stats = %+v", st)
	}
	evTTL := (30 * time.Second).Milliseconds()
	e.ExpireTick(t0 + 5 + evTTL - 1)
	if _, held := e.Lookup([]byte("k"), t0+5+evTTL-1); !held {
		t.Fatal("tombstone collected before EvictedTombstoneTTL")
	}
	e.ExpireTick(t0 + 5 + evTTL)
	replica.ExpireTick(t0 + 5 + evTTL)
	for _, x := range []*Engine{e, replica} {
		if _, held := x.Lookup([]byte("k"), t0+5+evTTL); held || x.UsedBytes() != 0 {
			t.Errorf("tombstone not collected at EvictedTombstoneTTL (UsedBytes %d)", x.UsedBytes())
		}
	}
	checkInvariants(t, e)
	checkInvariants(t, replica)
}

// TestReclaimNoEviction: noeviction evicts nothing and reports the engine
// over the limit until a delete makes room.
func TestReclaimNoEviction(t *testing.T) {
	e, _ := newTestEngine(t, func(c *Config) {
		c.MaxMemory = 3 * recordBytes("k0", 100)
		c.Policy = NoEviction
	})
	fill(t, e, "k", 4, 100, t0, 0)
	if e.Reclaim(t0+10, nil, nil) {
		t.Fatal("Reclaim reported room over the limit")
	}
	if st := e.Stats(); st.Keys != 4 || st.EvictedTotal != 0 {
		t.Fatalf("noeviction evicted: %+v", st)
	}
	// Tombstones keep their key and overhead: it takes three deletes to
	// get under a limit of three records.
	for _, k := range []string{"k0", "k1", "k2"} {
		e.Delete([]byte(k), t0+10)
	}
	if !e.Reclaim(t0+10, nil, nil) {
		t.Errorf("still over the limit after deletes: %d > %d", e.UsedBytes(), e.MaxMemory())
	}
}

// TestReclaimVolatile: the volatile policies evict only keys with a TTL,
// and report failure once none is left; volatile-ttl evicts the nearest
// deadline first.
func TestReclaimVolatile(t *testing.T) {
	for _, pol := range []Policy{VolatileLRU, VolatileRandom, VolatileTTL} {
		t.Run(pol.String(), func(t *testing.T) {
			e, _ := newTestEngine(t, func(c *Config) {
				c.Partitions = 1
				c.EvictionSamples = 64
				c.Policy = pol
			})
			persistent := fill(t, e, "p", 10, 100, t0, 0)
			volatile := fill(t, e, "v", 10, 100, t0+100, 1_000_000)
			// Over the limit by one record: one eviction is enough.
			e.maxMemory = e.UsedBytes() - 1
			var victims []string
			evict := func(_ int, key []byte, _ Record) { victims = append(victims, string(key)) }
			if !e.Reclaim(t0+200, nil, evict) || len(victims) != 1 || !strings.HasPrefix(victims[0], "v") {
				t.Fatalf("victims %v, want one key with a TTL", victims)
			}
			if pol == VolatileTTL && victims[0] != volatile[0] {
				t.Errorf("volatile-ttl evicted %s, not the nearest deadline %s", victims[0], volatile[0])
			}
			e.maxMemory = 1
			if e.Reclaim(t0+200, nil, evict) {
				t.Fatal("Reclaim reported room with only persistent keys left")
			}
			if len(victims) != len(volatile) {
				t.Errorf("evicted %d keys, want the %d with a TTL", len(victims), len(volatile))
			}
			for _, k := range persistent {
				if _, ok := get(e, k, t0+200); !ok {
					t.Errorf("persistent key %s evicted", k)
				}
			}
			checkInvariants(t, e)
		})
	}
}

// TestReclaimPrefersGivenPartitions: prefer's partitions are emptied
// first; the others only after.
func TestReclaimPrefersGivenPartitions(t *testing.T) {
	e, _ := newTestEngine(t, nil)
	keys := fill(t, e, "k", 200, 100, t0, 0)
	target := e.Partition([]byte(keys[0]))
	inTarget := 0
	for _, k := range keys {
		if e.Partition([]byte(k)) == target {
			inTarget++
		}
	}
	e.maxMemory = e.UsedBytes() - int64(inTarget)*100 - 1
	var parts []int
	e.Reclaim(t0+1000, func(p int) bool { return p == target }, func(p int, _ []byte, _ Record) { parts = append(parts, p) })
	for i, p := range parts {
		if p != target && i < inTarget {
			t.Fatalf("eviction %d from partition %d before partition %d was empty (%d keys)", i, p, target, inTarget)
		}
	}
	if len(parts) <= inTarget {
		t.Errorf("%d evictions, want more than the %d in the preferred partition", len(parts), inTarget)
	}
}

// TestGetTouches: reads and writes stamp the access time eviction uses.
func TestGetTouches(t *testing.T) {
	e, _ := newTestEngine(t, nil)
	set(e, "k", "v", 0, t0)
	ent := e.part([]byte("k")).m["k"]
	if got := ent.idle(t0 + 500); got != 500 {
		t.Fatalf("idle after a write = %d, want 500", got)
	}
	get(e, "k", t0+400)
	if got := ent.idle(t0 + 500); got != 100 {
		t.Errorf("idle after a read = %d, want 100", got)
	}
}

// TestSnapshotKeepsEvictionTombstones: a snapshot round trip keeps an
// eviction's tombstone and its early collection time.
func TestSnapshotKeepsEvictionTombstones(t *testing.T) {
	e, _ := newTestEngine(t, func(c *Config) { c.MaxMemory = 5 * recordBytes("k0", 2000) })
	fill(t, e, "k", 10, 2000, t0, 0)
	path := filepath.Join(t.TempDir(), "snap")
	if _, err := e.SaveSnapshot(path); err != nil {
		t.Fatal(err)
	}
	f, _ := newTestEngine(t, nil)
	if _, err := f.LoadSnapshot(path); err != nil {
		t.Fatal(err)
	}
	for p := range e.Partitions() {
		if e.Root(p) != f.Root(p) {
			t.Fatalf("partition %d differs after the round trip", p)
		}
	}
	if st := f.Stats(); st.Tombstones == 0 || st.Tombstones != e.Stats().Tombstones {
		t.Fatalf("loaded %d tombstones, saved %d", st.Tombstones, e.Stats().Tombstones)
	}
	f.ExpireTick(t0 + 10 + (30 * time.Second).Milliseconds())
	if st := f.Stats(); st.Tombstones != 0 {
		t.Errorf("%d eviction tombstones outlived EvictedTombstoneTTL after loading", st.Tombstones)
	}
	checkInvariants(t, f)
}
