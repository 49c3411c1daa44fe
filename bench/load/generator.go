// Package load generates RESP load: many connections, closed loop (fixed
// concurrency) or open loop (fixed arrival rate, latency measured from
// each request's scheduled send time), optionally pipelined, recording
// latencies in HDR-style histograms and a time series of throughput,
// percentiles, errors and any counters the caller samples.
package load

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"sync"
	"time"

	"corral/bench/hist"
)

// Session executes operations on one connection. Do is called by one
// worker goroutine at a time; it sets each op's Err and Miss.
type Session interface {
	Do(ctx context.Context, ops []Op)
	Close() error
}

// Executor opens the Session of each worker before the run starts.
type Executor interface {
	Session(ctx context.Context, worker int) (Session, error)
}

// Point is one interval of a run's time series.
type Point struct {
	At     time.Duration // end of the interval, since the start of the run
	Span   time.Duration // length of the interval
	Counts               // operations completed in the interval
	P50    time.Duration
	P99    time.Duration
	P999   time.Duration
	Max    time.Duration

	// Counters holds the increase of each of Config.Counters' counters
	// over the interval.
	Counters map[string]float64
}

// PerSecond scales a count over the point's span to a rate per second.
func (p Point) PerSecond(n float64) float64 {
	if p.Span <= 0 {
		return 0
	}
	return n / p.Span.Seconds()
}

// Result is what a run measured.
type Result struct {
	Elapsed time.Duration   // from the first scheduled request to the last completion
	Hist    *hist.Histogram // every latency, in nanoseconds
	Counts
	ErrorKinds map[string]uint64 // error texts (shortened) and how often they occurred
	Series     []Point
	Counters   map[string]float64 // increase of each counter over the run
}

// dialConcurrency bounds the sessions opened at once before a run.
const dialConcurrency = 64

// Run opens a session per connection, then issues load as cfg describes
// until cfg.Duration has passed and the grace period has let pending
// requests finish. It returns an error only when the configuration is
// invalid or sessions cannot be opened; failed requests are counted.
func Run(ctx context.Context, cfg Config, exec Executor) (*Result, error) {
	cfg = cfg.withDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	sessions, err := openSessions(ctx, exec, cfg.Conns)
	if err != nil {
		return nil, err
	}
	defer func() {
		for _, s := range sessions {
			_ = s.Close()
		}
	}()

	g := &gen{cfg: cfg, rec: newRecorder(min(cfg.Conns, 32))}
	g.prev = g.counters(ctx)
	first := maps.Clone(g.prev)
	g.start = cfg.Clock.Now()
	g.end = g.start.Add(cfg.Duration)
	g.cutoff = g.end.Add(cfg.Grace)
	g.last = g.start
	if cfg.OnStart != nil {
		cfg.OnStart(g.start)
	}

	// opCtx bounds every request: nothing is pending past the grace.
	opCtx, cancelOps := context.WithTimeout(ctx, cfg.Duration+cfg.Grace)
	defer cancelOps()
	sampCtx, stopSampling := context.WithCancel(ctx)
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		g.sample(sampCtx)
	}()

	var wg sync.WaitGroup
	if cfg.Rate > 0 {
		due := make(chan time.Time, cfg.Conns*cfg.Pipeline)
		go pace(opCtx, cfg.Clock, cfg.Sleep, g.start, g.end, cfg.Rate, due)
		for w, s := range sessions {
			wg.Go(func() { g.openWorker(opCtx, w, s, due) })
		}
	} else {
		for w, s := range sessions {
			wg.Go(func() { g.closedWorker(opCtx, w, s) })
		}
	}
	wg.Wait()
	stopSampling()
	<-sampled
	finalCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Second)
	defer cancel()
	g.point(finalCtx, cfg.Clock.Now(), true)

	res := &Result{Elapsed: g.last.Sub(g.start), Series: g.series, Counters: map[string]float64{}}
	res.Hist, res.Counts, res.ErrorKinds = g.rec.totals()
	for k, v := range g.prev {
		res.Counters[k] = v - first[k]
	}
	return res, nil
}

// gen is one run in progress.
type gen struct {
	cfg                Config
	rec                *recorder
	start, end, cutoff time.Time

	// Owned by the sampling goroutine, then by Run once it has stopped.
	last   time.Time          // end of the last point
	prev   map[string]float64 // counters at last
	series []Point
}

// openSessions opens n sessions, at most dialConcurrency at a time; on
// failure it closes those it opened.
func openSessions(ctx context.Context, exec Executor, n int) ([]Session, error) {
	sessions := make([]Session, n)
	errs := make([]error, n)
	sem := make(chan struct{}, dialConcurrency)
	var wg sync.WaitGroup
	for i := range sessions {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			sessions[i], errs[i] = exec.Session(ctx, i)
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		for _, s := range sessions {
			if s != nil {
				_ = s.Close()
			}
		}
		return nil, fmt.Errorf("load: opening %d connections: %w", n, err)
	}
	return sessions, nil
}

