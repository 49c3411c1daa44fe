package engine

import (
	"fmt"
	"strconv"
	"strings"
	"testing"

	"corral/cluster/hlc"
)

func TestUpdateOps(t *testing.T) {
	type step struct {
		op        Op
		val       string
		expireAt  int64
		wantSeen  string // value fn saw, "-" if it saw no live record
		wantValue string // Get afterwards, "-" if absent
	}
	tests := []struct {
		name  string
		steps []step
	}{
		{"put on absent", []step{
			{OpPut, "a", 0, "-", "a"},
		}},
		{"put overwrites", []step{
			{OpPut, "a", 0, "-", "a"},
			{OpPut, "b", 0, "a", "b"},
		}},
		{"none leaves absent", []step{
			{OpNone, "a", 0, "-", "-"},
		}},
		{"none leaves value", []step{
			{OpPut, "a", 0, "-", "a"},
			{OpNone, "zzz", 0, "a", "a"},
		}},
		{"delete live", []step{
			{OpPut, "a", 0, "-", "a"},
			{OpDelete, "", 0, "a", "-"},
			{OpNone, "", 0, "-", "-"},
		}},
		{"delete absent is a no-op", []step{
			{OpDelete, "", 0, "-", "-"},
		}},
		{"put after delete", []step{
			{OpPut, "a", 0, "-", "a"},
			{OpDelete, "", 0, "a", "-"},
			{OpPut, "b", 0, "-", "b"},
		}},
		{"put with a passed deadline deletes", []step{
			{OpPut, "a", 0, "-", "a"},
			{OpPut, "b", t0, "a", "-"},
			{OpNone, "", 0, "-", "-"},
		}},
		{"put with a future deadline", []step{
			{OpPut, "a", t0 + 1, "-", "a"},
			{OpPut, "b", t0 + 1, "a", "b"},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, _ := newTestEngine(t, nil)
			key := []byte("k")
			var lastVersion hlc.Timestamp
			for i, s := range tt.steps {
				seen := "-"
				got := e.Update(key, t0, func(cur Record, exists bool) (Record, Op) {
					if exists {
						seen = string(cur.Value)
					} else if cur.Version != 0 || cur.Value != nil {
						t.Errorf("step %d: cur %+v without exists", i, cur)
					}
					return Record{Value: []byte(s.val), ExpireAt: s.expireAt, Version: 1, Tombstone: true}, s.op
				})
				if seen != s.wantSeen {
					t.Errorf("step %d: fn saw %q, want %q", i, seen, s.wantSeen)
				}
				if s.op == OpNone && string(got.Value) != strings.TrimPrefix(s.wantSeen, "-") {
					t.Errorf("step %d: OpNone returned %q, want the current %q", i, got.Value, s.wantSeen)
				}
				wrote := s.op == OpPut || (s.op == OpDelete && s.wantSeen != "-")
				if wrote {
					if got.Version <= lastVersion {
						t.Errorf("step %d: version %v not after %v", i, got.Version, lastVersion)
					}
					lastVersion = got.Version
				}
				v, ok := get(e, "k", t0)
				if !ok {
					v = "-"
				}
				if v != s.wantValue {
					t.Errorf("step %d: Get = %q, want %q", i, v, s.wantValue)
				}
				if ok {
					if r, _ := e.Get(key, t0); r.Version != got.Version || string(r.Value) != string(got.Value) {
						t.Errorf("step %d: Update returned %+v, Get %+v", i, got, r)
					}
				}
			}
			checkInvariants(t, e)
		})
	}
}

func TestLazyExpiry(t *testing.T) {
	e, _ := newTestEngine(t, nil)
	set(e, "k", "v", t0+100, t0)
	tests := []struct {
		now  int64
		want bool
	}{
		{t0, true},
		{t0 + 99, true},
		{t0 + 100, false},
		{t0 + 99, false}, // lazily expired: a stale clock cannot bring it back
	}
	for _, tt := range tests {
		if _, ok := get(e, "k", tt.now); ok != tt.want {
			t.Fatalf("Get at +%d = %v, want %v", tt.now-t0, ok, tt.want)
		}
	}
	s := e.Stats()
	if s.Keys != 0 || s.Tombstones != 1 || s.ExpiredTotal != 1 {
		t.Fatalf("stats after lazy expiry = %+v", s)
	}
	checkInvariants(t, e)
}

func TestUpdateSeesExpiredAsAbsent(t *testing.T) {
	e, _ := newTestEngine(t, nil)
	set(e, "k", "v", t0+10, t0)
	e.Update([]byte("k"), t0+10, func(cur Record, exists bool) (Record, Op) {
		if exists {
			t.Error("fn saw an expired record")
		}
		return Record{}, OpNone
	})
	if e.Stats().ExpiredTotal != 1 {
		t.Fatal("Update did not expire the record")
	}
}

