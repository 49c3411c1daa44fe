package engine

import (
	"math/rand/v2"
	"testing"
)

func TestDeadlineHeapRandomOps(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 7))
	var h deadlineHeap
	var all []*entry
	check := func(step int) {
		for i, it := range h {
			if int(it.ent.hi) != i {
				t.Fatalf("step %d: entry at %d thinks it is at %d", step, i, it.ent.hi)
			}
			if i > 0 && h[(i-1)/2].deadline > it.deadline {
				t.Fatalf("step %d: heap order broken at %d", step, i)
			}
		}
	}
	for step := range 5000 {
		switch op := r.IntN(4); {
		case op == 0 || len(h) == 0:
			ent := &entry{hi: -1}
			h.push(ent, r.Int64N(1000))
			all = append(all, ent)
		case op == 1:
			h.remove(r.IntN(len(h)))
		case op == 2:
			i := r.IntN(len(h))
			h.set(i, r.Int64N(1000))
		default:
			min := h[0].deadline
			h.remove(0)
			if len(h) > 0 && h[0].deadline < min {
				t.Fatalf("step %d: popped %d before %d", step, min, h[0].deadline)
			}
		}
		check(step)
	}
	for _, ent := range all {
		if ent.hi >= 0 && h[ent.hi].ent != ent {
			t.Fatal("stale index on an entry")
		}
	}
}
