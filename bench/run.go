package bench

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/redis/go-redis/v9"

	"corral/bench/load"
	"corral/bench/originsim"
	"corral/bench/report"
	"corral/bench/workload"
)

// runSpec is one run of a scenario.
type runSpec struct {
	name        string
	description string
	naive       bool     // clients do cache-aside against a plain store
	defenses    []string // `corral dev` flags of this run
	optional    string   // a flag corral may lack: then the run is reported as not available
	outage      bool     // the origin fails for a while during the run
	prefill     bool     // SET every key first; otherwise read every key once
}

// runner runs the specs of one scenario.
type runner struct {
	cfg  Config
	hc   *http.Client // probes
	wl   *workload.Workload
	each time.Duration // measured time of each run
}

// env is what one run talks to.
type env struct {
	addr      string // RESP target
	admin     string // its admin HTTP address, "" unknown
	originURL string
	sim       *originsim.Sim // nil when the origin is not ours
	stops     []func()       // in reverse order of need
}

func (e *env) stop() {
	for i := len(e.stops) - 1; i >= 0; i-- {
		e.stops[i]()
	}
}

// unavailableError marks a run whose corral lacks the switch it needs.
type unavailableError struct{ flag string }

func (e *unavailableError) Error() string {
	return "not available: corral has no " + e.flag + " switch yet"
}

// setup starts (or finds) the origin and target of spec.
func (r *runner) setup(ctx context.Context, spec runSpec) (*env, error) {
	e := &env{}
	if r.cfg.Addr == "" {
		oc := r.cfg.Origin
		oc.Addr = "127.0.0.1:0"
		oc.Seed = r.cfg.Seed
		sim, err := originsim.New(oc)
		if err != nil {
			return nil, err
		}
		if err := sim.Listen(); err != nil {
			return nil, err
		}
		simCtx, cancel := context.WithCancel(ctx)
		done := make(chan struct{})
		go func() { _ = sim.Run(simCtx); close(done) }()
		e.stops = append(e.stops, func() { cancel(); <-done })
		e.sim, e.originURL = sim, sim.URL()
	} else {
		e.originURL = r.cfg.OriginURL
	}

	switch {
	case spec.naive && r.cfg.PlainAddr != "":
		e.addr = r.cfg.PlainAddr
	case spec.naive:
		t, err := r.cfg.Launcher(ctx, storeArgs(true))
		if flagNotDefined(err) {
			t, err = r.cfg.Launcher(ctx, storeArgs(false))
		}
		if err != nil {
			e.stop()
			return nil, fmt.Errorf("bench: starting a corral store: %w", err)
		}
		e.stops = append(e.stops, func() { _ = t.Stop() })
		e.addr = t.Addr
	case r.cfg.Addr != "":
		e.addr, e.admin = r.cfg.Addr, r.cfg.AdminAddr
	default:
		args := devArgs(e.originURL, spec.defenses, r.cfg.CorralFlags)
		t, err := r.cfg.Launcher(ctx, args)
		if err != nil {
			e.stop()
			if spec.optional != "" && flagNotDefined(err) {
				return nil, &unavailableError{spec.optional}
			}
			return nil, fmt.Errorf("bench: starting corral dev: %w", err)
		}
		e.stops = append(e.stops, func() { _ = t.Stop() })
		e.addr, e.admin = t.Addr, t.Admin
	}
	return e, nil
}

// executor is a load.Executor with a client for setup and a Close.
type executor interface {
	load.Executor
	Client() *redis.Client
	Close() error
}

// execute runs spec and returns its summary and time series.
func (r *runner) execute(ctx context.Context, spec runSpec) (report.Run, []report.Point, error) {
	e, err := r.setup(ctx, spec)
	if ue := (*unavailableError)(nil); errors.As(err, &ue) {
		return report.Run{Name: spec.name, Description: spec.description, Note: ue.Error()}, nil, nil
	}
	if err != nil {
		return report.Run{}, nil, err
	}
	defer e.stop()

	writeTTL := r.cfg.Origin.MaxAge
	if spec.prefill {
		writeTTL = 0
	}
	resp := load.RESPConfig{Addr: e.addr, Password: r.cfg.Password, Conns: r.cfg.Clients + warmConcurrency, WriteTTL: writeTTL, Value: r.wl.Value()}
	var ex executor
	var fill func(ctx context.Context, c redis.Cmdable, key string) error
	if spec.naive {
		ca, err := load.NewCacheAside(load.CacheAsideConfig{Store: resp, Origin: e.originURL, Retries: r.cfg.NaiveRetries})
		if err != nil {
			return report.Run{}, nil, err
		}
		ex, fill = ca, ca.Fill
	} else {
		ex = load.NewRESP(resp)
	}
	defer ex.Close()

	if err := r.warm(ctx, ex.Client(), spec.prefill, fill); err != nil {
		return report.Run{}, nil, fmt.Errorf("bench: %s: warming the cache: %w", spec.name, err)
	}

	label := r.cfg.Scenario + "/" + spec.name
	var errorsSoFar uint64
	outage := r.outage(ctx, e, spec)
	defer outage.stop()
	res, err := load.Run(ctx, load.Config{
		Conns:    r.cfg.Clients,
		Rate:     r.cfg.Rate,
		Pipeline: r.cfg.Pipeline,
		Duration: r.each,
		Interval: r.cfg.Interval,
		Workload: r.wl,
		Seed:     r.cfg.Seed,
		Counters: r.counters(e),
		OnStart:  outage.start,
		OnPoint: func(p load.Point) {
			errorsSoFar += p.Errors + p.Unfinished
			r.cfg.Progress.Update(label, p.At, r.each, p.PerSecond(float64(p.Ops)), ms(p.P99), errorsSoFar)
		},
	}, ex)
	r.cfg.Progress.Done()
	if err != nil {
		return report.Run{}, nil, fmt.Errorf("bench: %s: %w", spec.name, err)
	}
	run, series := summarize(spec, res, r.each, e.sim != nil || r.cfg.OriginStats != "")
	return run, series, nil
}

// counters returns the sampler of the origin's and the target's counters.
func (r *runner) counters(e *env) func(context.Context) map[string]float64 {
	return func(ctx context.Context) map[string]float64 {
		m := map[string]float64{}
		switch {
		case e.sim != nil:
			l, f := e.sim.Counts()
			m[ctrOriginLoads], m[ctrOriginFailed] = float64(l), float64(f)
		case r.cfg.OriginStats != "":
			if l, f, err := originStats(ctx, r.hc, r.cfg.OriginStats); err == nil {
				m[ctrOriginLoads], m[ctrOriginFailed] = float64(l), float64(f)
			}
		}
		if e.admin != "" {
			if mm, err := scrapeMetrics(ctx, r.hc, "http://"+e.admin+"/metrics", "corral_l1_hits_total", "corral_l1_misses_total"); err == nil {
				if v, ok := mm["corral_l1_hits_total"]; ok {
					m[ctrL1Hits] = v
					m[ctrL1Misses] = mm["corral_l1_misses_total"]
				}
			}
		}
		return m
	}
}
