package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	"corral/bench"
	"corral/bench/originsim"
	"corral/bench/report"
	"corral/bench/workload"
)

const benchUsage = `Usage: corral bench <scenario|origin> [flags]

Scenarios start what they need in-process (an origin simulator, a corral
store and proxy on loopback ports), or use running targets with --addr:
  stampede   a hot set expiring together: naive cache-aside clients, then corral
  recovery   the origin fails and comes back: retry storm vs breakers and stale serving
  zipf       steady zipfian read-heavy traffic: throughput, latency, hit ratio (L1 on, off)
  ablation   the stampede once per defense switched off

  origin     run the origin simulator alone: an HTTP origin for --origin http://ADDR/k/{key}

Each prints a summary table; --json FILE and --html FILE write the full report.
Run 'corral bench <scenario> --help' for its flags and defaults.
`

// runBench dispatches `corral bench <scenario|origin>`.
func runBench(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, benchUsage)
		return usagef("corral bench: missing scenario")
	}
	switch sub := args[0]; sub {
	case "help", "--help", "-help", "-h":
		fmt.Fprint(stdout, benchUsage)
		return nil
	case "origin":
		return runBenchOrigin(ctx, args[1:], getenv, stdout, stderr)
	default:
		if _, err := bench.DefaultConfig(sub); err != nil {
			fmt.Fprint(stderr, benchUsage)
			return usagef("corral bench: unknown scenario %q", sub)
		}
		return runScenario(ctx, sub, args[1:], getenv, stdout, stderr)
	}
}

// scenarioSummaries describe each scenario in its --help.
var scenarioSummaries = map[string]string{
	"stampede": "A hot set of keys loaded together, so expiring together, read by many clients: once as naive cache-aside\nclients against a plain store, once through corral. Reports origin loads, latency and errors of each.",
	"recovery": "The origin fails for a while and recovers: naive clients retrying at once against corral's breakers\nand stale serving.",
	"zipf":     "Steady zipfian read-heavy traffic: throughput, latency and hit ratio, through corral with its L1 on and\noff, or against any RESP server with --addr.",
	"ablation": "The stampede once per defense switched off (collapse, xfetch, stale-while-revalidate, jitter, shedding,\nbreakers), beside naive clients and corral with every defense, so the table shows what each one buys.",
}

