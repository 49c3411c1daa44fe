package bench

import (
	"context"
	"fmt"
	"net/http"
	"runtime"
	"strconv"
	"strings"
	"time"

	"corral/bench/report"
	"corral/bench/workload"
)

// Run runs cfg's scenario and returns its report. It returns early, with
// an error, when ctx is done or a target cannot be started.
func Run(ctx context.Context, cfg Config) (*report.Report, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	wl, err := workload.New(cfg.Workload)
	if err != nil {
		return nil, err
	}
	specs := plan(cfg)
	if len(specs) == 0 {
		return nil, fmt.Errorf("bench: %s has nothing to run with these targets", cfg.Scenario)
	}
	r := &runner{
		cfg:  cfg,
		hc:   &http.Client{Timeout: 2 * time.Second},
		wl:   wl,
		each: cfg.Duration / time.Duration(len(specs)),
	}
	rep := &report.Report{
		Scenario:    cfg.Scenario,
		Description: describe(cfg),
		Started:     time.Now(),
		Command:     cfg.Command,
		Machine:     report.ThisMachine(),
		Params:      params(cfg, r.each),
		RunS:        r.each.Seconds(),
		Series:      map[string][]report.Point{},
	}
	for _, spec := range specs {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		// Collect the previous run's garbage now rather than during this
		// one's measurement.
		runtime.GC()
		run, series, err := r.execute(ctx, spec)
		if err != nil {
			return nil, err
		}
		rep.Runs = append(rep.Runs, run)
		if series != nil {
			rep.Series[run.Name] = series
		}
	}
	rep.Notes = notes(cfg, rep)
	return rep, nil
}

// The defenses the ablation switches off one at a time, with the flags
// that do it. Collapsing has no switch yet; its run is made only when the
// corral being run accepts --collapse=false.
var ablations = []struct {
	name, flagName string
	flags          []string
}{
	{"no collapse", "--collapse", []string{"--collapse=false"}},
	{"no xfetch", "", []string{"--xfetch-beta", "0"}},
	{"no stale-while-revalidate", "", []string{"--stale-while-revalidate", "0"}},
	{"no jitter", "", []string{"--ttl-jitter", "0"}},
	{"no shedding", "", []string{"--max-inflight", "0"}},
	{"no breakers", "", []string{"--breaker=false"}},
}

// plan lists the runs of cfg's scenario.
func plan(cfg Config) []runSpec {
	naive := runSpec{name: "naive", naive: true, description: "clients do cache-aside against a plain store: GET, on a miss load from the origin and SET"}
	corral := runSpec{name: "corral", description: "clients GET through a corral proxy reading through to the origin, every defense on"}
	if cfg.Addr != "" {
		corral = runSpec{name: cfg.Name, description: "the target at " + cfg.Addr}
	}
	var specs []runSpec
	switch cfg.Scenario {
	case "stampede", "recovery":
		naive.outage, corral.outage = cfg.Scenario == "recovery", cfg.Scenario == "recovery"
		if cfg.Addr == "" || cfg.PlainAddr != "" {
			specs = append(specs, naive)
		}
		specs = append(specs, corral)
	case "zipf":
		corral.prefill = true
		specs = append(specs, corral)
		if cfg.Addr == "" {
			specs = append(specs, runSpec{name: "corral (L1 off)", prefill: true, defenses: []string{"--l1-max-age", "0"},
				description: "the same through a proxy without its L1 cache: every GET goes to the store"})
		}
	case "ablation":
		corral.name = "all defenses"
		specs = append(specs, naive, corral)
		var all []string
		for _, a := range ablations {
			specs = append(specs, runSpec{name: a.name, defenses: a.flags, optional: a.flagName,
				description: "every defense on but this one (" + strings.Join(a.flags, " ") + ")"})
			if a.flagName == "" {
				all = append(all, a.flags...)
			}
		}
		specs = append(specs, runSpec{name: "no defenses", defenses: all,
			description: "every defense that has a switch off (" + strings.Join(all, " ") + "); collapsing stays on"})
	}
	return specs
}

// describe says what the scenario does, in one sentence.
func describe(cfg Config) string {
	mode := fmt.Sprintf("%d clients in closed loop", cfg.Clients)
	if cfg.Rate > 0 {
		mode = fmt.Sprintf("%s requests/s (open loop) from %d clients", report.Count(cfg.Rate), cfg.Clients)
	}
	origin := fmt.Sprintf("an origin taking %v per load (slower beyond %d concurrent loads), values fresh for %v", cfg.Origin.Latency, cfg.Origin.MaxConcurrency, cfg.Origin.MaxAge)
	if cfg.Addr != "" {
		origin = "the target's own origin"
	}
	switch cfg.Scenario {
	case "stampede":
		return fmt.Sprintf("a hot set of %d keys, loaded together and so expiring together, read by %s; %s.", cfg.Workload.Keys, mode, origin)
	case "recovery":
		return fmt.Sprintf("%d keys read by %s; %s, down (503) from %v to %v into each run: a retry storm against breakers and stale serving.",
			cfg.Workload.Keys, mode, origin, cfg.OutageStart, cfg.OutageStart+cfg.OutageLength)
	case "zipf":
		return fmt.Sprintf("steady zipfian traffic (skew %v over %s keys, %.0f%% reads, %d-byte values) from %s, pipeline %d.",
			cfg.Workload.Skew, report.Count(float64(cfg.Workload.Keys)), cfg.Workload.ReadRatio*100, cfg.Workload.ValueSize, mode, cfg.Pipeline)
	case "ablation":
		return fmt.Sprintf("the stampede (a hot set of %d keys expiring together, %s; %s) once per defense switched off.", cfg.Workload.Keys, mode, origin)
	}
	return cfg.Scenario
}