func TestDelete(t *testing.T) {
	e, _ := newTestEngine(t, nil)
	set(e, "live", "v", 0, t0)
	set(e, "expiring", "v", t0+5, t0)
	tests := []struct {
		key  string
		now  int64
		want bool
	}{
		{"live", t0, true},
		{"live", t0, false},
		{"absent", t0, false},
		{"expiring", t0 + 5, false},
	}
	for _, tt := range tests {
		if got := e.Delete([]byte(tt.key), tt.now); got != tt.want {
			t.Errorf("Delete(%q) = %v, want %v", tt.key, got, tt.want)
		}
	}
	if _, ok := get(e, "live", t0); ok {
		t.Fatal("deleted key still readable")
	}
	var tomb Record
	e.PartitionRecords(e.Partition([]byte("live")), func(k []byte, r Record) bool {
		if string(k) == "live" {
			tomb = r
		}
		return true
	})
	if !tomb.Tombstone || tomb.ExpireAt != t0 || tomb.Value != nil {
		t.Fatalf("tombstone = %+v", tomb)
	}
	checkInvariants(t, e)
}

func TestVersionsOutrunAStoredFutureVersion(t *testing.T) {
	e, _ := newTestEngine(t, nil)
	future := hlc.FromWall(t0+3_600_000, 0) // an hour ahead: the HLC clamps it
	if !e.Merge([]byte("k"), Record{Value: []byte("remote"), Version: future}) {
		t.Fatal("Merge rejected")
	}
	r := set(e, "k", "local", 0, t0)
	if r.Version <= future {
		t.Fatalf("local write version %v not after stored %v", r.Version, future)
	}
	if v, _ := get(e, "k", t0); v != "local" {
		t.Fatalf("Get = %q", v)
	}
}

func TestLenAndStats(t *testing.T) {
	e, _ := newTestEngine(t, nil)
	for i := range 100 {
		exp := int64(0)
		if i%4 == 0 {
			exp = t0 + int64(i) + 1 // keys 0,4,...,96 expire at +1,+5,...,+97
		}
		set(e, "k"+strconv.Itoa(i), "v", exp, t0)
	}
	for i := 1; i < 100; i += 10 {
		e.Delete([]byte("k"+strconv.Itoa(i)), t0)
	}
	tests := []struct {
		now  int64
		want int
	}{
		{t0, 90},
		{t0 + 1, 89},
		{t0 + 50, 77},
		{t0 + 97, 65},
	}
	for _, tt := range tests {
		if got := e.Len(tt.now); got != tt.want {
			t.Errorf("Len(+%d) = %d, want %d", tt.now-t0, got, tt.want)
		}
	}
	s := e.Stats()
	want := Stats{Keys: 90, Tombstones: 10, Expires: 25, UsedBytes: s.UsedBytes}
	if s != want {
		t.Fatalf("Stats = %+v, want %+v", s, want)
	}
	checkInvariants(t, e)
}

func TestUsedBytesReturnsToZero(t *testing.T) {
	e, fc := newTestEngine(t, nil)
	for i := range 500 {
		set(e, fmt.Sprintf("key-%d", i), fmt.Sprintf("value-%d", i*i), 0, t0)
	}
	full := e.UsedBytes()
	if min := int64(500 * (len("key-0") + len("value-0"))); full < min {
		t.Fatalf("UsedBytes %d below the payload %d", full, min)
	}
	set(e, "key-1", "a much longer value than before", 0, t0)
	if e.UsedBytes() <= full {
		t.Fatal("a longer value did not grow UsedBytes")
	}
	for i := range 500 {
		e.Delete([]byte(fmt.Sprintf("key-%d", i)), t0)
	}
	if got := e.UsedBytes(); got <= 0 || got >= full {
		t.Fatalf("UsedBytes with tombstones = %d, want in (0, %d)", got, full)
	}
	checkInvariants(t, e)
	fc.Advance(e.cfg.TombstoneTTL)
	now := fc.Now().UnixMilli()
	for e.Stats().Tombstones > 0 {
		e.ExpireTick(now)
	}
	if got := e.UsedBytes(); got != 0 {
		t.Fatalf("UsedBytes after collection = %d, want 0", got)
	}
	if s := e.Stats(); s != (Stats{}) {
		t.Fatalf("Stats after collection = %+v", s)
	}
	checkInvariants(t, e)
}

func TestFlush(t *testing.T) {
	e, _ := newTestEngine(t, nil)
	for i := range 100 {
		set(e, strconv.Itoa(i), "v", t0+int64(i%3)*1000, t0)
	}
	e.Delete([]byte("1"), t0)
	e.Flush()
	if s := e.Stats(); s != (Stats{}) {
		t.Fatalf("Stats after Flush = %+v", s)
	}
	if e.UsedBytes() != 0 || e.Len(t0) != 0 {
		t.Fatal("Flush left data")
	}
	set(e, "1", "again", 0, t0)
	if v, ok := get(e, "1", t0); !ok || v != "again" {
		t.Fatalf("Get after Flush = %q %v", v, ok)
	}
	checkInvariants(t, e)
}

func TestGetDoesNotAllocate(t *testing.T) {
	e, _ := newTestEngine(t, nil)
	key := []byte("hot")
	set(e, "hot", "value", 0, t0)
	miss := []byte("cold")
	if n := testing.AllocsPerRun(1000, func() {
		e.Get(key, t0)
		e.Get(miss, t0)
		e.Partition(key)
	}); n != 0 {
		t.Fatalf("Get allocates %v times per run", n)
	}
}
