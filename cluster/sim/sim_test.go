package sim

import (
	"flag"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
)

var (
	flagSeed  = flag.Int64("sim.seed", -1, "run only this seed (replays a failure exactly)")
	flagSeeds = flag.Int("sim.seeds", 200, "run seeds 1..N")
	flagSteps = flag.Int("sim.steps", 1500, "fault-phase steps per seed")
	flagLog   = flag.Bool("sim.log", false, "log every seed's counts and last events")
	flagTrace = flag.String("sim.trace", "", "with -sim.seed: log every event whose text contains this (\"all\" for every event)")
)

// seeds returns the seeds to run: -sim.seed alone, or 1..-sim.seeds.
func seeds() []uint64 {
	if *flagSeed >= 0 {
		return []uint64{uint64(*flagSeed)}
	}
	out := make([]uint64, *flagSeeds)
	for i := range out {
		out[i] = uint64(i + 1)
	}
	return out
}

// runSeeds runs cfgFor(seed) for every seed, on GOMAXPROCS workers, and
// returns the results in seed order.
func runSeeds(t *testing.T, ss []uint64, cfgFor func(seed uint64) Config) []*Result {
	t.Helper()
	out := make([]*Result, len(ss))
	var next atomic.Int64
	var wg sync.WaitGroup
	for range runtime.GOMAXPROCS(0) {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= len(ss) {
					return
				}
				res, err := Run(cfgFor(ss[i]))
				if err != nil {
					t.Errorf("seed %d: %v", ss[i], err)
					continue
				}
				out[i] = res
			}
		})
	}
	wg.Wait()
	return out
}

// replay returns the command that replays seed exactly (with or without
// -race: the run is the same).
func replay(seed uint64) string {
	cmd := fmt.Sprintf("go test ./cluster/sim -run TestSimulation -sim.seed=%d", seed)
	if f := flag.Lookup("sim.steps"); f.Value.String() != f.DefValue {
		cmd += " -sim.steps=" + f.Value.String()
	}
	return "replay: " + cmd
}

// minPerSeed is how often each kind of event must happen on average over
// the seeds (about a quarter of what the default seeds show), so that the
// simulation cannot quietly decay into a run without faults or repairs.
var minPerSeed = []struct {
	name string
	min  float64
}{
	{"Deletes", 20}, {"TTLWrites", 20}, {"NotAcked", 10}, {"AckedUnderRF", 50}, {"Fetches", 10},
	{"Kills", 1}, {"Restarts", 1}, {"WarmRestarts", 0.3}, {"Detections", 0.3}, {"Joins", 0.5}, {"Removals", 0.01},
	{"Cuts", 3}, {"Heals", 3}, {"Drops", 30}, {"LateSent", 30}, {"Duplicated", 15},
	{"LateArrived", 30}, {"LateLost", 8}, {"HintsDelivered", 50}, {"Repaired", 50},
	{"Deferred", 0.02}, {"HandedOff", 2}, {"ConvergeRepaired", 1},
}

