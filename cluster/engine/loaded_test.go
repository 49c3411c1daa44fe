package engine

import (
	"bytes"
	"testing"

	"corral/cluster/hlc"
)

// TestWrittenBeatsLoaded: between two live values, the one a client wrote
// wins over the one loaded from the origin whatever their Versions;
// tombstones and expired values compare by Version as always.
func TestWrittenBeatsLoaded(t *testing.T) {
	const v = hlc.Timestamp(1 << 40)
	written := Record{Value: []byte("client"), Version: v}
	loaded := Record{Value: []byte("origin"), Version: v + 100, Loaded: true}

	e, _ := newTestEngine(t, nil)
	k := []byte("k")
	e.Merge(k, written)
	if e.Merge(k, loaded) {
		t.Error("a newer loaded value replaced a written one")
	}
	if got, _ := get(e, "k", t0); got != "client" {
		t.Errorf("after merging the loaded value: %q, want client", got)
	}
	e2, _ := newTestEngine(t, nil)
	e2.Merge(k, loaded)
	if !e2.Merge(k, written) {
		t.Error("an older written value did not replace a loaded one")
	}
	if got, _ := get(e2, "k", t0); got != "client" {
		t.Errorf("after merging the written value: %q, want client", got)
	}
	r1, _ := e.Lookup(k, t0)
	r2, _ := e2.Lookup(k, t0)
	if !bytes.Equal(r1.Value, r2.Value) || r1.Loaded || r2.Loaded || e.Root(e.Partition(k)) != e2.Root(e2.Partition(k)) {
		t.Error("the two orders of arrival did not converge")
	}

	// A newer tombstone beats a written value, and a newer load beats the
	// tombstone: DEL, then the next miss loads again.
	tomb := Record{Version: v + 200, Tombstone: true, ExpireAt: t0}
	if !e.Merge(k, tomb) {
		t.Fatal("a newer tombstone did not replace the written value")
	}
	reload := Record{Value: []byte("again"), Version: v + 300, Loaded: true}
	if !e.Merge(k, reload) {
		t.Fatal("a load after the delete did not replace the tombstone")
	}
	// An expired written value is a tombstone: a newer load replaces it.
	e3, _ := newTestEngine(t, nil)
	e3.Merge(k, Record{Value: []byte("old"), Version: v, ExpireAt: t0 - 1})
	if !e3.Merge(k, Record{Value: []byte("fresh"), Version: v + 1, Loaded: true}) {
		t.Error("a load did not replace an expired written value")
	}
	// A loaded tombstone is just a tombstone.
	if r := normalized(Record{Version: v, Tombstone: true, Loaded: true}, t0); r.Loaded {
		t.Error("a tombstone kept the Loaded flag")
	}
}

// TestClientWriteOnALoadedValue: a client command that keeps a loaded
// value's bytes (EXPIRE, say) makes it a written value.
func TestClientWriteOnALoadedValue(t *testing.T) {
	e, _ := newTestEngine(t, nil)
	k := []byte("k")
	r, ok := e.PutIfVersion(k, t0, 0, Record{Value: []byte("origin"), Version: e.Stamp(), Loaded: true})
	if !ok || !r.Loaded {
		t.Fatalf("PutIfVersion of a load = (%+v, %v)", r, ok)
	}
	r = e.Update(k, t0, func(cur Record, _ bool) (Record, Op) {
		cur.ExpireAt = t0 + 60_000
		return cur, OpPut
	})
	if r.Loaded {
		t.Error("a client's write kept the Loaded flag")
	}
}
