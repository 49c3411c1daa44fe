package engine

import (
	"math/rand/v2"
	"testing"
	"time"

	"corral/internal/clock"
)

// t0 is the fake clock's start, in unix ms.
const t0 = int64(1_700_000_000_000)

// newTestEngine returns an Engine on a fake clock at t0, with cfg adjusted by
// tweak (may be nil).
func newTestEngine(t testing.TB, tweak func(*Config)) (*Engine, *clock.Fake) {
	t.Helper()
	fc := clock.NewFake(time.UnixMilli(t0))
	cfg := DefaultConfig()
	cfg.Partitions = 16
	cfg.Clock = fc
	cfg.Rand = rand.New(rand.NewPCG(1, 2))
	if tweak != nil {
		tweak(&cfg)
	}
	e, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return e, fc
}

// set stores value under key with the given deadline (0: none).
func set(e *Engine, key, value string, expireAt, nowMs int64) Record {
	return e.Update([]byte(key), nowMs, func(Record, bool) (Record, Op) {
		return Record{Value: []byte(value), ExpireAt: expireAt}, OpPut
	})
}

// get returns key's live value and whether it exists.
func get(e *Engine, key string, nowMs int64) (string, bool) {
	r, ok := e.Get([]byte(key), nowMs)
	return string(r.Value), ok
}

// checkInvariants verifies every partition's counters and heap against its
// map.
func checkInvariants(t *testing.T, e *Engine) {
	t.Helper()
	var total int64
	for pi := range e.parts {
		p := &e.parts[pi]
		p.mu.RLock()
		live, tombs, expires, inHeap := 0, 0, 0, 0
		var bytes int64
		var buckets [DigestBuckets]uint64
		var root uint64
		for k, ent := range p.m {
			if h := recordHash(k, &ent.rec); ent.hash != h || int(ent.bucket) != bucketOf(k) {
				t.Errorf("key %q: cached hash %x bucket %d, want %x %d", k, ent.hash, ent.bucket, h, bucketOf(k))
			}
			buckets[ent.bucket] ^= ent.hash
			root ^= ent.hash
			if ent.key != k {
				t.Errorf("partition %d: entry key %q under map key %q", pi, ent.key, k)
			}
			if e.Partition([]byte(k)) != pi {
				t.Errorf("key %q in partition %d, belongs in %d", k, pi, e.Partition([]byte(k)))
			}
			switch {
			case ent.rec.Tombstone:
				tombs++
			case ent.rec.ExpireAt != 0:
				live++
				expires++
			default:
				live++
			}
			bytes += sizeOf(k, &ent.rec)
			d := deadline(&ent.rec, p.tombstoneTTLMs)
			switch {
			case d == 0 && ent.hi >= 0:
				t.Errorf("key %q without deadline is in the heap", k)
			case d != 0 && (ent.hi < 0 || int(ent.hi) >= len(p.heap) || p.heap[ent.hi].ent != ent):
				t.Errorf("key %q with deadline is not in the heap at %d", k, ent.hi)
			case d != 0:
				inHeap++
				if got := p.heap[ent.hi].deadline; got != d {
					t.Errorf("key %q heap deadline %d, want %d", k, got, d)
				}
			}
		}
		if len(p.all) != len(p.m) {
			t.Errorf("partition %d: sampling slice holds %d, map %d", pi, len(p.all), len(p.m))
		}
		for i, ent := range p.all {
			if int(ent.si) != i || p.m[ent.key] != ent {
				t.Errorf("partition %d: sampling slot %d holds %q (si %d), not the map's entry", pi, i, ent.key, ent.si)
			}
		}
		if inHeap != len(p.heap) {
			t.Errorf("partition %d: heap holds %d, map has %d with deadlines", pi, len(p.heap), inHeap)
		}
		for i := 1; i < len(p.heap); i++ {
			if p.heap[(i-1)/2].deadline > p.heap[i].deadline {
				t.Errorf("partition %d: heap order broken at %d", pi, i)
			}
		}
		wantMin := int64(noDeadline)
		if len(p.heap) > 0 {
			wantMin = p.heap[0].deadline
		}
		if got := p.minDeadline.Load(); got != wantMin {
			t.Errorf("partition %d: minDeadline %d, want %d", pi, got, wantMin)
		}
		if live != p.live || tombs != p.tombs || expires != p.expires || bytes != p.usedBytes {
			t.Errorf("partition %d: counters live=%d tombs=%d expires=%d bytes=%d, map says %d %d %d %d",
				pi, p.live, p.tombs, p.expires, p.usedBytes, live, tombs, expires, bytes)
		}
		var gotRoot uint64
		var gotBuckets [DigestBuckets]uint64
		if p.dig != nil {
			gotRoot, gotBuckets = p.dig.root, p.dig.buckets
		}
		if gotRoot != root || gotBuckets != buckets {
			t.Errorf("partition %d: digests out of step with the map (root %x, want %x)", pi, gotRoot, root)
		}
		total += p.usedBytes
		p.mu.RUnlock()
	}
	if got := e.UsedBytes(); got != total {
		t.Errorf("UsedBytes() = %d, partitions sum to %d", got, total)
	}
}
