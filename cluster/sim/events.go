package sim

import (
	"context"
	"fmt"
	"time"
)

// action is one kind of step, picked with chance weight/sum of weights.
type action struct {
	name   string
	weight int
	run    func(*world)
}

// actions returns the step menu. Faults are rare next to traffic and
// repair, as in life, but each run sees dozens of them.
func actions() []action {
	return []action{
		{"write", 46, (*world).clientWrite},
		{"advance", 14, (*world).advance},
		{"round", 12, (*world).round},
		{"flush", 8, (*world).flush},
		{"kill", 3, (*world).kill},
		{"restart", 5, (*world).restart},
		{"cut", 2, (*world).partition},
		{"drops", 2, (*world).drops},
		{"delays", 2, (*world).delays},
	}
}

// pick chooses the next action.
func (w *world) pick() action {
	if w.menu == nil {
		w.menu = actions()
	}
	menu := w.menu
	total := 0
	for _, a := range menu {
		total += a.weight
	}
	x := w.sched.IntN(total)
	for _, a := range menu {
		if x < a.weight {
			return a
		}
		x -= a.weight
	}
	panic("unreachable")
}

// advance moves the clock on by up to 200ms (now and then by 1 to 4s) and
// runs active expiry everywhere.
func (w *world) advance() {
	d := time.Duration(1+w.sched.IntN(200)) * time.Millisecond
	if w.sched.IntN(30) == 0 {
		d = time.Second + time.Duration(w.sched.IntN(3000))*time.Millisecond
	}
	w.tick(d)
	w.counts.ClockAdvances++
	w.emit("advance", "", "", d.Milliseconds())
}

// round runs anti-entropy (and handoff) on a random live node.
func (w *world) round() {
	nodes := w.live()
	n := nodes[w.sched.IntN(len(nodes))]
	if w.cfg.Sabotage&NoAntiEntropy != 0 {
		w.emit("round-off", n.id, "", 0)
		return
	}
	st := n.rep.Round(context.Background())
	w.counts.Rounds++
	w.counts.Repaired += st.Repaired
	w.counts.RoundFailures += st.Failed
	w.counts.Deferred += st.Deferred
	w.counts.HandedOff += st.HandedOff
	w.emitf("round", n.id, "", "cmp=%d diff=%d repaired=%d handoff=%d", int64(st.Compared), int64(st.Differing), int64(st.Repaired), int64(st.HandedOff))
}

// flush delivers one batch of hints per peer from a random live node.
func (w *world) flush() {
	nodes := w.live()
	n := nodes[w.sched.IntN(len(nodes))]
	d := n.rep.FlushHints(context.Background())
	w.counts.HintsDelivered += d
	w.emit("flush", n.id, "", int64(d))
}

// kill kills a random live node if the policy allows: its process and
// memory are gone, like kill -9 of an in-memory store. The membership
// notices 1 to 40 steps later.
func (w *world) kill() {
	down := w.down()
	var ok bool
	if down < w.cfg.Replicas-1 {
		missing := w.fullyReplicated()
		gauge := w.gaugeZero()
		if gauge && missing != "" && down == 0 && w.viewsSettled() {
			w.counts.GaugeLies++
			w.emit("gauge-lie", "", missing, 0)
			w.violate("gauge", fmt.Sprintf("step %d: the underreplicated gauge reads 0 on every node, but %s", w.step, missing))
		}
		ok = w.cfg.KillPolicy == KillWhenReplicated && missing == "" ||
			w.cfg.KillPolicy == KillWhenGaugeZero && gauge
	}
	if w.cfg.KillPolicy == KillAnytime {
		ok = down < w.cfg.Replicas
	}
	if !ok {
		w.counts.KillsRefused++
		return
	}
	nodes := w.live()
	n := nodes[w.sched.IntN(len(nodes))]
	n.alive = false
	n.inc++
	n.corpse, n.eng, n.rep = n.eng, nil, nil
	n.downAtMs = w.nowMs()
	w.net.SetDown(n.id, true)
	w.counts.Kills++
	w.emit("kill", n.id, "", 0)
	w.after(1+w.sched.IntN(40), timerDetect, n.idx, n.inc)
}