// rng returns worker w's random source.
func (g *gen) rng(w int) *rand.Rand {
	return rand.New(rand.NewPCG(g.cfg.Seed, uint64(w)))
}

// draw fills ops with the workload's next operations, all due at due.
func (g *gen) draw(r *rand.Rand, ops []Op, due time.Time) {
	for i := range ops {
		key, write := g.cfg.Workload.Next(r)
		ops[i] = Op{Key: key, Write: write, Intended: due}
	}
}

// closedWorker sends batch after batch until the run's end.
func (g *gen) closedWorker(ctx context.Context, w int, s Session) {
	r := g.rng(w)
	ops := make([]Op, g.cfg.Pipeline)
	for ctx.Err() == nil {
		now := g.cfg.Clock.Now()
		if !now.Before(g.end) {
			return
		}
		g.draw(r, ops, now)
		s.Do(ctx, ops)
		g.recordBatch(ctx, w, ops)
	}
}

// openWorker takes due times from due, up to a pipeline's worth at a time
// when several are waiting, and sends them; latencies count from the due
// times. Requests taken after the grace has run out are not sent and count
// as unfinished.
func (g *gen) openWorker(ctx context.Context, w int, s Session, due <-chan time.Time) {
	r := g.rng(w)
	ops := make([]Op, 0, g.cfg.Pipeline)
	for t := range due {
		ops = append(ops[:0], Op{Intended: t})
	batch:
		for len(ops) < g.cfg.Pipeline {
			select {
			case t, ok := <-due:
				if !ok {
					break batch
				}
				ops = append(ops, Op{Intended: t})
			default:
				break batch
			}
		}
		for i := range ops {
			ops[i].Key, ops[i].Write = g.cfg.Workload.Next(r)
		}
		now := g.cfg.Clock.Now()
		if ctx.Err() != nil || !now.Before(g.cutoff) {
			g.rec.unfinished(w, now, ops)
			continue
		}
		s.Do(ctx, ops)
		g.recordBatch(ctx, w, ops)
	}
}

// recordBatch records a batch the worker has just had answered; failures
// once the run's context is done or its grace is over count as unfinished
// (the context's deadline and the connection's, which is set from it, may
// be seen in either order).
func (g *gen) recordBatch(ctx context.Context, w int, ops []Op) {
	done := g.cfg.Clock.Now()
	g.rec.record(w, done, ops, ctx.Err() != nil || !done.Before(g.cutoff))
}

// sample takes a point at every interval boundary until ctx is done.
func (g *gen) sample(ctx context.Context) {
	for k := 1; ; k++ {
		at := g.start.Add(time.Duration(k) * g.cfg.Interval)
		// A Sleeper may wake early: sleep until the clock says at.
		for g.cfg.Clock.Now().Before(at) {
			if g.cfg.Sleep(ctx, at) != nil {
				return
			}
		}
		if ctx.Err() != nil {
			return
		}
		g.point(ctx, at, false)
	}
}

// point closes the interval ending at at and appends it to the series.
// With final set, it is the run's last point, taken when every worker
// has finished.
func (g *gen) point(ctx context.Context, at time.Time, final bool) {
	h, c := g.rec.swap()
	now := g.counters(ctx)
	delta := map[string]float64{}
	for k, v := range now {
		if old, ok := g.prev[k]; ok {
			delta[k] = v - old
		}
		g.prev[k] = v // a counter that failed to scrape keeps its last value
	}
	if n := len(g.series); final && n > 0 && at.Sub(g.last) < g.cfg.Interval/4 {
		// A sliver after the last full interval (or, under a fake clock,
		// no time at all): what completed in it joins the last point
		// rather than making a point whose rate means little.
		last := &g.series[n-1]
		last.Counts.add(c)
		last.Max = max(last.Max, time.Duration(h.Max()))
		for k, v := range delta {
			last.Counters[k] += v
		}
		return
	}
	p := Point{
		At:       at.Sub(g.start),
		Span:     at.Sub(g.last),
		Counts:   c,
		P50:      h.QuantileDuration(0.5),
		P99:      h.QuantileDuration(0.99),
		P999:     h.QuantileDuration(0.999),
		Max:      time.Duration(h.Max()),
		Counters: delta,
	}
	g.last = at
	g.series = append(g.series, p)
	if g.cfg.OnPoint != nil {
		g.cfg.OnPoint(p)
	}
}

// counters samples Config.Counters, or returns an empty map.
func (g *gen) counters(ctx context.Context) map[string]float64 {
	m := map[string]float64{}
	if g.cfg.Counters != nil {
		maps.Copy(m, g.cfg.Counters(ctx))
	}
	return m
}