// TestSimulation runs the seeds (1..-sim.seeds, or -sim.seed alone) and
// reports every broken invariant with the command that replays the seed.
// Each seed must see a kill or a network partition, and over many seeds
// every kind of fault and repair must happen often enough.
func TestSimulation(t *testing.T) {
	ss := seeds()
	results := runSeeds(t, ss, func(s uint64) Config {
		c := ConfigFor(s, *flagSteps)
		c.FullTrace = *flagTrace != "" && *flagSeed >= 0
		return c
	})
	var all []Counts
	maxRounds, rounds := 0, map[int]int{}
	for i, res := range results {
		if res == nil {
			continue
		}
		c := res.Counts
		all = append(all, c)
		maxRounds = max(maxRounds, c.ConvergeRounds)
		rounds[c.ConvergeRounds]++
		if res.Config.FullTrace {
			var lines []string
			for _, e := range res.Trace {
				if *flagTrace == "all" || strings.Contains(e, *flagTrace) {
					lines = append(lines, e)
				}
			}
			t.Logf("events matching %q:\n%s", *flagTrace, strings.Join(lines, "\n"))
			res.Trace = res.Trace[max(0, len(res.Trace)-traceTail):]
		}
		if res.Failed() {
			t.Errorf("seed %d broke %d invariants\n%s%s", ss[i], res.Broken, res.Report(), replay(ss[i]))
			continue
		}
		if c.Kills+c.Cuts == 0 {
			t.Errorf("seed %d: neither a kill nor a cut happened: %v\n%s", ss[i], c, replay(ss[i]))
		}
		if *flagLog {
			t.Logf("seed %d converged in %d rounds\n%s", ss[i], c.ConvergeRounds, res.Report())
		}
	}
	total := Sum(all...)
	var b strings.Builder
	for _, f := range total.Fields() {
		fmt.Fprintf(&b, "  %-17s %8d\n", f.Name, f.Value)
	}
	t.Logf("%d seeds × %d steps; converged in 1/2/3/more rounds: %d/%d/%d/%d seeds (at most %d); totals:\n%s",
		len(all), *flagSteps, rounds[1], rounds[2], rounds[3], len(all)-rounds[1]-rounds[2]-rounds[3], maxRounds, b.String())
	if len(all) < 50 {
		return // too few seeds to expect every kind of event
	}
	got := map[string]int{}
	for _, f := range total.Fields() {
		got[f.Name] = f.Value
	}
	for _, m := range minPerSeed {
		if want := int(m.min * float64(len(all))); got[m.name] < max(want, 1) {
			t.Errorf("%s happened %d times over %d seeds, want at least %d: the simulation lost a kind of event", m.name, got[m.name], len(all), max(want, 1))
		}
	}
}

// TestDeterminism runs seeds twice and compares the digests of their whole
// event trace and final state: nothing may depend on map order, goroutine
// scheduling or the wall clock, or a failing seed would not replay.
func TestDeterminism(t *testing.T) {
	var ss []uint64
	for s := range uint64(10) {
		ss = append(ss, 1000+s)
	}
	cfgFor := func(s uint64) Config { return ConfigFor(s, 1500) }
	a := runSeeds(t, ss, cfgFor)
	b := runSeeds(t, ss, cfgFor)
	for i := range ss {
		if a[i] == nil || b[i] == nil {
			continue
		}
		if a[i].Digest != b[i].Digest || a[i].Counts != b[i].Counts {
			t.Errorf("seed %d ran differently twice: digest %x vs %x\n%v\n%v", ss[i], a[i].Digest, b[i].Digest, a[i].Counts, b[i].Counts)
		}
	}
}

// TestCheckerCatches breaks the system on purpose in four ways and checks
// that the invariant each break violates is reported, in most seeds: the
// checks can fail, and a run that passes means something.
func TestCheckerCatches(t *testing.T) {
	cases := []struct {
		name  string
		tweak func(*Config)
		kind  string
	}{
		{"merge ignores versions", func(c *Config) { c.Sabotage = BlindApply }, "lost"},
		{"no anti-entropy", func(c *Config) { c.Sabotage = NoAntiEntropy }, "convergence"},
		{"tombstones not replicated", func(c *Config) { c.Sabotage = DropTombstones }, "resurrected"},
		{"kills ignore replication", func(c *Config) { c.KillPolicy = KillAnytime }, "lost"},
	}
	var ss []uint64
	for s := range uint64(6) {
		ss = append(ss, 500+s)
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			results := runSeeds(t, ss, func(s uint64) Config {
				c := ConfigFor(s, 1500)
				tc.tweak(&c)
				return c
			})
			caught := 0
			var example string
			for _, r := range results {
				if r == nil || !r.Has(tc.kind) {
					continue
				}
				caught++
				for _, v := range r.Violations {
					if v.Kind == tc.kind && example == "" {
						example = fmt.Sprintf("seed %d: %v", r.Config.Seed, v)
					}
				}
			}
			t.Logf("%q reported in %d of %d seeds, e.g. %s", tc.kind, caught, len(ss), example)
			if caught < len(ss)*2/3 {
				t.Errorf("%q reported in only %d of %d seeds", tc.kind, caught, len(ss))
			}
		})
	}
}