// runScenario parses a scenario's flags, runs it and writes its reports.
func runScenario(ctx context.Context, scenario string, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	cfg, _ := bench.DefaultConfig(scenario)
	f := newFlags("bench "+scenario, scenarioSummaries[scenario], stderr)
	var (
		dist, corralFlags, jsonPath, htmlPath string
		keys                                  uint64
		markdown, quiet                       bool
	)
	f.DurationVar(&cfg.Duration, "duration", cfg.Duration, "measured time of the whole scenario, split evenly among its runs")
	f.DurationVar(&cfg.Interval, "interval", cfg.Interval, "width of one point of the time series")
	f.IntVar(&cfg.Clients, "clients", cfg.Clients, "client connections")
	f.Float64Var(&cfg.Rate, "rate", cfg.Rate, "requests per second on a fixed schedule (open loop, latency from the scheduled time); 0 runs closed loop, each client sending when answered")
	f.IntVar(&cfg.Pipeline, "pipeline", cfg.Pipeline, "commands per round trip")
	f.StringVar(&dist, "dist", string(cfg.Workload.Dist), "key `distribution`: uniform, zipf or hotset")
	f.Uint64Var(&keys, "keys", cfg.Workload.Keys, "keys in the keyspace (the hot set's size for hotset)")
	f.Float64Var(&cfg.Workload.Skew, "skew", cfg.Workload.Skew, "zipf exponent: key k is drawn with probability proportional to 1/(k+1)^skew")
	f.Float64Var(&cfg.Workload.ReadRatio, "read-ratio", cfg.Workload.ReadRatio, "share of requests that are GETs; the rest are SETs")
	f.IntVar(&cfg.Workload.ValueSize, "value-size", cfg.Workload.ValueSize, "bytes per value, written and served by the origin")
	f.DurationVar(&cfg.Origin.Latency, "latency", cfg.Origin.Latency, "origin simulator: time per load")
	f.DurationVar(&cfg.Origin.Jitter, "jitter", cfg.Origin.Jitter, "origin simulator: up to this much more per load, drawn uniformly")
	f.IntVar(&cfg.Origin.MaxConcurrency, "max-concurrency", cfg.Origin.MaxConcurrency, "origin simulator: loads served at full speed at once; beyond, each takes proportionally longer (0 unlimited)")
	f.DurationVar(&cfg.Origin.MaxAge, "max-age", cfg.Origin.MaxAge, "origin simulator: Cache-Control max-age of values (whole seconds)")
	f.DurationVar(&cfg.OutageStart, "outage-start", cfg.OutageStart, "recovery: when the origin fails, from the start of each run")
	f.DurationVar(&cfg.OutageLength, "outage-length", cfg.OutageLength, "recovery: how long the origin stays down")
	f.IntVar(&cfg.NaiveRetries, "naive-retries", cfg.NaiveRetries, "immediate retries of a failed origin load by naive clients")
	f.StringVar(&cfg.Addr, "addr", "", "a running target `host:port` (a corral proxy or any RESP server) instead of starting corral in-process")
	f.StringVar(&cfg.Password, "password", "", "password for --addr and --plain-addr")
	f.StringVar(&cfg.AdminAddr, "admin-addr", "", "--addr's admin `host:port`, for the L1 hit ratio from its /metrics")
	f.StringVar(&cfg.PlainAddr, "plain-addr", "", "a plain store or redis-server `host:port` for the naive runs (default: a corral store in-process)")
	f.StringVar(&cfg.OriginURL, "origin", "", "with --addr: the origin `URL` naive clients load from, http://host:port/k/{key}")
	f.StringVar(&cfg.OriginStats, "origin-stats", "", "with --addr: the /stats `URL` of a running 'corral bench origin', to count origin loads (and switch it off and on for recovery)")
	f.StringVar(&cfg.Name, "name", cfg.Name, "name of the run against --addr")
	f.StringVar(&corralFlags, "corral-flags", "", "extra `flags` for every corral started in-process, space-separated (e.g. \"--l1-max-age 2s\")")
	f.Uint64Var(&cfg.Seed, "seed", cfg.Seed, "seed of every random choice")
	f.StringVar(&jsonPath, "json", "", "write the report as JSON to `file`")
	f.StringVar(&htmlPath, "html", "", "write the report as one self-contained HTML page with charts to `file`")
	f.BoolVar(&markdown, "markdown", false, "print the summary as a Markdown table")
	f.BoolVar(&quiet, "quiet", false, "no progress line, even on a terminal")
	if err := f.parse(args, getenv); err != nil {
		return err
	}
	cfg.Workload.Dist, cfg.Workload.Keys = workload.Dist(dist), keys
	cfg.CorralFlags = strings.Fields(corralFlags)
	cfg.Launcher = launch
	cfg.Command = "corral bench " + scenario + " " + strings.Join(args, " ")
	if !quiet {
		cfg.Progress = report.NewProgress(stderr)
	}
	if err := cfg.Validate(); err != nil {
		return usagef("corral bench %s: %v", scenario, err)
	}
	rep, err := bench.Run(ctx, cfg)
	if err != nil {
		return err
	}
	if markdown {
		err = report.WriteMarkdown(stdout, rep)
	} else {
		err = report.WriteTable(stdout, rep)
	}
	if err != nil {
		return err
	}
	if jsonPath != "" {
		if err := writeFile(jsonPath, func(w io.Writer) error { return report.WriteJSON(w, rep) }); err != nil {
			return err
		}
	}
	if htmlPath != "" {
		if err := writeFile(htmlPath, func(w io.Writer) error { return report.WriteHTML(w, rep) }); err != nil {
			return err
		}
	}
	return nil
}