// params lists the settings for the record.
func params(cfg Config, each time.Duration) []report.Param {
	ps := []report.Param{
		{Name: "duration per run", Value: each.String()},
		{Name: "clients", Value: itoa(cfg.Clients)},
		{Name: "mode", Value: "closed loop"},
		{Name: "pipeline", Value: itoa(cfg.Pipeline)},
		{Name: "keys", Value: fmt.Sprintf("%s (%s)", report.Count(float64(cfg.Workload.Keys)), cfg.Workload.Dist)},
		{Name: "read ratio", Value: fmt.Sprint(cfg.Workload.ReadRatio)},
		{Name: "value size", Value: itoa(cfg.Workload.ValueSize) + " bytes"},
		{Name: "interval", Value: cfg.Interval.String()},
		{Name: "seed", Value: fmt.Sprint(cfg.Seed)},
	}
	if cfg.Rate > 0 {
		ps[2].Value = fmt.Sprintf("open loop, %s requests/s", report.Count(cfg.Rate))
	}
	if cfg.Workload.Dist == workload.Zipfian {
		ps = append(ps, report.Param{Name: "zipf skew", Value: fmt.Sprint(cfg.Workload.Skew)})
	}
	if cfg.Addr == "" {
		ps = append(ps,
			report.Param{Name: "origin latency", Value: fmtDur(cfg.Origin.Latency)},
			report.Param{Name: "origin jitter", Value: fmtDur(cfg.Origin.Jitter)},
			report.Param{Name: "origin max concurrency", Value: itoa(cfg.Origin.MaxConcurrency)},
			report.Param{Name: "origin max-age", Value: fmtDur(cfg.Origin.MaxAge)})
		if len(cfg.CorralFlags) > 0 {
			ps = append(ps, report.Param{Name: "corral flags", Value: strings.Join(cfg.CorralFlags, " ")})
		}
	} else {
		ps = append(ps, report.Param{Name: "target", Value: cfg.Addr})
	}
	if cfg.Scenario == "recovery" {
		ps = append(ps, report.Param{Name: "outage", Value: fmt.Sprintf("from %v for %v", cfg.OutageStart, cfg.OutageLength)})
	}
	if cfg.Scenario != "zipf" {
		ps = append(ps, report.Param{Name: "naive retries", Value: itoa(cfg.NaiveRetries)})
	}
	return ps
}

// notes compares the runs in a sentence or two.
func notes(cfg Config, rep *report.Report) []string {
	var out []string
	base := rep.Run("naive")
	switch cfg.Scenario {
	case "stampede", "recovery":
		var c *report.Run
		for i := range rep.Runs {
			if rep.Runs[i].Name != "naive" {
				c = &rep.Runs[i]
				break
			}
		}
		if base == nil || c == nil || base.OriginLoads == nil || c.OriginLoads == nil {
			break
		}
		out = append(out, fmt.Sprintf("Origin loads: %s %s, naive %s: %s fewer.", c.Name, report.Loads(c.OriginLoads), report.Loads(base.OriginLoads),
			report.Times(float64(*base.OriginLoads), float64(*c.OriginLoads))))
		out = append(out, fmt.Sprintf("p99 latency: %s %s, naive %s (origin latency %v).", c.Name, report.Ms(c.P99Ms), report.Ms(base.P99Ms), cfg.Origin.Latency))
		out = append(out, fmt.Sprintf("Errors: %s %s, naive %s.", c.Name, report.Count(float64(c.Errors+c.Unfinished)), report.Count(float64(base.Errors+base.Unfinished))))
	case "zipf":
		on, off := rep.Run("corral"), rep.Run("corral (L1 off)")
		if on != nil && off != nil && off.OpsPerS > 0 {
			out = append(out, fmt.Sprintf("The L1 gives %s the throughput (%s vs %s ops/s); p99 %s vs %s.",
				report.Times(on.OpsPerS, off.OpsPerS), report.Count(on.OpsPerS), report.Count(off.OpsPerS), report.Ms(on.P99Ms), report.Ms(off.P99Ms)))
		}
	case "ablation":
		all := rep.Run("all defenses")
		if all == nil || all.OriginLoads == nil {
			break
		}
		for _, run := range rep.Runs {
			if run.Name == all.Name || !run.Available || run.OriginLoads == nil {
				continue
			}
			out = append(out, fmt.Sprintf("%s: %s origin loads (%s those with every defense), p99 %s (vs %s), errors %s.",
				run.Name, report.Loads(run.OriginLoads), report.Times(float64(*run.OriginLoads), float64(*all.OriginLoads)),
				report.Ms(run.P99Ms), report.Ms(all.P99Ms), report.Count(float64(run.Errors+run.Unfinished))))
		}
	}
	return out
}

// fmtDur formats a duration for the settings table.
func fmtDur(d time.Duration) string {
	if d == 0 {
		return "0"
	}
	return d.String()
}

// itoa formats an int.
func itoa(n int) string { return strconv.Itoa(n) }
