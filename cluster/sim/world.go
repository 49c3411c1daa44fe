package sim

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"corral/cluster/engine"
	"corral/cluster/placement"
	"corral/cluster/repl"
	"corral/internal/clock"
)

// startMs is the simulated clock's reading when a run starts, unix ms.
const startMs = 1_700_000_000_000

// world is one simulated cluster: real engines and replicators on one fake
// clock, joined by a MemNet, and everything around them (clients,
// membership, faults) played by a seeded schedule. It runs on one
// goroutine.
type world struct {
	cfg   Config
	clock *clock.Fake
	now   int64 // clock's reading, unix ms
	net   *repl.MemNet
	sched *rand.Rand // what happens next
	netr  *rand.Rand // drops and late deliveries, asked in call order

	nodes []*simNode
	ids   map[string]int   // node ID → index, for lookups only
	table *placement.Table // the placement the membership settles on; each node sees it a little later

	menu     []action
	step     int
	timers   []timer
	timerSeq int
	inflight []lateMsg // late Apply calls, in sending order
	nextDue  int       // no message in flight is due before this step

	cutOn  bool
	cut    [][]bool // cut[i][j]: the link between nodes i and j is severed
	dropP  float64  // chance MemNet loses a call, 0 when off
	delayP float64  // chance an Apply is delivered late, 0 when off

	model  *model
	counts Counts
	trace  *trace
	broken []Violation // invariants broken during the fault phase
}

// simNode is one store node: a process (engine and replicator) that can
// be killed and started again under the same ID.
type simNode struct {
	id       string
	idx      int
	eng      *engine.Engine
	rep      *repl.Replicator
	alive    bool
	removed  bool // left the cluster for good at the heal
	inTable  bool // in the placement (active, as the membership sees it)
	inc      int  // incarnation: bumped by every kill and start
	downAtMs int64
	corpse   *engine.Engine // a killed process's engine: its disk, for a warm restart

	view    *placement.Table // the placement this process sees
	pending []viewChange     // newer placements it will see, in order
}

// viewChange is a placement a node sees from a given step on.
type viewChange struct {
	step  int
	table *placement.Table
}

type timerKind uint8

const (
	timerDetect timerKind = iota // the membership notices a killed node
	timerJoin                    // a started node becomes active
	timerHeal                    // the network partition heals
	timerDropsOff
	timerDelaysOff
)

// timer is something scheduled for a later step.
type timer struct {
	step, seq int
	kind      timerKind
	node, inc int
}

func newWorld(cfg Config) *world {
	fc := clock.NewFake(time.UnixMilli(startMs))
	w := &world{
		cfg:   cfg,
		clock: fc,
		net:   repl.NewMemNet(fc),
		sched: rand.New(rand.NewPCG(cfg.Seed, streamSchedule)),
		netr:  rand.New(rand.NewPCG(cfg.Seed, streamNet)),
		model: newModel(cfg.Keys),
		trace: newTrace(cfg.FullTrace),
		cut:   make([][]bool, cfg.Nodes),
		ids:   make(map[string]int, cfg.Nodes),
		now:   startMs,
	}
	w.net.Drop = w.drop
	for i := range cfg.Nodes {
		w.cut[i] = make([]bool, cfg.Nodes)
		n := &simNode{id: fmt.Sprintf("n%d", i), idx: i, inTable: true}
		w.nodes = append(w.nodes, n)
		w.ids[n.id] = i
	}
	w.retable()
	for _, n := range w.nodes {
		w.start(n, false)
	}
	return w
}

// nowMs returns the simulated time in unix ms. Only tick moves the clock,
// so it keeps a copy (reading the Fake takes a lock, which -race makes
// dear).
func (w *world) nowMs() int64 { return w.now }

// tick moves the clock on by d and runs active expiry on every live
// engine, as their loops would.
func (w *world) tick(d time.Duration) {
	w.clock.Advance(d)
	w.now = w.clock.Now().UnixMilli()
	for _, n := range w.nodes {
		if n.alive {
			n.eng.ExpireTick(w.now)
		}
	}
}

func (w *world) emit(kind, node, arg string, n int64) {
	w.trace.add(event{step: w.step, at: w.nowMs() - startMs, kind: kind, node: node, arg: arg, nums: [4]int64{n}})
}

// emitf records an event with up to four numbers, shown with format.
func (w *world) emitf(kind, node, arg, format string, nums ...int64) {
	e := event{step: w.step, at: w.nowMs() - startMs, kind: kind, node: node, arg: arg, format: format}
	copy(e.nums[:], nums)
	w.trace.add(e)
}

// after schedules a timer d steps from now.
func (w *world) after(d int, kind timerKind, node, inc int) {
	w.timerSeq++
	w.timers = append(w.timers, timer{step: w.step + d, seq: w.timerSeq, kind: kind, node: node, inc: inc})
}

// runTimers fires the timers due at this step, in the order they were set.
func (w *world) runTimers() {
	if len(w.timers) == 0 {
		return
	}
	var due []timer
	w.timers = slices.DeleteFunc(w.timers, func(t timer) bool {
		if t.step <= w.step {
			due = append(due, t)
			return true
		}
		return false
	})
	slices.SortFunc(due, func(a, b timer) int { return a.seq - b.seq })
	for _, t := range due {
		n := w.nodes[t.node]
		switch t.kind {
		case timerDetect:
			if !n.alive && n.inc == t.inc && n.inTable {
				n.inTable = false
				w.counts.Detections++
				w.emit("detect", n.id, "", 0)
				w.retable()
			}
		case timerJoin:
			if n.alive && n.inc == t.inc && !n.inTable {
				n.inTable = true
				w.counts.Joins++
				w.emit("join", n.id, "", 0)
				w.retable()
			}
		case timerHeal:
			w.healCut()
		case timerDropsOff:
			w.dropP = 0
			w.emit("drops-off", "", "", 0)
		case timerDelaysOff:
			w.delayP = 0
			w.emit("delays-off", "", "", 0)
		}
	}
}

