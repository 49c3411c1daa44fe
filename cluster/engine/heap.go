package engine

// heapItem is one slot of a deadlineHeap. The deadline is kept in the slot,
// next to its neighbours, so sifting compares without chasing entries.
type heapItem struct {
	deadline int64
	ent      *entry
}

// deadlineHeap is a binary min-heap of entries ordered by deadline. Each
// entry knows its own index (entry.hi) so it can be moved or removed in
// O(log n) when its record changes. It is guarded by its partition's mutex.
type deadlineHeap []heapItem

// push adds ent, which must not be in the heap, with deadline d.
func (h *deadlineHeap) push(ent *entry, d int64) {
	ent.hi = int32(len(*h))
	*h = append(*h, heapItem{d, ent})
	h.up(len(*h) - 1)
}

// remove takes the entry at index i out of the heap.
func (h *deadlineHeap) remove(i int) {
	s := *h
	last := len(s) - 1
	removed := s[i].ent
	if i != last {
		s.swap(i, last)
	}
	s[last] = heapItem{}
	*h = s[:last]
	removed.hi = -1
	if i != last {
		h.fix(i)
	}
}

// set changes the deadline at index i to d and restores the heap order.
func (h deadlineHeap) set(i int, d int64) {
	if h[i].deadline == d {
		return
	}
	h[i].deadline = d
	h.fix(i)
}

// fix restores the heap order after the deadline at index i changed.
func (h deadlineHeap) fix(i int) {
	if !h.down(i) {
		h.up(i)
	}
}

func (h deadlineHeap) swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].ent.hi = int32(i)
	h[j].ent.hi = int32(j)
}

func (h deadlineHeap) up(i int) {
	for i > 0 {
		parent := (i - 1) / 2
		if h[parent].deadline <= h[i].deadline {
			return
		}
		h.swap(i, parent)
		i = parent
	}
}

// down sifts index i towards the leaves and reports whether it moved.
func (h deadlineHeap) down(i int) bool {
	start := i
	n := len(h)
	for {
		l := 2*i + 1
		if l >= n {
			break
		}
		c := l
		if r := l + 1; r < n && h[r].deadline < h[l].deadline {
			c = r
		}
		if h[i].deadline <= h[c].deadline {
			break
		}
		h.swap(i, c)
		i = c
	}
	return i > start
}

// countDueLive counts the live (non-tombstone) entries whose deadline is at
// or before nowMs, visiting only the due part of the heap.
func (h deadlineHeap) countDueLive(i int, nowMs int64) int {
	if i >= len(h) || h[i].deadline > nowMs {
		return 0
	}
	n := 0
	if !h[i].ent.rec.Tombstone {
		n = 1
	}
	return n + h.countDueLive(2*i+1, nowMs) + h.countDueLive(2*i+2, nowMs)
}
