package sim

import (
	"context"
	"fmt"
	"time"
)

// heal ends the fault phase: the network partition heals, drops and
// delays stop, messages in flight arrive, and every dead node either
// starts again (warm if it may) or, while at least RF+1 nodes remain,
// leaves the cluster for good. The membership then settles: the placement
// holds exactly the live nodes.
func (w *world) heal() {
	w.healCut()
	w.dropP, w.delayP = 0, 0
	w.deliverLate(true)
	w.timers = nil
	for _, n := range w.nodes {
		if n.alive || n.removed {
			continue
		}
		if len(w.live()) >= w.cfg.Replicas+1 && w.sched.IntN(3) == 0 {
			n.removed = true
			n.corpse = nil
			w.counts.Removals++
			w.emit("remove", n.id, "", 0)
			continue
		}
		warm := w.sched.IntN(2) == 0 && w.nowMs()-n.downAtMs < w.cfg.TombstoneTTL.Milliseconds()/2
		w.start(n, warm)
		w.counts.Restarts++
		if warm {
			w.counts.WarmRestarts++
		}
		w.emit("restart", n.id, fmt.Sprintf("warm=%v", warm), 0)
	}
	changed := false
	for _, n := range w.nodes {
		if n.inTable != n.alive {
			n.inTable = n.alive
			changed = true
		}
	}
	if changed {
		w.retable()
	}
	w.updateViews(true)
}

// converge runs rounds until the cluster has converged or
// MaxConvergeRounds ran. A round moves the clock on by a second (with
// expiry everywhere), then every live node in turn delivers all its hints
// and runs one anti-entropy round. It returns the rounds it took (0 if it
// did not converge) and, if not, what was still wrong.
func (w *world) converge() (int, string) {
	why := ""
	for r := 1; r <= w.cfg.MaxConvergeRounds; r++ {
		w.tick(time.Second)
		for _, n := range w.live() {
			for range 1000 {
				d := n.rep.FlushHints(context.Background())
				w.counts.HintsDelivered += d
				if n.rep.HintsQueued() == 0 {
					break
				}
			}
			if w.cfg.Sabotage&NoAntiEntropy == 0 {
				st := n.rep.Round(context.Background())
				w.counts.ConvergeRepaired += st.Repaired
			}
		}
		if why = w.unconverged(); why == "" {
			w.emit("converged", "", "", int64(r))
			return r, ""
		}
	}
	return 0, why
}

// unconverged returns what keeps the cluster from having converged, or ""
// if it has: every owner of a partition has the same root digest, no node
// holds records of a partition it does not own (handoff is done), and
// every node's replication status is clean (nothing underreplicated,
// unfilled, to hand off or hinted).
func (w *world) unconverged() string {
	for p := range w.cfg.Partitions {
		owners := w.table.Owners(p)
		first := w.byID(owners[0]).eng.Root(p)
		for _, o := range owners[1:] {
			if r := w.byID(o).eng.Root(p); r != first {
				return fmt.Sprintf("partition %d: %s root %x, %s root %x", p, owners[0], first, o, r)
			}
		}
	}
	for _, n := range w.live() {
		for p := range w.cfg.Partitions {
			if !w.table.Owns(n.id, p) && n.eng.PartitionRecordCount(p) > 0 {
				return fmt.Sprintf("%s still holds %d records of partition %d, owned by %v", n.id, n.eng.PartitionRecordCount(p), p, w.table.Owners(p))
			}
		}
		if st := n.rep.Status(); st.Underreplicated+st.Unfilled+st.Handoff+st.Hints > 0 {
			return fmt.Sprintf("%s status %+v", n.id, st)
		}
	}
	return ""
}

// Violation is an invariant a run broke.
type Violation struct {
	Kind   string // "convergence", "lost", "resurrected", "phantom" or "gauge"
	Detail string
}

func (v Violation) String() string { return v.Kind + ": " + v.Detail }

// check tests the invariants after convergence (see the package comment).
func (w *world) check(convergeWhy string) []Violation {
	out := w.broken
	if convergeWhy != "" {
		out = append(out, Violation{"convergence", fmt.Sprintf("not converged after %d rounds: %s", w.cfg.MaxConvergeRounds, convergeWhy)})
	}
	now := w.nowMs()
	ttl := w.cfg.TombstoneTTL
	for ki, name := range w.model.names {
		a, ok := w.model.acked(ki)
		if !ok {
			continue
		}
		key := []byte(name)
		ac := canonical(a.rec, now)
		for i, o := range w.table.OwnersOf(key) {
			role := "primary"
			if i > 0 {
				role = "owner"
			}
			r, ok := w.byID(o).eng.Lookup(key, now)
			switch {
			case !w.model.covers(ki, r, ok, ac, now, ttl):
				out = append(out, Violation{"lost", fmt.Sprintf("%s: %s %s holds %s; last acked write is #%d at step %d on %s: %s",
					name, role, o, describe(r, ok), a.seq, a.step, a.node, describe(ac, true))})
			case ok && !w.model.issued(ki, r, now):
				out = append(out, Violation{"lost", fmt.Sprintf("%s: %s %s holds %s, which no client wrote; last acked write is #%d: %s",
					name, role, o, describe(r, ok), a.seq, describe(ac, true))})
			}
		}
		if isDead, _ := dead(ac, now, ttl); !isDead {
			continue
		}
		for _, n := range w.live() {
			if r, ok := n.eng.Get(key, now); ok && !lwwAfter(r, ac) {
				out = append(out, Violation{"resurrected", fmt.Sprintf("%s: %s reads %s; the last acked write, #%d at step %d on %s, was %s",
					name, n.id, describe(r, true), a.seq, a.step, a.node, describe(ac, true))})
			}
		}
	}
	for _, n := range w.live() {
		for p := range w.cfg.Partitions {
			for _, e := range partitionRecords(n.eng, p) {
				ki, known := w.model.index[string(e.Key)]
				if !known || !w.model.issued(ki, e.Rec, now) {
					out = append(out, Violation{"phantom", fmt.Sprintf("%s holds %s = %s, which no client wrote", n.id, e.Key, describe(e.Rec, true))})
				}
			}
		}
	}
	return out
}
