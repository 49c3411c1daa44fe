package sim

import (
	"context"
	"errors"
	"math"
	"slices"

	"corral/cluster/engine"
	"corral/cluster/repl"
)

// errLate is what a sender sees for an Apply the network will deliver
// later: it cannot tell a slow message from a lost one.
var errLate = errors.New("sim: no answer (delivered late)")

// lateMsg is an Apply in flight.
type lateMsg struct {
	due      int // step it arrives at
	from, to string
	sentMs   int64
	entries  []repl.Entry
}

// simTransport is a node's view of the simulated network: MemNet (which
// knows down nodes, cut links and drops) plus late and duplicated
// delivery of Apply calls, and the sabotage switches.
type simTransport struct {
	w     *world
	from  string
	inner repl.Transport
}

// Apply sends entries to node to. When late deliveries are on, the call
// may time out from the sender's view (errLate, so it hints) while the
// entries arrive at a later step, or succeed and arrive a second time
// later: late, duplicated and reordered records must all be harmless.
func (t *simTransport) Apply(ctx context.Context, to string, entries []repl.Entry) error {
	w := t.w
	if w.cfg.Sabotage&DropTombstones != 0 {
		entries = slices.DeleteFunc(slices.Clone(entries), func(e repl.Entry) bool { return e.Rec.Tombstone })
	}
	if w.delayP > 0 && w.reachable(t.from, to) {
		switch x := w.netr.Float64(); {
		case x < w.delayP:
			w.sendLate(t.from, to, entries)
			w.counts.LateSent++
			return errLate
		case x < 1.5*w.delayP:
			w.sendLate(t.from, to, entries)
			w.counts.Duplicated++
		}
	}
	if w.cfg.Sabotage&BlindApply != 0 {
		if err := t.inner.Apply(ctx, to, nil); err != nil {
			return err
		}
		w.deliver(w.byID(to), entries)
		return nil
	}
	return t.inner.Apply(ctx, to, entries)
}

// Roots, Buckets, Keys and Fetch go straight to MemNet.
func (t *simTransport) Roots(ctx context.Context, to string, parts []int, roots []uint64) ([]uint64, error) {
	return t.inner.Roots(ctx, to, parts, roots)
}

func (t *simTransport) Buckets(ctx context.Context, to string, part int) ([]uint64, error) {
	return t.inner.Buckets(ctx, to, part)
}

func (t *simTransport) Keys(ctx context.Context, to string, part int, buckets []int) ([]engine.KeyHash, error) {
	return t.inner.Keys(ctx, to, part, buckets)
}

func (t *simTransport) Fetch(ctx context.Context, to string, keys [][]byte) ([]repl.Entry, error) {
	return t.inner.Fetch(ctx, to, keys)
}

// drop is MemNet.Drop: while drops are on, each call is lost with chance
// dropP. MemNet asks it in call order, which Serial makes deterministic.
func (w *world) drop(from, to, op string) bool {
	if w.dropP == 0 || w.netr.Float64() >= w.dropP {
		return false
	}
	w.counts.Drops++
	return true
}

// reachable reports whether a call from one node to another gets through
// (drops aside).
func (w *world) reachable(from, to string) bool {
	a, b := w.byID(from), w.byID(to)
	return a != nil && b != nil && a.alive && b.alive && !w.cut[a.idx][b.idx]
}

// sendLate puts a copy of entries in flight, to arrive 1 to 80 steps on.
func (w *world) sendLate(from, to string, entries []repl.Entry) {
	cp := make([]repl.Entry, len(entries))
	for i, e := range entries {
		cp[i] = repl.Entry{Key: slices.Clone(e.Key), Rec: e.Rec}
		cp[i].Rec.Value = slices.Clone(e.Rec.Value)
	}
	m := lateMsg{due: w.step + 1 + w.netr.IntN(80), from: from, to: to, sentMs: w.nowMs(), entries: cp}
	w.inflight = append(w.inflight, m)
	w.nextDue = min(w.nextDue, m.due)
	w.emit("late", from, to, int64(len(entries)))
}

// deliverLate delivers the messages in flight that are due (all of them
// with all), in sending order. A message is lost if its receiver is down or
// cut off from the sender when it arrives, or if it has been in flight for
// half the tombstone grace period or more: a network does not keep packets
// that long, and a record older than the grace could bring back a deleted
// key whose tombstone is gone.
func (w *world) deliverLate(all bool) {
	if len(w.inflight) == 0 || !all && w.nextDue > w.step {
		return
	}
	w.nextDue = math.MaxInt
	keep := w.inflight[:0]
	var due []lateMsg
	for _, m := range w.inflight {
		if all || m.due <= w.step {
			due = append(due, m)
		} else {
			keep = append(keep, m)
			w.nextDue = min(w.nextDue, m.due)
		}
	}
	w.inflight = keep
	for _, m := range due {
		n, from := w.byID(m.to), w.byID(m.from)
		if !n.alive || w.cut[from.idx][n.idx] || w.nowMs()-m.sentMs >= w.cfg.TombstoneTTL.Milliseconds()/2 {
			w.counts.LateLost++
			w.emit("late-lost", m.from, m.to, int64(len(m.entries)))
			continue
		}
		changed := w.deliver(n, m.entries)
		w.counts.LateArrived++
		w.counts.LateApplied += changed
		w.emit("late-in", m.from, m.to, int64(changed))
	}
}

// deliver applies entries on n as its server side would, and returns how
// many records changed. With BlindApply, each record is stored as a fresh
// local write whatever its version: last arrival wins instead of last
// writer.
func (w *world) deliver(n *simNode, entries []repl.Entry) int {
	if w.cfg.Sabotage&BlindApply == 0 {
		return n.rep.Local().Apply(entries)
	}
	now := w.nowMs()
	for _, e := range entries {
		n.eng.Update(e.Key, now, func(engine.Record, bool) (engine.Record, engine.Op) {
			if e.Rec.Tombstone {
				return engine.Record{}, engine.OpDelete
			}
			return engine.Record{Value: slices.Clone(e.Rec.Value), ExpireAt: e.Rec.ExpireAt}, engine.OpPut
		})
	}
	return len(entries)
}
