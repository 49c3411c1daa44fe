package engine

import (
	"encoding/binary"

	"github.com/cespare/xxhash/v2"

	"corral/cluster/hlc"
)

// Digests for anti-entropy. Each partition keeps DigestBuckets bucket
// digests; a key falls in the bucket named by the top 8 bits of its
// xxhash64 (the low bits choose the partition), and a bucket's digest is
// the XOR of the hashes of its records, tombstones included. A record's hash
// covers its key, Version, deadline, tombstone flag and value bytes, so two
// replicas holding equal Versions with different bytes still differ. XOR is
// order-free and its own inverse, so every write updates its bucket in O(1)
// by XOR-ing the old record's hash out and the new one's in, and the
// partition's root (the XOR of its buckets) is maintained the same way.

// DigestBuckets is the number of digest buckets of a partition.
const DigestBuckets = 256

// bucketOf returns the digest bucket of key k.
func bucketOf(k string) int { return int(xxhash.Sum64String(k) >> 56) }

// recordHash returns the digest contribution of record r stored under k.
func recordHash(k string, r *Record) uint64 {
	var d xxhash.Digest
	d.Reset()
	var hdr [17]byte
	binary.LittleEndian.PutUint64(hdr[0:], uint64(r.Version))
	binary.LittleEndian.PutUint64(hdr[8:], uint64(r.ExpireAt))
	if r.Tombstone {
		hdr[16] = 1
	}
	d.WriteString(k)
	d.Write(hdr[:])
	d.Write(r.Value)
	h := d.Sum64()
	if h == 0 {
		h = 1 // 0 would make a record invisible to the digest
	}
	return h
}

// digests are one partition's bucket digests, allocated on its first record.
type digests struct {
	root    uint64
	buckets [DigestBuckets]uint64
}

// toggleLocked XORs ent's record hash into (or out of) its bucket.
func (p *partition) toggleLocked(ent *entry) {
	if p.dig == nil {
		p.dig = new(digests)
	}
	p.dig.buckets[ent.bucket] ^= ent.hash
	p.dig.root ^= ent.hash
}

// Root returns partition p's root digest: the XOR of every record hash in
// it, 0 when it holds nothing. Two replicas of a partition with the same
// root hold the same records (up to a 2^-64 chance). An out-of-range p
// returns 0.
func (e *Engine) Root(p int) uint64 {
	if p < 0 || p >= len(e.parts) {
		return 0
	}
	part := &e.parts[p]
	part.mu.RLock()
	defer part.mu.RUnlock()
	if part.dig == nil {
		return 0
	}
	return part.dig.root
}

// Buckets returns partition p's DigestBuckets bucket digests.
func (e *Engine) Buckets(p int) []uint64 {
	out := make([]uint64, DigestBuckets)
	if p < 0 || p >= len(e.parts) {
		return out
	}
	part := &e.parts[p]
	part.mu.RLock()
	defer part.mu.RUnlock()
	if part.dig != nil {
		copy(out, part.dig.buckets[:])
	}
	return out
}

// KeyHash names one stored record for anti-entropy: its key, Version and
// digest hash.
type KeyHash struct {
	Key     string
	Version hlc.Timestamp
	Hash    uint64
	// Written is true for a live value a client wrote (not loaded from the
	// origin, not a tombstone). It is the local engine's knowledge only: it
	// does not cross the wire (CORRAL.KEYS), and a peer's KeyHash has it
	// false.
	Written bool
}

// BucketKeys returns the records of partition p that fall in the given
// digest buckets, tombstones included, in no particular order.
func (e *Engine) BucketKeys(p int, buckets []int) []KeyHash {
	if p < 0 || p >= len(e.parts) || len(buckets) == 0 {
		return nil
	}
	var want [DigestBuckets]bool
	for _, b := range buckets {
		if b >= 0 && b < DigestBuckets {
			want[b] = true
		}
	}
	part := &e.parts[p]
	part.mu.RLock()
	defer part.mu.RUnlock()
	var out []KeyHash
	for k, ent := range part.m {
		if want[ent.bucket] {
			out = append(out, KeyHash{Key: k, Version: ent.rec.Version, Hash: ent.hash, Written: !ent.rec.Tombstone && !ent.rec.Loaded})
		}
	}
	return out
}

// Lookup returns whatever the engine holds for key, tombstones included, in
// its canonical stored form at nowMs (an expired record reads as its
// tombstone); false when it holds nothing. It changes nothing.
func (e *Engine) Lookup(key []byte, nowMs int64) (Record, bool) {
	p := e.part(key)
	p.mu.RLock()
	defer p.mu.RUnlock()
	ent := p.m[string(key)]
	if ent == nil {
		return Record{}, false
	}
	return normalized(ent.rec, nowMs), true
}

// PartitionLen returns the number of live keys of partition p at nowMs.
func (e *Engine) PartitionLen(p int, nowMs int64) int {
	if p < 0 || p >= len(e.parts) {
		return 0
	}
	part := &e.parts[p]
	part.mu.RLock()
	defer part.mu.RUnlock()
	n := part.live
	if part.minDeadline.Load() <= nowMs {
		n -= part.heap.countDueLive(0, nowMs)
	}
	return n
}

// PartitionRecordCount returns how many records partition p holds,
// tombstones included: zero means there is nothing to hand off.
func (e *Engine) PartitionRecordCount(p int) int {
	if p < 0 || p >= len(e.parts) {
		return 0
	}
	part := &e.parts[p]
	part.mu.RLock()
	defer part.mu.RUnlock()
	return len(part.m)
}

// DropPartition forgets every record of partition p, tombstones included:
// a node does it once it has handed a partition it no longer owns to the
// partition's owners.
func (e *Engine) DropPartition(p int) {
	if p < 0 || p >= len(e.parts) {
		return
	}
	part := &e.parts[p]
	part.mu.Lock()
	part.resetLocked()
	part.mu.Unlock()
}
