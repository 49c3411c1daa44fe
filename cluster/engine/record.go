package engine

import (
	"bytes"

	"corral/cluster/hlc"
)

// Record is what the engine stores for one key.
type Record struct {
	// Value is immutable once stored: writers store a fresh slice, and
	// readers may keep it after the call returns but must not modify it.
	Value []byte
	// ExpireAt is the absolute deadline in unix ms; 0 means no expiry. A
	// live record is expired once ExpireAt <= now. For a tombstone it is
	// the time the key died (deleted or expired); the tombstone is
	// collected TombstoneTTL later. An eviction's tombstone is dated
	// TombstoneTTL - EvictedTombstoneTTL before the eviction, so that every
	// replica collects it EvictedTombstoneTTL after it.
	ExpireAt int64
	// Version orders writes to the key (last writer wins).
	Version hlc.Timestamp
	// Tombstone marks a deleted or expired key. A tombstone has no Value.
	Tombstone bool
	// Loaded marks a value a read-through load stored (from the origin),
	// as opposed to one a client wrote. A live value a client wrote beats
	// a live loaded one whatever their Versions (see newer): a load at a
	// replica cut off from the primary must not replace a write the
	// primary acknowledged. Tombstones are never Loaded.
	Loaded bool
}

// expired reports whether r is a live record whose deadline has passed.
func (r *Record) expired(nowMs int64) bool {
	return !r.Tombstone && r.ExpireAt != 0 && r.ExpireAt <= nowMs
}

// tombstoneOf returns the tombstone an expired record r turns into: same
// Version, died at its deadline.
func tombstoneOf(r Record) Record {
	return Record{ExpireAt: r.ExpireAt, Version: r.Version, Tombstone: true}
}

// normalized returns r in its canonical stored form at nowMs: an expired live
// record becomes its tombstone, and a tombstone loses any value and gets a
// death time (its Version's wall clock when it carries none).
func normalized(r Record, nowMs int64) Record {
	switch {
	case r.Tombstone:
		r.Value = nil
		r.Loaded = false
		if r.ExpireAt == 0 {
			r.ExpireAt = r.Version.WallMs()
		}
	case r.expired(nowMs):
		r = tombstoneOf(r)
	}
	return r
}

// deadline returns when active expiry must next look at r: its TTL deadline
// if live, its collection time if a tombstone, 0 if never.
func deadline(r *Record, tombstoneTTLMs int64) int64 {
	if r.Tombstone {
		return r.ExpireAt + tombstoneTTLMs
	}
	return r.ExpireAt
}

// newer reports whether a should replace b under last-writer-wins, both
// normalized (an expired value is its tombstone): between two live values
// of which one was loaded from the origin and the other written by a
// client, the client's wins; otherwise a higher Version wins, and on equal
// Versions the records are ordered deterministically (tombstone first,
// then the later ExpireAt, then the greater Value bytes) so every replica
// keeps the same one. Identical records are not newer.
func newer(a, b *Record) bool {
	if !a.Tombstone && !b.Tombstone && a.Loaded != b.Loaded {
		return !a.Loaded
	}
	if a.Version != b.Version {
		return a.Version > b.Version
	}
	if a.Tombstone != b.Tombstone {
		return a.Tombstone
	}
	if a.ExpireAt != b.ExpireAt {
		return a.ExpireAt > b.ExpireAt
	}
	return bytes.Compare(a.Value, b.Value) > 0
}

// Op tells Update what to do with the key.
type Op uint8

const (
	// OpNone leaves the key as it is.
	OpNone Op = iota
	// OpPut stores the record returned by the update function.
	OpPut
	// OpDelete replaces a live record with a tombstone.
	OpDelete
)