// writeFile writes path through write.
func writeFile(path string, write func(io.Writer) error) error {
	fh, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := write(fh); err != nil {
		fh.Close()
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return fh.Close()
}

// runBenchOrigin serves the origin simulator until ctx is done.
func runBenchOrigin(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	cfg := originsim.DefaultConfig()
	f := newFlags("bench origin", "An HTTP origin for benchmarks: GET /k/{key} serves any key after --latency, slower when more than\n--max-concurrency loads run at once; GET /stats counts loads per key; POST /fail and /recover switch failure.\nPoint corral at it with --origin http://ADDR/k/{key}.", stderr)
	f.StringVar(&cfg.Addr, "listen", cfg.Addr, "HTTP `address` to serve on")
	f.DurationVar(&cfg.Latency, "latency", cfg.Latency, "time per load")
	f.DurationVar(&cfg.Jitter, "jitter", cfg.Jitter, "up to this much more per load, drawn uniformly")
	f.IntVar(&cfg.MaxConcurrency, "max-concurrency", cfg.MaxConcurrency, "loads served at full speed at once; beyond, each takes proportionally longer (0 unlimited)")
	f.DurationVar(&cfg.MaxAge, "max-age", cfg.MaxAge, "Cache-Control max-age of values, whole seconds (0 sends none)")
	f.DurationVar(&cfg.FailAfter, "fail-after", 0, "answer 503 from this long after start (0 never)")
	f.DurationVar(&cfg.RecoverAfter, "recover-after", 0, "recover this long after failing began (0 stays down)")
	f.IntVar(&cfg.ValueSize, "value-size", cfg.ValueSize, "bytes per value")
	f.Uint64Var(&cfg.Seed, "seed", 1, "seed of the jitter")
	if err := f.parse(args, getenv); err != nil {
		return err
	}
	sim, err := originsim.New(cfg)
	if err != nil {
		return usagef("corral bench origin: %v", err)
	}
	if err := sim.Listen(); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "corral bench origin: serving %s (stats at http://%s/stats)\n", sim.URL(), sim.Addr())
	return sim.Run(ctx)
}

// launch is bench's Launcher: it runs a corral role in-process through
// run, exactly as the command line would, isolated from CORRAL_*
// variables, and returns once the role serves.
func launch(ctx context.Context, args []string) (bench.Target, error) {
	if len(args) == 0 || (args[0] != "dev" && args[0] != "store" && args[0] != "proxy") {
		return bench.Target{}, fmt.Errorf("bench: can launch dev, store or proxy, not %q", args)
	}
	ctx, cancel := context.WithCancel(ctx)
	started := make(chan bench.Target, 1)
	done := make(chan error, 1)
	hook := startedFunc(func(resp, admin string) { started <- bench.Target{Addr: resp, Admin: admin} })
	go func() {
		done <- run(context.WithValue(ctx, startedKey{}, hook), args, func(string) string { return "" }, io.Discard, io.Discard)
	}()
	select {
	case t := <-started:
		if t.Admin != "" {
			if err := awaitReady(ctx, "http://"+t.Admin+"/ready", done); err != nil {
				cancel()
				return bench.Target{}, fmt.Errorf("corral %s: %w", args[0], err)
			}
		}
		var once sync.Once
		var stopErr error
		t.Stop = func() error {
			once.Do(func() {
				cancel()
				select {
				case stopErr = <-done:
				case <-time.After(30 * time.Second):
					stopErr = fmt.Errorf("corral %s did not stop within 30s", args[0])
				}
			})
			return stopErr
		}
		return t, nil
	case err := <-done:
		cancel()
		if err == nil {
			err = errors.New("exited before serving")
		}
		return bench.Target{}, fmt.Errorf("corral %s: %w", args[0], err)
	}
}

// readyTimeout bounds the wait for a launched role's /ready.
const readyTimeout = 10 * time.Second

// awaitReady polls url until it answers 200, the role exits (done), or
// readyTimeout passes.
func awaitReady(ctx context.Context, url string, done <-chan error) error {
	hc := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(readyTimeout)
	wait := time.Millisecond
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return err
		}
		if resp, err := hc.Do(req); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("not ready within %v", readyTimeout)
		}
		t := time.NewTimer(wait)
		select {
		case err := <-done:
			t.Stop()
			return fmt.Errorf("exited before it was ready: %v", err)
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
		wait = min(2*wait, 50*time.Millisecond)
	}
}
