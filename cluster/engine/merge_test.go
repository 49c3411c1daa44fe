package engine

import (
	"testing"
	"time"

	"corral/cluster/hlc"
)

func TestMerge(t *testing.T) {
	v := func(n uint16) hlc.Timestamp { return hlc.FromWall(t0-1000, n) }
	live := func(n uint16, val string) Record { return Record{Value: []byte(val), Version: v(n)} }
	tomb := func(n uint16) Record { return Record{Version: v(n), Tombstone: true} }
	type apply struct {
		r    Record
		want bool // applied
	}
	tests := []struct {
		name    string
		applies []apply
		want    string // final Get, "-" if absent
		tombs   int    // tombstones stored at the end
	}{
		{"first write applies", []apply{{live(1, "a"), true}}, "a", 0},
		{"newer replaces", []apply{{live(1, "a"), true}, {live(2, "b"), true}}, "b", 0},
		{"older is ignored", []apply{{live(2, "b"), true}, {live(1, "a"), false}}, "b", 0},
		{"duplicate is ignored", []apply{{live(1, "a"), true}, {live(1, "a"), false}}, "a", 0},
		{"tie: greater bytes win whatever the order",
			[]apply{{live(1, "b"), true}, {live(1, "a"), false}}, "b", 0},
		{"tie: greater bytes win, reversed",
			[]apply{{live(1, "a"), true}, {live(1, "b"), true}}, "b", 0},
		{"tombstone on absent key is kept", []apply{{tomb(1), true}}, "-", 1},
		{"newer tombstone deletes", []apply{{live(1, "a"), true}, {tomb(2), true}}, "-", 1},
		{"tombstones never resurrect data: older write after delete",
			[]apply{{tomb(2), true}, {live(1, "a"), false}}, "-", 1},
		{"tie: tombstone wins over a live write",
			[]apply{{live(1, "a"), true}, {tomb(1), true}, {live(1, "z"), false}}, "-", 1},
		{"newer write after a tombstone revives the key",
			[]apply{{tomb(1), true}, {live(2, "b"), true}}, "b", 0},
		{"version zero is ignored", []apply{{Record{Value: []byte("x")}, false}}, "-", 0},
		{"expired record acts as a tombstone",
			[]apply{{live(1, "a"), true}, {Record{Value: []byte("b"), ExpireAt: t0 - 1, Version: v(2)}, true},
				{live(1, "c"), false}}, "-", 1},
		{"older collectable tombstone loses",
			[]apply{{live(1, "a"), true}, {Record{Version: hlc.FromWall(t0-2*3_600_000, 0), Tombstone: true}, false}},
			"a", 0},
		{"collectable tombstone on an absent key is dropped",
			[]apply{{Record{Version: hlc.FromWall(t0-2*3_600_000, 0), Tombstone: true}, false}}, "-", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, _ := newTestEngine(t, nil)
			for i, a := range tt.applies {
				if got := e.Merge([]byte("k"), a.r); got != a.want {
					t.Fatalf("apply %d: Merge = %v, want %v", i, got, a.want)
				}
			}
			got, ok := get(e, "k", t0)
			if !ok {
				got = "-"
			}
			if got != tt.want {
				t.Errorf("Get = %q, want %q", got, tt.want)
			}
			if s := e.Stats(); s.Tombstones != tt.tombs {
				t.Errorf("tombstones = %d, want %d", s.Tombstones, tt.tombs)
			}
			checkInvariants(t, e)
		})
	}
}

func TestMergeOldTombstoneRemovesOlderRecord(t *testing.T) {
	e, _ := newTestEngine(t, nil)
	old := hlc.FromWall(t0-3*3_600_000, 0)
	if !e.Merge([]byte("k"), Record{Value: []byte("a"), Version: old}) {
		t.Fatal("first Merge rejected")
	}
	if !e.Merge([]byte("k"), Record{Version: old + 1, Tombstone: true}) {
		t.Fatal("collectable but newer tombstone not applied")
	}
	if s := e.Stats(); s.Keys != 0 || s.Tombstones != 0 || s.UsedBytes != 0 {
		t.Fatalf("stats = %+v, want nothing stored", s)
	}
}

// TestMergeReplicasConverge applies the same records in different orders to
// two engines and expects identical contents.
func TestMergeReplicasConverge(t *testing.T) {
	v := func(n uint16) hlc.Timestamp { return hlc.FromWall(t0-1000, n) }
	records := []Record{
		{Value: []byte("a"), Version: v(1)},
		{Value: []byte("b"), Version: v(3)},
		{Value: []byte("c"), Version: v(3)},
		{Version: v(2), Tombstone: true},
		{Value: []byte("d"), Version: v(3), ExpireAt: t0 + 50},
	}
	a, _ := newTestEngine(t, nil)
	b, _ := newTestEngine(t, nil)
	for i := range records {
		a.Merge([]byte("k"), records[i])
		b.Merge([]byte("k"), records[len(records)-1-i])
	}
	ra, _ := a.Get([]byte("k"), t0)
	rb, _ := b.Get([]byte("k"), t0)
	if ra.Version != rb.Version || string(ra.Value) != string(rb.Value) || ra.ExpireAt != rb.ExpireAt {
		t.Fatalf("replicas diverged: %+v vs %+v", ra, rb)
	}
	if string(ra.Value) != "d" {
		t.Fatalf("winner = %q, want d (later expiry on a tie)", ra.Value)
	}
}

func TestMergeAdvancesHLC(t *testing.T) {
	e, _ := newTestEngine(t, nil)
	remote := hlc.FromWall(t0+2000, 5) // within MaxDrift
	e.Merge([]byte("other"), Record{Value: []byte("x"), Version: remote})
	r := set(e, "k", "v", 0, t0)
	if r.Version <= remote {
		t.Fatalf("local version %v not after received %v", r.Version, remote)
	}
}

func TestMergedExpiryTurnsIntoTombstoneWithSameVersion(t *testing.T) {
	e, fc := newTestEngine(t, nil)
	ver := hlc.FromWall(t0-10, 0)
	e.Merge([]byte("k"), Record{Value: []byte("v"), ExpireAt: t0 + 100, Version: ver})
	fc.Advance(100 * time.Millisecond)
	var got Record
	e.PartitionRecords(e.Partition([]byte("k")), func(_ []byte, r Record) bool { got = r; return false })
	want := Record{ExpireAt: t0 + 100, Version: ver, Tombstone: true}
	if got.Tombstone != want.Tombstone || got.Version != want.Version || got.ExpireAt != want.ExpireAt || got.Value != nil {
		t.Fatalf("record after deadline = %+v, want %+v", got, want)
	}
}
