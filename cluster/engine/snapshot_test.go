package engine

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// TestSnapshotRoundTrip: a snapshot holds every record, tombstones and
// deadlines included, and loading it into an empty engine rebuilds the same
// partitions (equal roots).
func TestSnapshotRoundTrip(t *testing.T) {
	e, fc := newTestEngine(t, nil)
	now := fc.Now().UnixMilli()
	for i := range 5000 {
		set(e, fmt.Sprintf("k%d", i), fmt.Sprintf("value-%d", i), 0, now)
	}
	set(e, "ttl", "v", now+60_000, now)
	e.Delete([]byte("k7"), now)
	set(e, "empty", "", 0, now)
	e.PutIfVersion([]byte("loaded"), now, 0, Record{Value: []byte("origin"), Loaded: true})
	path := filepath.Join(t.TempDir(), "snap")
	n, err := e.SaveSnapshot(path)
	if err != nil || n != 5003 {
		t.Fatalf("SaveSnapshot = %d, %v; want 5003 records", n, err)
	}
	f, _ := newTestEngine(t, nil)
	info, err := f.LoadSnapshot(path)
	if err != nil || info.Records != 5003 || info.TakenAtMs != now {
		t.Fatalf("LoadSnapshot = %+v, %v", info, err)
	}
	for p := range e.Partitions() {
		if e.Root(p) != f.Root(p) {
			t.Fatalf("partition %d differs after the round trip", p)
		}
	}
	if r, ok := f.Get([]byte("loaded"), now); !ok || !r.Loaded {
		t.Errorf("loaded = %+v, %v; want its Loaded flag kept", r, ok)
	}
	if r, ok := f.Get([]byte("k1"), now); !ok || r.Loaded {
		t.Errorf("k1 = %+v, %v; want a written value", r, ok)
	}
	if r, ok := f.Get([]byte("ttl"), now); !ok || r.ExpireAt != now+60_000 {
		t.Errorf("ttl = %+v, %v", r, ok)
	}
	if _, ok := f.Get([]byte("k7"), now); ok {
		t.Error("deleted k7 came back")
	}
	if r, ok := f.Get([]byte("empty"), now); !ok || len(r.Value) != 0 {
		t.Errorf("empty value = %+v, %v", r, ok)
	}
	checkInvariants(t, f)
	if entries, _ := os.ReadDir(filepath.Dir(path)); len(entries) != 1 {
		t.Errorf("%d files in the data dir, want only the snapshot (no temporary left)", len(entries))
	}
}

// TestSnapshotDamageIsRefused: every truncation and a flipped byte anywhere
// are reported as ErrBadSnapshot and load nothing.
func TestSnapshotDamageIsRefused(t *testing.T) {
	e, fc := newTestEngine(t, nil)
	now := fc.Now().UnixMilli()
	for i := range 50 {
		set(e, fmt.Sprintf("k%d", i), "v", 0, now)
	}
	var buf bytes.Buffer
	if _, err := e.WriteSnapshot(&buf); err != nil {
		t.Fatal(err)
	}
	good := buf.Bytes()
	try := func(what string, b []byte) {
		t.Helper()
		loaded := 0
		_, err := ReadSnapshot(bytes.NewReader(b), func([]byte, Record) { loaded++ })
		if !errors.Is(err, ErrBadSnapshot) || loaded != 0 {
			t.Fatalf("%s: err %v, %d records loaded; want ErrBadSnapshot and none", what, err, loaded)
		}
	}
	for cut := 0; cut < len(good); cut++ {
		try(fmt.Sprintf("truncated to %d of %d bytes", cut, len(good)), good[:cut])
	}
	for i := range good {
		bad := bytes.Clone(good)
		bad[i] ^= 0x40
		try(fmt.Sprintf("byte %d flipped", i), bad)
	}
	try("trailing byte", append(bytes.Clone(good), 0))
}

// FuzzReadSnapshot: the decoder never panics or loads a record from input
// whose checksum does not match, whatever the bytes.
func FuzzReadSnapshot(f *testing.F) {
	e, fc := newTestEngine(f, nil)
	now := fc.Now().UnixMilli()
	set(e, "a", "1", 0, now)
	set(e, "b", "2", now+1000, now)
	e.Delete([]byte("a"), now)
	var buf bytes.Buffer
	if _, err := e.WriteSnapshot(&buf); err != nil {
		f.Fatal(err)
	}
	f.Add(buf.Bytes())
	f.Add([]byte(snapshotMagic))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		n := 0
		info, err := ReadSnapshot(bytes.NewReader(b), func([]byte, Record) { n++ })
		if err != nil && n != 0 {
			t.Fatalf("records delivered from a snapshot that failed: %v", err)
		}
		if err == nil && info.Records != n {
			t.Fatalf("info says %d records, delivered %d", info.Records, n)
		}
	})
}
