package engine

import (
	"cmp"
	"slices"

	"github.com/cespare/xxhash/v2"
)

// Scan cursors. A cursor holds a partition index in its high bits and a
// position within the partition in its low posBits bits. A key's position is
// the top posBits bits of its xxhash64 (the low bits choose the partition),
// which never changes, so "every key of partition p at or after position q"
// means the same thing whatever is written in between. Scan walks partitions
// in order and each partition in position order, and never splits keys of
// equal position between two calls; hence a key present for a whole
// iteration falls in exactly one call's range and is returned.

// defaultScanCount is the count hint used when Scan is given none.
const defaultScanCount = 10

// minScanChunk is the fewest keys Scan emits from a partition it has to
// split, so that splitting a large partition costs few passes over it.
const minScanChunk = 256

// scanItem is a record collected by Scan or PartitionRecords.
type scanItem struct {
	pos uint64
	key string
	rec Record
}

// position returns the within-partition scan position of key k.
func (e *Engine) position(k string) uint64 {
	h := xxhash.Sum64String(k)
	if e.posBits == 64 {
		return h
	}
	return h >> (64 - e.posBits)
}

// Scan calls fn for live keys at nowMs, starting at cursor (0 starts an
// iteration), and returns the cursor to continue from (0 when the iteration
// is complete). It follows Redis's SCAN contract: a full iteration returns
// every key that was present from its start to its end at least once, keys
// added or removed meanwhile may or may not be returned, and count is a hint
// (a call returns at least count keys unless the iteration ends, and may
// return more: partitions are returned whole unless large). fn runs without
// any lock held and may keep key but must not modify r.Value. An invalid
// cursor ends the iteration.
func (e *Engine) Scan(cursor uint64, count int, nowMs int64, fn func(key []byte, r Record)) uint64 {
	return e.ScanWhile(cursor, count, nowMs, nil, fn)
}

// ScanWhile is Scan confined to a run of partitions: it walks on from
// cursor's partition only while include(partition) is true (nil includes
// all), and returns where it stopped: within a partition when count was
// reached, at the start of the first partition it did not include, or 0 at
// the end. A cluster node scans the partitions it holds this way and asks
// another node for the rest. A cursor whose partition is not included is
// returned unchanged.
func (e *Engine) ScanWhile(cursor uint64, count int, nowMs int64, include func(p int) bool, fn func(key []byte, r Record)) uint64 {
	if count <= 0 {
		count = defaultScanCount
	}
	pi, pos := e.splitCursor(cursor)
	var (
		items   []scanItem
		emitted int
	)
	for pi < len(e.parts) {
		if include != nil && !include(pi) {
			return e.joinCursor(pi, pos)
		}
		limit := max(count-emitted, minScanChunk)
		var next uint64
		var done bool
		items, next, done = e.scanPartition(&e.parts[pi], pos, limit, nowMs, items[:0])
		for i, k := range keyArena(items) {
			fn(k, items[i].rec)
		}
		emitted += len(items)
		if !done {
			return e.joinCursor(pi, next)
		}
		pi, pos = pi+1, 0
		if emitted >= count {
			break
		}
	}
	if pi >= len(e.parts) {
		return 0
	}
	return e.joinCursor(pi, 0)
}

// keyArena copies the keys of items into one fresh buffer and returns a
// capacity-limited slice of it per key, so callbacks may keep their keys.
func keyArena(items []scanItem) [][]byte {
	total := 0
	for i := range items {
		total += len(items[i].key)
	}
	arena := make([]byte, 0, total)
	keys := make([][]byte, len(items))
	for i := range items {
		start := len(arena)
		arena = append(arena, items[i].key...)
		keys[i] = arena[start:len(arena):len(arena)]
	}
	return keys
}

func (e *Engine) splitCursor(c uint64) (pi int, pos uint64) {
	if e.posBits == 64 {
		return 0, c
	}
	return int(c >> e.posBits), c & (1<<e.posBits - 1)
}

func (e *Engine) joinCursor(pi int, pos uint64) uint64 {
	if e.posBits == 64 {
		return pos
	}
	return uint64(pi)<<e.posBits | pos
}

// scanPartition collects p's live keys at position >= pos into items. If
// there are at most limit of them it returns them all and done. Otherwise it
// returns the ones with the lowest positions, at least limit of them and
// never splitting equal positions, plus the position to resume from.
func (e *Engine) scanPartition(p *partition, pos uint64, limit int, nowMs int64, items []scanItem) (_ []scanItem, next uint64, done bool) {
	p.mu.RLock()
	for k, ent := range p.m {
		if ent.rec.Tombstone || ent.rec.expired(nowMs) {
			continue
		}
		kp := e.position(k)
		if kp < pos {
			continue
		}
		items = append(items, scanItem{pos: kp, key: k, rec: ent.rec})
	}
	p.mu.RUnlock()
	if len(items) <= limit {
		return items, 0, true
	}
	slices.SortFunc(items, func(a, b scanItem) int { return cmp.Compare(a.pos, b.pos) })
	cut := limit
	for cut < len(items) && items[cut].pos == items[cut-1].pos {
		cut++
	}
	if cut == len(items) {
		return items, 0, true
	}
	// items[cut].pos > items[cut-1].pos, so the increment cannot overflow.
	return items[:cut], items[cut-1].pos + 1, false
}

// PartitionRecords calls fn for every record of partition p, tombstones
// included, until fn returns false; anti-entropy uses it. Records are given
// in their canonical stored form: an expired record that active expiry has
// not reached yet is reported as the tombstone it is about to become. The
// records come from a snapshot taken under the partition's read lock, so fn
// runs without any lock held and may call the Engine; it may keep key but
// must not modify r.Value. An out-of-range p calls fn for nothing.
func (e *Engine) PartitionRecords(p int, fn func(key []byte, r Record) bool) {
	if p < 0 || p >= len(e.parts) {
		return
	}
	nowMs := e.clock.Now().UnixMilli()
	part := &e.parts[p]
	part.mu.RLock()
	items := make([]scanItem, 0, len(part.m))
	for k, ent := range part.m {
		items = append(items, scanItem{key: k, rec: normalized(ent.rec, nowMs)})
	}
	part.mu.RUnlock()
	for i, k := range keyArena(items) {
		if !fn(k, items[i].rec) {
			return
		}
	}
}

// CursorPartition returns the partition a scan cursor points into (P or
// more for an invalid cursor, which ends an iteration).
func (e *Engine) CursorPartition(cursor uint64) int {
	pi, _ := e.splitCursor(cursor)
	return pi
}

// PartitionCursor returns the cursor at the start of partition p (0, which
// ends an iteration, when p is past the last partition).
func (e *Engine) PartitionCursor(p int) uint64 {
	if p >= len(e.parts) {
		return 0
	}
	return e.joinCursor(p, 0)
}
