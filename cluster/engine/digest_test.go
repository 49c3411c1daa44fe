package engine

import (
	"fmt"
	"slices"
	"testing"
)

// TestDigestsCompareReplicas: two engines fed the same records agree on
// every root and bucket; a single differing record shows up in exactly its
// partition's root, its bucket, and BucketKeys of that bucket.
func TestDigestsCompareReplicas(t *testing.T) {
	a, fc := newTestEngine(t, nil)
	b, _ := newTestEngine(t, nil)
	now := fc.Now().UnixMilli()
	for i := range 1000 {
		r := set(a, fmt.Sprintf("k%d", i), fmt.Sprintf("v%d", i), 0, now)
		b.Merge([]byte(fmt.Sprintf("k%d", i)), r)
	}
	for p := range a.Partitions() {
		if a.Root(p) != b.Root(p) || !slices.Equal(a.Buckets(p), b.Buckets(p)) {
			t.Fatalf("partition %d differs between identical replicas", p)
		}
	}
	if a.Root(0) == 0 {
		t.Fatal("Root of a non-empty partition is 0")
	}

	// Same Version, different bytes: still a difference.
	key := []byte("k7")
	r, _ := a.Lookup(key, now)
	r2 := r
	r2.Value = []byte("zz")
	if !b.Merge(key, r2) { // orders after "v7", so b takes it
		t.Fatal("Merge refused a record ordering after the stored one")
	}
	p := a.Partition(key)
	for q := range a.Partitions() {
		if differ := a.Root(q) != b.Root(q); differ != (q == p) {
			t.Errorf("partition %d: roots differ = %v, want %v", q, differ, q == p)
		}
	}
	ab, bb := a.Buckets(p), b.Buckets(p)
	var diff []int
	for i := range ab {
		if ab[i] != bb[i] {
			diff = append(diff, i)
		}
	}
	if len(diff) != 1 || diff[0] != bucketOf("k7") {
		t.Fatalf("differing buckets %v, want [%d]", diff, bucketOf("k7"))
	}
	ka, kb := a.BucketKeys(p, diff), b.BucketKeys(p, diff)
	if len(ka) != len(kb) || len(ka) == 0 {
		t.Fatalf("BucketKeys: %d vs %d entries", len(ka), len(kb))
	}
	found := false
	for _, x := range ka {
		for _, y := range kb {
			if x.Key == y.Key && x.Hash != y.Hash {
				found = x.Key == "k7"
			}
		}
	}
	if !found {
		t.Error("BucketKeys does not single out k7")
	}
	checkInvariants(t, a)
	checkInvariants(t, b)
}

// TestDigestsFollowEveryChange: puts, overwrites, deletes, expiry, tombstone
// collection, DropPartition and Flush keep the digests equal to a
// recomputation (checkInvariants), and deleting what was added brings a
// partition back to an empty root.
func TestDigestsFollowEveryChange(t *testing.T) {
	e, fc := newTestEngine(t, func(c *Config) { c.Partitions = 4 })
	now := fc.Now().UnixMilli()
	set(e, "a", "1", 0, now)
	set(e, "b", "2", now+10, now)
	set(e, "a", "3", 0, now)
	e.Delete([]byte("a"), now)
	checkInvariants(t, e)
	fc.Advance(20e6) // 20ms: b expires
	e.ExpireTick(fc.Now().UnixMilli())
	checkInvariants(t, e)
	if r, ok := e.Lookup([]byte("b"), fc.Now().UnixMilli()); !ok || !r.Tombstone {
		t.Fatalf("Lookup(b) after expiry = %+v, %v; want its tombstone", r, ok)
	}
	fc.Advance(2 * 3600e9) // past the tombstone TTL: both collected
	for range 10 {
		e.ExpireTick(fc.Now().UnixMilli())
	}
	checkInvariants(t, e)
	for p := range e.Partitions() {
		if e.Root(p) != 0 || e.PartitionRecordCount(p) != 0 {
			t.Errorf("partition %d: root %x, %d records after everything was collected", p, e.Root(p), e.PartitionRecordCount(p))
		}
	}
	set(e, "c", "1", 0, fc.Now().UnixMilli())
	p := e.Partition([]byte("c"))
	e.DropPartition(p)
	if e.Root(p) != 0 || e.PartitionRecordCount(p) != 0 {
		t.Errorf("DropPartition left root %x", e.Root(p))
	}
	checkInvariants(t, e)
}
