package sim

import (
	"bytes"
	"fmt"
	"time"

	"corral/cluster/engine"
)

// write is one client write a coordinator applied: what it stored and
// whether the client got an acknowledgement.
type write struct {
	seq   int           // issue order over the whole run
	step  int           // step it happened at
	node  string        // coordinator
	rec   engine.Record // as the coordinator stored it
	acks  int           // owners that applied it at once
	acked bool          // acks >= need: the client saw OK
}

// keyModel is everything clients did to one key.
type keyModel struct {
	writes []write // every applied write, in issue order
	best   int     // index in writes of the acked write last under LWW, -1 if none
	last   int     // index of the last acked write in issue order, -1 if none
}

// model records the writes of a run. Keys are indexed by number, so every
// walk over them is in a fixed order.
type model struct {
	names []string
	keys  []keyModel
	index map[string]int // lookups only, never iterated
}

func newModel(n int) *model {
	m := &model{names: make([]string, n), keys: make([]keyModel, n), index: make(map[string]int, n)}
	for i := range n {
		m.names[i] = fmt.Sprintf("k%04d", i)
		m.keys[i] = keyModel{best: -1, last: -1}
		m.index[m.names[i]] = i
	}
	return m
}

// add records w on key i and reports whether an acked w inverts real-time
// order: it orders before an earlier acked write of the key under LWW,
// so the later write loses.
func (m *model) add(i int, w write) (inverted bool) {
	km := &m.keys[i]
	km.writes = append(km.writes, w)
	if !w.acked {
		return false
	}
	j := len(km.writes) - 1
	if km.last >= 0 && lwwAfter(km.writes[km.last].rec, w.rec) {
		inverted = true
	}
	km.last = j
	if km.best < 0 || lwwAfter(w.rec, km.writes[km.best].rec) {
		km.best = j
	}
	return inverted
}

// acked returns key i's acked write last under LWW.
func (m *model) acked(i int) (write, bool) {
	km := &m.keys[i]
	if km.best < 0 {
		return write{}, false
	}
	return km.writes[km.best], true
}

// issued reports whether r (canonical at nowMs) is what some client write
// of key i stored, so that nothing can appear that nobody wrote.
func (m *model) issued(i int, r engine.Record, nowMs int64) bool {
	for _, w := range m.keys[i].writes {
		if w.rec.Version == r.Version && sameRecord(canonical(w.rec, nowMs), r) {
			return true
		}
	}
	return false
}

// The helpers below restate the engine's last-writer-wins rules, which
// the model needs and the engine does not export.

// lwwAfter reports whether a replaces b under last-writer-wins: the higher
// Version, then on equal Versions the tombstone, the later ExpireAt, the
// greater Value (engine.Merge's order).
func lwwAfter(a, b engine.Record) bool {
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

// canonical returns r as the engine reports it at nowMs: a live record past
// its deadline is the tombstone of the same Version that died then.
func canonical(r engine.Record, nowMs int64) engine.Record {
	switch {
	case r.Tombstone:
		r.Value = nil
		if r.ExpireAt == 0 {
			r.ExpireAt = r.Version.WallMs()
		}
	case r.ExpireAt != 0 && r.ExpireAt <= nowMs:
		r = engine.Record{ExpireAt: r.ExpireAt, Version: r.Version, Tombstone: true}
	}
	return r
}

func sameRecord(a, b engine.Record) bool {
	return a.Version == b.Version && a.Tombstone == b.Tombstone && a.ExpireAt == b.ExpireAt && bytes.Equal(a.Value, b.Value)
}

// dead reports whether r (canonical) is a tombstone, and collected whether
// its grace period is over at nowMs, so that holding nothing is right.
func dead(r engine.Record, nowMs int64, ttl time.Duration) (isDead, collected bool) {
	if !r.Tombstone {
		return false, false
	}
	return true, r.ExpireAt+ttl.Milliseconds() <= nowMs
}

// covers reports whether a node holding (r, ok) for key i has the acked
// write a (canonical at nowMs) or something that replaces it under LWW.
// Holding nothing is right only once a or a write that replaces it (acked
// or not) is a tombstone whose grace period is over.
func (m *model) covers(i int, r engine.Record, ok bool, a engine.Record, nowMs int64, ttl time.Duration) bool {
	if ok {
		return sameRecord(r, a) || lwwAfter(r, a)
	}
	for _, w := range m.keys[i].writes {
		c := canonical(w.rec, nowMs)
		if _, collected := dead(c, nowMs, ttl); collected && (sameRecord(c, a) || lwwAfter(c, a)) {
			return true
		}
	}
	return false
}

func describe(r engine.Record, ok bool) string {
	switch {
	case !ok:
		return "nothing"
	case r.Tombstone:
		return fmt.Sprintf("tombstone@%v(died %d)", r.Version, r.ExpireAt)
	case r.ExpireAt != 0:
		return fmt.Sprintf("%q@%v(ttl %d)", r.Value, r.Version, r.ExpireAt)
	}
	return fmt.Sprintf("%q@%v", r.Value, r.Version)
}
