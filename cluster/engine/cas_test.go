package engine

import (
	"testing"

	"corral/cluster/hlc"
)

func TestPutIfVersion(t *testing.T) {
	e, _ := newTestEngine(t, nil)
	k := []byte("k")
	if v := e.Version(k); v != 0 {
		t.Fatalf("Version of an absent key = %v, want 0", v)
	}
	// Absent: only version 0 matches.
	if _, ok := e.PutIfVersion(k, t0, 1, Record{Value: []byte("x")}); ok {
		t.Fatal("PutIfVersion(1) on an absent key stored")
	}
	r, ok := e.PutIfVersion(k, t0, 0, Record{Value: []byte("load"), ExpireAt: t0 + 1000})
	if !ok || r.Version == 0 || e.Version(k) != r.Version {
		t.Fatalf("PutIfVersion(0) on an absent key = (%+v, %v)", r, ok)
	}
	base := r.Version
	// A client write in between changes the Version: the load loses.
	set(e, "k", "client", 0, t0+1)
	if _, ok := e.PutIfVersion(k, t0+2, base, Record{Value: []byte("load2")}); ok {
		t.Fatal("PutIfVersion stored over a newer client write")
	}
	if v, _ := get(e, "k", t0+2); v != "client" {
		t.Fatalf("value = %q, want the client's", v)
	}
	// A tombstone keeps its Version: a load based on it may store, one
	// based on the record before the delete may not.
	before := e.Version(k)
	e.Delete(k, t0+3)
	dead := e.Version(k)
	if dead == before || dead == 0 {
		t.Fatalf("Version after DEL = %v (before %v), want a new one", dead, before)
	}
	if _, ok := e.PutIfVersion(k, t0+4, before, Record{Value: []byte("stale")}); ok {
		t.Fatal("PutIfVersion resurrected past a delete")
	}
	if _, ok := e.PutIfVersion(k, t0+4, dead, Record{Value: []byte("fresh")}); !ok {
		t.Fatal("PutIfVersion based on the tombstone was refused")
	}
}

// TestPutIfVersionKeepsAStamp: a version stamped when a load began is the
// stored record's, older than a write stamped during the load elsewhere;
// one not above the key's current Version is replaced by a new stamp.
func TestPutIfVersionKeepsAStamp(t *testing.T) {
	e, _ := newTestEngine(t, nil)
	k := []byte("k")
	early := e.Stamp()
	later := e.Stamp()
	if later <= early {
		t.Fatalf("Stamp went backwards: %v then %v", early, later)
	}
	r, ok := e.PutIfVersion(k, t0, 0, Record{Value: []byte("load"), Version: early})
	if !ok || r.Version != early {
		t.Fatalf("PutIfVersion with a stamp = (%+v, %v), want version %v", r, ok, early)
	}
	r2, ok := e.PutIfVersion(k, t0, early, Record{Value: []byte("again"), Version: early})
	if !ok || r2.Version <= early {
		t.Fatalf("a stamp not above the current Version was kept: (%+v, %v)", r2, ok)
	}
}

func TestPutIfVersionAfterExpiry(t *testing.T) {
	e, _ := newTestEngine(t, nil)
	r := set(e, "k", "v1", t0+10, t0)
	// Expired (not yet collected): the Version is the record's, so a
	// refresh based on it stores.
	if v := e.Version([]byte("k")); v != r.Version {
		t.Fatalf("Version of an expired record = %v, want %v", v, r.Version)
	}
	if _, ok := e.PutIfVersion([]byte("k"), t0+20, r.Version, Record{Value: []byte("v2"), ExpireAt: t0 + 1000}); !ok {
		t.Fatal("refresh of an expired record refused")
	}
	if v, ok := get(e, "k", t0+21); !ok || v != "v2" {
		t.Fatalf("after refresh = (%q, %v), want v2", v, ok)
	}
}

func TestDeleteIfVersion(t *testing.T) {
	e, _ := newTestEngine(t, nil)
	r := set(e, "k", "v", 0, t0)
	if e.DeleteIfVersion([]byte("k"), t0, r.Version+1, 0) {
		t.Fatal("DeleteIfVersion with another Version deleted")
	}
	if !e.DeleteIfVersion([]byte("k"), t0, r.Version, 0) {
		t.Fatal("DeleteIfVersion with the record's Version refused")
	}
	if e.DeleteIfVersion([]byte("k"), t0, e.Version([]byte("k")), 0) {
		t.Fatal("DeleteIfVersion deleted a tombstone")
	}
	if e.DeleteIfVersion([]byte("absent"), t0, hlc.Timestamp(0), 0) {
		t.Fatal("DeleteIfVersion deleted an absent key")
	}
}

// TestDeleteIfVersionKeepsAStamp: the tombstone of a load that found the
// key gone carries the version taken when the load began.
func TestDeleteIfVersionKeepsAStamp(t *testing.T) {
	e, _ := newTestEngine(t, nil)
	r := set(e, "k", "v", 0, t0)
	stamp := e.Stamp()
	if !e.DeleteIfVersion([]byte("k"), t0, r.Version, stamp) || e.Version([]byte("k")) != stamp {
		t.Fatalf("tombstone version %v, want the stamp %v", e.Version([]byte("k")), stamp)
	}
}
