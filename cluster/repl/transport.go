package repl

import (
	"context"

	"corral/cluster/engine"
)

// Entry is one record shipped between nodes.
type Entry struct {
	Key []byte
	Rec engine.Record
}

// Transport carries the replication protocol to peer nodes, named by node
// ID. Every method may fail (the peer is down, cut off or slow); a failure
// changes nothing on the caller's side.
type Transport interface {
	// Apply merges entries into the peer's engine.
	Apply(ctx context.Context, to string, entries []Entry) error
	// Roots sends our roots of parts and returns the peer's, in order.
	Roots(ctx context.Context, to string, parts []int, roots []uint64) ([]uint64, error)
	// Buckets returns the peer's bucket digests of part.
	Buckets(ctx context.Context, to string, part int) ([]uint64, error)
	// Keys returns the peer's records of part in the given buckets.
	Keys(ctx context.Context, to string, part int, buckets []int) ([]engine.KeyHash, error)
	// Fetch returns the peer's records of keys, tombstones included;
	// keys it holds nothing for are left out.
	Fetch(ctx context.Context, to string, keys [][]byte) ([]Entry, error)
}

// Local answers the replication protocol for this node's engine: a
// transport's server side calls it.
type Local struct {
	Engine *engine.Engine
	// Synced, if set, is told that a peer found part equal to ours.
	Synced func(part int)
}

// Apply merges entries and returns how many changed something.
func (l Local) Apply(entries []Entry) int {
	n := 0
	for _, e := range entries {
		if l.Engine.Merge(e.Key, e.Rec) {
			n++
		}
	}
	return n
}

// Roots returns our roots of parts and reports the ones equal to the
// peer's roots to Synced.
func (l Local) Roots(parts []int, theirs []uint64) []uint64 {
	out := make([]uint64, len(parts))
	for i, p := range parts {
		out[i] = l.Engine.Root(p)
		if l.Synced != nil && i < len(theirs) && theirs[i] == out[i] {
			l.Synced(p)
		}
	}
	return out
}

// Buckets returns our bucket digests of part.
func (l Local) Buckets(part int) []uint64 { return l.Engine.Buckets(part) }

// Keys returns our records of part in buckets.
func (l Local) Keys(part int, buckets []int) []engine.KeyHash {
	return l.Engine.BucketKeys(part, buckets)
}

// Fetch returns our records of keys at nowMs, tombstones included.
func (l Local) Fetch(keys [][]byte, nowMs int64) []Entry {
	out := make([]Entry, 0, len(keys))
	for _, k := range keys {
		if r, ok := l.Engine.Lookup(k, nowMs); ok {
			out = append(out, Entry{Key: k, Rec: r})
		}
	}
	return out
}
