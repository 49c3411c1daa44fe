package sim

import (
	"fmt"
	"strings"
)

// maxPerKind bounds the violations of one kind a Result lists.
const maxPerKind = 5

// Result is the outcome of one run.
type Result struct {
	Config Config
	Counts Counts
	// Violations lists broken invariants, the first few of each kind;
	// Broken counts them all, and ByKind by kind.
	Violations []Violation
	Broken     int
	ByKind     map[string]int
	// Digest covers every event of the run and the final state of every
	// node: two runs of one Config must give the same Digest.
	Digest uint64
	// Trace holds the last events of the run, for failure reports.
	Trace []string
}

// Failed reports whether an invariant broke.
func (r *Result) Failed() bool { return r.Broken > 0 }

// Has reports whether an invariant of the given kind broke.
func (r *Result) Has(kind string) bool { return r.ByKind[kind] > 0 }

// Report describes the run: its shape, counts, violations and last events.
func (r *Result) Report() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%v\ncounts: %v\n", r.Config, r.Counts)
	if r.Broken > 0 {
		fmt.Fprintf(&b, "%d violations:\n", r.Broken)
		for _, v := range r.Violations {
			fmt.Fprintf(&b, "  %v\n", v)
		}
	}
	b.WriteString("last events:\n")
	for _, e := range r.Trace {
		fmt.Fprintf(&b, "  %s\n", e)
	}
	return b.String()
}

// Run plays one seeded run: Steps steps of client writes and faults, then
// the heal, convergence and the invariant checks. It is deterministic:
// the same Config gives the same Result, Digest included.
func Run(cfg Config) (*Result, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	w := newWorld(cfg)
	for w.step = 0; w.step < cfg.Steps; w.step++ {
		w.runTimers()
		w.updateViews(false)
		w.deliverLate(false)
		w.pick().run(w)
	}
	w.counts.Steps = cfg.Steps
	w.heal()
	rounds, why := w.converge()
	w.counts.ConvergeRounds = rounds
	vs := w.check(why)
	res := &Result{Config: cfg, Counts: w.counts, Broken: len(vs), ByKind: map[string]int{}}
	for _, v := range vs {
		if res.ByKind[v.Kind]++; res.ByKind[v.Kind] <= maxPerKind {
			res.Violations = append(res.Violations, v)
		}
	}
	res.Trace = w.trace.last()
	w.digestState()
	for _, f := range w.counts.Fields() {
		w.trace.mix(uint64(f.Value))
	}
	res.Digest = w.trace.d.Sum64()
	return res, nil
}

// digestState folds every node's final state into the trace digest: its
// liveness and, for a live node, every partition's root.
func (w *world) digestState() {
	w.trace.mix(uint64(w.nowMs()))
	for _, n := range w.nodes {
		if !n.alive {
			w.trace.mix(0)
			continue
		}
		w.trace.mix(1)
		for p := range w.cfg.Partitions {
			w.trace.mix(n.eng.Root(p))
		}
	}
}