// retable rebuilds the placement from the nodes in the table. Every live
// node then looks at it, as a store's replicator does within a tenth of
// the anti-entropy interval (its hint ticker), so no node skips a table.
func (w *world) retable() {
	var ids []string
	for _, n := range w.nodes {
		if n.inTable {
			ids = append(ids, n.id)
		}
	}
	t, err := placement.New(w.cfg.Partitions, w.cfg.Replicas, ids)
	if err != nil {
		panic(fmt.Sprintf("sim: placement over %v: %v", ids, err)) // IDs are valid by construction
	}
	w.table = t
	w.emit("table", "", strings.Join(ids, ","), 0)
	for _, n := range w.nodes {
		if !n.alive {
			continue
		}
		at := w.step + w.sched.IntN(maxViewLag+1)
		if k := len(n.pending); k > 0 {
			at = max(at, n.pending[k-1].step)
		}
		n.pending = append(n.pending, viewChange{at, t})
	}
	w.updateViews(false)
}

// maxViewLag is how many steps a node may take to see a new placement.
const maxViewLag = 3

// updateViews makes every live node see the placements due by now (all of
// them with all), one after the other: each node sees every placement, in
// order, as a store's replicator does (it looks at least every tenth of
// the anti-entropy interval, far more often than membership changes).
func (w *world) updateViews(all bool) {
	for _, n := range w.nodes {
		for n.alive && len(n.pending) > 0 && (all || n.pending[0].step <= w.step) {
			n.view = n.pending[0].table
			n.pending = n.pending[1:]
			n.rep.Owners(0)
		}
	}
}

// viewsSettled reports whether every live node sees the current placement.
func (w *world) viewsSettled() bool {
	for _, n := range w.live() {
		if n.view != w.table {
			return false
		}
	}
	return true
}

// start runs a fresh process for n: an empty engine, or with warm the
// records its killed predecessor held (loaded in key order, as from a
// snapshot), and a new replicator.
func (w *world) start(n *simNode, warm bool) {
	n.inc++
	ecfg := engine.DefaultConfig()
	ecfg.Partitions = w.cfg.Partitions
	ecfg.Clock = w.clock
	ecfg.TombstoneTTL = w.cfg.TombstoneTTL
	ecfg.Rand = rand.New(rand.NewPCG(w.cfg.Seed, streamEngines<<32|uint64(n.idx)<<16|uint64(n.inc)))
	e, err := engine.New(ecfg)
	if err != nil {
		panic(fmt.Sprintf("sim: engine: %v", err)) // Validate checked the inputs
	}
	if warm && n.corpse != nil {
		loaded := 0
		for p := range w.cfg.Partitions {
			for _, en := range partitionRecords(n.corpse, p) {
				if e.Merge(en.Key, en.Rec) {
					loaded++
				}
			}
		}
		w.emit("load", n.id, "", int64(loaded))
	}
	n.corpse = nil
	rc := repl.DefaultConfig()
	rc.Self = n.id
	rc.Engine = e
	rc.Transport = &simTransport{w: w, from: n.id, inner: w.net.Transport(n.id)}
	rc.Table = func() *placement.Table { return n.view }
	rc.Replicas = w.cfg.Replicas
	rc.Acks = w.cfg.Acks
	rc.HintsPerPeer = w.cfg.HintsPerPeer
	rc.HintBatch = w.cfg.HintBatch
	rc.AERate = w.cfg.AERate
	rc.Serial = true
	rc.Clock = w.clock
	rc.Rand = func() float64 { return 0.5 }
	// Contexts carry wall-clock deadlines; make them unreachable so that a
	// slow machine cannot fail a call and change the run.
	rc.Timeout = time.Hour
	r, err := repl.New(rc)
	if err != nil {
		panic(fmt.Sprintf("sim: replicator: %v", err))
	}
	n.eng, n.rep, n.alive = e, r, true
	n.view, n.pending = w.table, nil // a starting process reads the membership
	w.net.Add(n.id, r.Local())
	r.Owners(0)
}

// partitionRecords returns partition p's records, tombstones included, in
// key order (the engine gives them in map order).
func partitionRecords(e *engine.Engine, p int) []repl.Entry {
	var out []repl.Entry
	e.PartitionRecords(p, func(k []byte, r engine.Record) bool {
		out = append(out, repl.Entry{Key: k, Rec: r})
		return true
	})
	slices.SortFunc(out, func(a, b repl.Entry) int { return strings.Compare(string(a.Key), string(b.Key)) })
	return out
}

func (w *world) byID(id string) *simNode {
	if len(id) == 2 && id[0] == 'n' && int(id[1]-'0') < len(w.nodes) {
		return w.nodes[id[1]-'0'] // the common case, without hashing
	}
	i, ok := w.ids[id]
	if !ok {
		return nil
	}
	return w.nodes[i]
}

// live returns the running nodes in ID order.
func (w *world) live() []*simNode {
	var out []*simNode
	for _, n := range w.nodes {
		if n.alive {
			out = append(out, n)
		}
	}
	return out
}

// down counts the killed nodes that have not left the cluster for good.
func (w *world) down() int {
	k := 0
	for _, n := range w.nodes {
		if !n.alive && !n.removed {
			k++
		}
	}
	return k
}

// violate records an invariant broken during the fault phase.
func (w *world) violate(kind, detail string) {
	w.broken = append(w.broken, Violation{Kind: kind, Detail: detail})
	w.emit("VIOLATION", "", kind, 0)
}
