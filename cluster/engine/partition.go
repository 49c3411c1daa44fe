package engine

import (
	"math"
	"sync"
	"sync/atomic"
	"unsafe"
)

// entry is one stored key. The partition's map and deadline heap point to
// the same entry, which is updated in place on overwrite.
type entry struct {
	key    string // the map key (shared storage)
	rec    Record
	hash   uint64        // recordHash(key, &rec), the record's digest contribution
	hi     int32         // index in the deadline heap, -1 when not in it
	si     int32         // index in the partition's all slice
	atime  atomic.Uint32 // last access, unix ms mod 2^32 (see touch)
	bucket uint8         // digest bucket of key
}

// touch stamps ent as accessed at nowMs. Readers call it under the read
// lock, so it is atomic, and it stores only when the stamp changes, so a
// hot key read by many cores writes its cache line at most once a
// millisecond.
func (ent *entry) touch(nowMs int64) {
	if s := uint32(nowMs); ent.atime.Load() != s {
		ent.atime.Store(s)
	}
}

// idle returns how long ago ent was last accessed, in ms. The stamp wraps
// every 49.7 days, like Redis's 24-bit LRU clock wraps: a key idle longer
// than that looks recent again, which only costs eviction some accuracy.
func (ent *entry) idle(nowMs int64) uint32 { return uint32(nowMs) - ent.atime.Load() }

// Per-record memory estimate beyond key and value bytes: the entry, its map
// slot (key header, pointer, control byte, load-factor slack), its heap
// slot and its slot in the sampling slice.
const (
	mapSlotBytes    = 40
	heapSlotBytes   = 8
	sampleSlotBytes = 8
	entryOverhead   = int64(unsafe.Sizeof(entry{})) + mapSlotBytes + heapSlotBytes + sampleSlotBytes
)

// noDeadline is minDeadline's value for a partition with an empty heap.
const noDeadline = math.MaxInt64

// partition is one lock domain of the engine.
type partition struct {
	mu   sync.RWMutex      // guards every field below except minDeadline
	m    map[string]*entry // every record, tombstones included
	heap deadlineHeap      // entries with a TTL deadline or a collection time
	all  []*entry          // every entry, in no order: eviction samples it
	dig  *digests          // anti-entropy digests, nil until the first record

	// minDeadline mirrors heap[0].deadline (noDeadline when empty). It is
	// written under mu and read without it, so that an expiry tick skips
	// partitions with nothing due without locking them.
	minDeadline atomic.Int64

	live      int   // records that are not tombstones (expired ones included until collected)
	tombs     int   // tombstones
	expires   int   // live records with a deadline
	expired   int64 // live records turned into tombstones by expiry since New
	usedBytes int64 // estimate of this partition's memory

	tombstoneTTLMs int64         // Config.TombstoneTTL in ms
	used           *atomic.Int64 // the engine-wide usedBytes total

	_ [64]byte // keeps neighbouring partitions' locks off this cache line
}

func (p *partition) init(tombstoneTTLMs int64, used *atomic.Int64) {
	p.m = make(map[string]*entry)
	p.tombstoneTTLMs = tombstoneTTLMs
	p.used = used
	p.minDeadline.Store(noDeadline)
}

// sizeOf estimates the memory one record of key k holds.
func sizeOf(k string, r *Record) int64 {
	return int64(len(k)+len(r.Value)) + entryOverhead
}

// accountLocked adds (sign 1) or removes (sign -1) ent's record from the
// partition's counters and the engine-wide byte total.
func (p *partition) accountLocked(ent *entry, sign int) {
	r := &ent.rec
	switch {
	case r.Tombstone:
		p.tombs += sign
	case r.ExpireAt != 0:
		p.live += sign
		p.expires += sign
	default:
		p.live += sign
	}
	if sign > 0 {
		ent.hash = recordHash(ent.key, r)
	}
	p.toggleLocked(ent)
	b := int64(sign) * sizeOf(ent.key, r)
	p.usedBytes += b
	p.used.Add(b)
}

// indexLocked puts ent in, moves it within, or takes it out of the deadline
// heap to match its record, then refreshes minDeadline.
func (p *partition) indexLocked(ent *entry) {
	d := deadline(&ent.rec, p.tombstoneTTLMs)
	switch {
	case d == 0 && ent.hi >= 0:
		p.heap.remove(int(ent.hi))
	case d == 0:
	case ent.hi >= 0:
		p.heap.set(int(ent.hi), d)
	default:
		p.heap.push(ent, d)
	}
	p.refreshMinLocked()
}

func (p *partition) refreshMinLocked() {
	if len(p.heap) == 0 {
		p.minDeadline.Store(noDeadline)
		return
	}
	p.minDeadline.Store(p.heap[0].deadline)
}

// insertLocked stores r under the new key k, accessed at nowMs, and
// returns its entry.
func (p *partition) insertLocked(k string, r Record, nowMs int64) *entry {
	ent := &entry{key: k, rec: r, hi: -1, si: int32(len(p.all)), bucket: uint8(bucketOf(k))}
	ent.atime.Store(uint32(nowMs))
	p.m[k] = ent
	p.all = append(p.all, ent)
	p.accountLocked(ent, 1)
	p.indexLocked(ent)
	return ent
}

// replaceLocked overwrites ent's record with r.
func (p *partition) replaceLocked(ent *entry, r Record) {
	p.accountLocked(ent, -1)
	ent.rec = r
	p.accountLocked(ent, 1)
	p.indexLocked(ent)
}

// removeLocked forgets ent entirely.
func (p *partition) removeLocked(ent *entry) {
	p.accountLocked(ent, -1)
	if ent.hi >= 0 {
		p.heap.remove(int(ent.hi))
		p.refreshMinLocked()
	}
	delete(p.m, ent.key)
	last := len(p.all) - 1
	moved := p.all[last]
	p.all[ent.si] = moved
	moved.si = ent.si
	p.all[last] = nil
	p.all = p.all[:last]
}

// expireLocked turns ent's expired live record into its tombstone.
func (p *partition) expireLocked(ent *entry) {
	p.replaceLocked(ent, tombstoneOf(ent.rec))
	p.expired++
}

// putLocked stores r under key (ent is its entry, or nil if absent) and
// returns the stored form, which is a tombstone if r has already expired.
func (p *partition) putLocked(ent *entry, key []byte, r Record, nowMs int64) Record {
	r = normalized(r, nowMs)
	if ent == nil {
		p.insertLocked(string(key), r, nowMs)
	} else {
		p.replaceLocked(ent, r)
		ent.touch(nowMs)
	}
	return r
}

// expireDueLocked handles up to limit due heap entries at nowMs: expired
// records become tombstones and tombstones past their collection time are
// removed. It returns how many entries it examined.
func (p *partition) expireDueLocked(nowMs int64, limit int) int {
	n := 0
	for n < limit && len(p.heap) > 0 {
		top := p.heap[0]
		n++
		if top.deadline > nowMs {
			break
		}
		ent := top.ent
		if ent.rec.Tombstone {
			p.removeLocked(ent)
		} else {
			p.expireLocked(ent)
		}
	}
	return n
}

// resetLocked drops every record.
func (p *partition) resetLocked() {
	p.used.Add(-p.usedBytes)
	p.m = make(map[string]*entry)
	p.heap = nil
	p.all = nil
	p.dig = nil
	p.live, p.tombs, p.expires, p.usedBytes = 0, 0, 0, 0
	p.minDeadline.Store(noDeadline)
}
