package sim

import (
	"context"
	"fmt"
	"strconv"

	"corral/cluster/engine"
	"corral/cluster/repl"
)

// clientWrite is a client's SET (sometimes with a TTL), DEL or INCR on a
// random key, done the way a store does it: on the key's coordinator (see
// coordinator), which first asks its co-owners for the key if the
// partition is not filled yet, applies the command with engine.Update and
// replicates the stored record. The write is acknowledged when acks >=
// need.
func (w *world) clientWrite() {
	ki := w.sched.IntN(w.cfg.Keys)
	if w.sched.IntN(2) == 0 {
		ki = w.sched.IntN(max(1, w.cfg.Keys/8)) // hot keys: more conflicts
	}
	name := w.model.names[ki]
	key := []byte(name)
	var kind string
	switch x := w.sched.IntN(100); {
	case x < 65:
		kind = "set"
	case x < 87:
		kind = "del"
	default:
		kind = "incr"
	}
	var ttlMs int64
	if kind == "set" && w.sched.IntN(4) == 0 {
		ttlMs = 20 + int64(w.sched.IntN(20_000))
	}
	p := w.table.Partition(key)
	n := w.coordinator(p)
	if n == nil {
		w.counts.Unavailable++
		w.emit("unavail", "", name, 0)
		return
	}
	if !n.rep.Filled(p) {
		got := n.rep.FetchFromOwners(context.Background(), p, [][]byte{key})
		w.counts.Fetches++
		w.emit("fetch", n.id, name, int64(got))
	}
	now := w.nowMs()
	seq := w.counts.Writes + 1
	before := n.eng.Version(key)
	n.eng.Update(key, now, func(cur engine.Record, exists bool) (engine.Record, engine.Op) {
		switch kind {
		case "set":
			next := engine.Record{Value: []byte(strconv.Itoa(seq * 1000))}
			if ttlMs > 0 {
				next.ExpireAt = now + ttlMs
			}
			return next, engine.OpPut
		case "del":
			return engine.Record{}, engine.OpDelete
		}
		v := int64(0)
		if exists {
			var err error
			if v, err = strconv.ParseInt(string(cur.Value), 10, 64); err != nil {
				return cur, engine.OpNone // ERR value is not an integer
			}
		}
		return engine.Record{Value: []byte(strconv.FormatInt(v+1, 10)), ExpireAt: cur.ExpireAt}, engine.OpPut
	})
	if n.eng.Version(key) == before {
		w.emit(kind+"-noop", n.id, name, 0) // DEL of a missing key: nothing written
		return
	}
	stored, _ := n.eng.Lookup(key, now)
	acks, need := n.rep.Replicate(context.Background(), p, []repl.Entry{{Key: key, Rec: stored}})
	wr := write{seq: seq, step: w.step, node: n.id, rec: stored, acks: acks, acked: acks >= need}
	w.counts.Writes++
	switch {
	case kind == "del":
		w.counts.Deletes++
	case ttlMs > 0:
		w.counts.TTLWrites++
	}
	if wr.acked {
		w.counts.Acked++
		if acks < w.cfg.Replicas {
			w.counts.AckedUnderRF++
		}
	} else {
		w.counts.NotAcked++
	}
	if w.model.add(ki, wr) {
		w.counts.Inversions++
		w.emit("inversion", n.id, name, int64(stored.Version))
	}
	w.emitf(kind, n.id, name, "acks=%d/%d v=%d", int64(acks), int64(need), int64(stored.Version))
}

// coordinator returns the node that runs a write on partition p, as the
// store routes it: the client (a proxy, which sees the settled placement)
// sends it to the first live owner; that node runs it if its own view
// says it owns p, and otherwise forwards it to the first owner in its view
// it can reach, which runs it whatever its view says. Nil if nobody can.
func (w *world) coordinator(p int) *simNode {
	var entry *simNode
	for _, o := range w.table.Owners(p) {
		if c := w.byID(o); c.alive {
			entry = c
			break
		}
	}
	if entry == nil || entry.view.Owns(entry.id, p) {
		return entry
	}
	for _, o := range entry.view.Owners(p) {
		if o != entry.id && w.reachable(entry.id, o) {
			w.counts.Forwarded++
			return w.byID(o)
		}
	}
	return nil
}

// fullyReplicated is the oracle behind the kill rule, read from the
// engines: every node in the placement is up, and every owner of every
// key holds the key's last acknowledged write or something that replaces
// it under LWW (or nothing, for a delete whose grace is over). It returns
// "" if so, else the first missing copy.
func (w *world) fullyReplicated() string {
	for _, o := range w.table.Nodes() {
		if !w.byID(o).alive {
			return o + " is down"
		}
	}
	now := w.nowMs()
	for ki, name := range w.model.names {
		a, ok := w.model.acked(ki)
		if !ok {
			continue
		}
		ac := canonical(a.rec, now)
		for _, o := range w.table.OwnersOf([]byte(name)) {
			r, ok := w.byID(o).eng.Lookup([]byte(name), now)
			if !w.model.covers(ki, r, ok, ac, now, w.cfg.TombstoneTTL) {
				return fmt.Sprintf("%s (partition %d) on %s: %s, acked #%d %s", name, w.table.Partition([]byte(name)), o, describe(r, ok), a.seq, describe(ac, true))
			}
		}
	}
	return ""
}

// gaugeZero reports whether the underreplicated gauge, summed over the
// live nodes, reads 0: what an operator checks before taking a node down.
func (w *world) gaugeZero() bool {
	for _, n := range w.live() {
		if n.rep.Status().Underreplicated > 0 {
			return false
		}
	}
	return true
}