// restart starts a killed node again under its ID: empty, or with its
// data (a warm restart from disk) when it was down for less than half the
// tombstone grace. If the membership still lists it, either nobody noticed
// the restart (it stays), or it leaves and joins again as a joining node
// does; otherwise it joins 0 to 5 steps later. Now and then a node the
// membership already dropped is given up on instead and leaves for good,
// while RF+1 nodes stay up.
func (w *world) restart() {
	var dead []*simNode
	for _, n := range w.nodes {
		if !n.alive && !n.removed {
			dead = append(dead, n)
		}
	}
	if len(dead) == 0 {
		return
	}
	n := dead[w.sched.IntN(len(dead))]
	if !n.inTable && len(w.live()) >= w.cfg.Replicas+1 && w.sched.IntN(10) == 0 {
		// Given up on: the node leaves the cluster for good, as when a
		// failed machine is replaced by scaling down.
		n.removed, n.corpse = true, nil
		w.counts.Removals++
		w.emit("remove", n.id, "", 0)
		return
	}
	warm := w.sched.IntN(5) < 2 && w.nowMs()-n.downAtMs < w.cfg.TombstoneTTL.Milliseconds()/2
	w.start(n, warm)
	w.counts.Restarts++
	if warm {
		w.counts.WarmRestarts++
	}
	w.emit("restart", n.id, fmt.Sprintf("warm=%v", warm), 0)
	switch {
	case n.inTable && w.sched.IntN(2) == 0:
		n.inTable = false
		w.retable()
		w.after(1+w.sched.IntN(5), timerJoin, n.idx, n.inc)
	case n.inTable:
	default:
		if d := w.sched.IntN(6); d > 0 {
			w.after(d, timerJoin, n.idx, n.inc)
		} else {
			n.inTable = true
			w.counts.Joins++
			w.emit("join", n.id, "", 0)
			w.retable()
		}
	}
}

// partition cuts the nodes into two random groups that cannot reach each
// other, for 5 to 155 steps. One partition at a time.
func (w *world) partition() {
	if w.cutOn {
		return
	}
	perm := w.sched.Perm(len(w.nodes))
	k := 1 + w.sched.IntN(len(w.nodes)-1)
	var names []string
	for _, i := range perm[:k] {
		names = append(names, w.nodes[i].id)
		for _, j := range perm[k:] {
			w.cut[i][j], w.cut[j][i] = true, true
			w.net.Cut(w.nodes[i].id, w.nodes[j].id, true)
		}
	}
	w.cutOn = true
	w.counts.Cuts++
	w.emit("cut", "", fmt.Sprint(names), 0)
	w.after(5+w.sched.IntN(150), timerHeal, 0, 0)
}

// healCut heals the network partition, if any.
func (w *world) healCut() {
	if !w.cutOn {
		return
	}
	for i := range w.cut {
		for j := range w.cut[i] {
			if w.cut[i][j] {
				w.cut[i][j] = false
				w.net.Cut(w.nodes[i].id, w.nodes[j].id, false)
			}
		}
	}
	w.cutOn = false
	w.counts.Heals++
	w.emit("heal", "", "", 0)
}

// drops starts a period of 20 to 220 steps in which each call is lost
// with a chance between 2% and 27%.
func (w *world) drops() {
	if w.dropP > 0 {
		return
	}
	w.dropP = 0.02 + 0.25*w.sched.Float64()
	w.counts.DropPhases++
	w.emit("drops-on", "", fmt.Sprintf("%.3f", w.dropP), 0)
	w.after(20+w.sched.IntN(200), timerDropsOff, 0, 0)
}

// delays starts a period of 20 to 220 steps in which each Apply is
// delivered late with a chance between 5% and 35% (and duplicated with
// half that chance).
func (w *world) delays() {
	if w.delayP > 0 {
		return
	}
	w.delayP = 0.05 + 0.3*w.sched.Float64()
	w.counts.DelayPhases++
	w.emit("delays-on", "", fmt.Sprintf("%.3f", w.delayP), 0)
	w.after(20+w.sched.IntN(200), timerDelaysOff, 0, 0)
}
