package engine

import (
	"testing"

	"corral/cluster/hlc"
)

func TestNewer(t *testing.T) {
	v1, v2 := hlc.FromWall(t0, 1), hlc.FromWall(t0, 2)
	live := func(v hlc.Timestamp, val string, exp int64) Record {
		return Record{Value: []byte(val), ExpireAt: exp, Version: v}
	}
	tomb := func(v hlc.Timestamp, died int64) Record {
		return Record{ExpireAt: died, Version: v, Tombstone: true}
	}
	tests := []struct {
		name string
		a, b Record
		want bool // a replaces b
	}{
		{"higher version wins", live(v2, "a", 0), live(v1, "z", 0), true},
		{"lower version loses", live(v1, "z", 0), live(v2, "a", 0), false},
		{"tombstone with higher version wins", tomb(v2, t0), live(v1, "a", 0), true},
		{"older write never resurrects a tombstone", live(v1, "a", 0), tomb(v2, t0), false},
		{"tie: tombstone beats live", tomb(v1, t0), live(v1, "a", 0), true},
		{"tie: live loses to tombstone", live(v1, "a", 0), tomb(v1, t0), false},
		{"tie: later expiry wins", live(v1, "a", t0+10), live(v1, "b", t0+5), true},
		{"tie: no expiry loses to an expiry", live(v1, "b", 0), live(v1, "a", 1), false},
		{"tie: greater bytes win", live(v1, "b", 0), live(v1, "a", 0), true},
		{"tie: smaller bytes lose", live(v1, "a", 0), live(v1, "b", 0), false},
		{"tie: longer value wins over its prefix", live(v1, "ab", 0), live(v1, "a", 0), true},
		{"tie: later death wins among tombstones", tomb(v1, t0+1), tomb(v1, t0), true},
		{"identical is not newer", live(v1, "a", 0), live(v1, "a", 0), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := newer(&tt.a, &tt.b); got != tt.want {
				t.Fatalf("newer = %v, want %v", got, tt.want)
			}
			if tt.want && newer(&tt.b, &tt.a) {
				t.Fatal("order is not antisymmetric")
			}
		})
	}
}

func TestNormalized(t *testing.T) {
	v := hlc.FromWall(t0-50, 0)
	tests := []struct {
		name string
		in   Record
		want Record
	}{
		{"live without ttl unchanged", Record{Value: []byte("x"), Version: v}, Record{Value: []byte("x"), Version: v}},
		{"live before deadline unchanged", Record{Value: []byte("x"), ExpireAt: t0 + 1, Version: v},
			Record{Value: []byte("x"), ExpireAt: t0 + 1, Version: v}},
		{"expired at deadline", Record{Value: []byte("x"), ExpireAt: t0, Version: v},
			Record{ExpireAt: t0, Version: v, Tombstone: true}},
		{"tombstone drops value", Record{Value: []byte("x"), ExpireAt: t0 - 5, Version: v, Tombstone: true},
			Record{ExpireAt: t0 - 5, Version: v, Tombstone: true}},
		{"tombstone without death time dies at its version", Record{Version: v, Tombstone: true},
			Record{ExpireAt: t0 - 50, Version: v, Tombstone: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := normalized(tt.in, t0)
			if string(got.Value) != string(tt.want.Value) || got.ExpireAt != tt.want.ExpireAt ||
				got.Version != tt.want.Version || got.Tombstone != tt.want.Tombstone {
				t.Fatalf("normalized = %+v, want %+v", got, tt.want)
			}
		})
	}
}
