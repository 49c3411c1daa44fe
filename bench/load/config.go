package load

import (
	"context"
	"errors"
	"fmt"
	"time"

	"corral/bench/workload"
	"corral/internal/clock"
)

// Sleeper pauses until the time is t or until ctx is done, returning ctx's
// error then. It may return early, as a fake clock's does whenever the time
// moves: callers read the clock again and sleep again if it is not yet t.
// It takes the moment rather than a duration so that a fake clock can
// compare it with its time and start waiting in one step: a duration,
// computed from an earlier reading, would miss a move made in between.
type Sleeper func(ctx context.Context, t time.Time) error

// Config configures one load-generating run.
type Config struct {
	// Conns is the number of client connections, each driven by a worker
	// of its own. Default 50.
	Conns int

	// Rate selects the mode. 0 runs closed loop: every worker sends its
	// next request as soon as the previous one is answered, so Conns fixes
	// the concurrency. Above 0 runs open loop: requests arrive at Rate per
	// second on a fixed schedule whatever the latency, and each latency is
	// measured from the scheduled send time, so a stalled target's backlog
	// shows in the percentiles (no coordinated omission).
	Rate float64

	// Pipeline is the number of commands a worker sends per round trip;
	// 1 sends them one at a time. Default 1.
	Pipeline int

	// Duration is how long requests are issued. Default 10s.
	Duration time.Duration

	// Interval is the width of one point of the time series. Default 1s.
	Interval time.Duration

	// Grace is how long after Duration requests already issued may still
	// complete; what is still pending then counts as unfinished. Default 1s.
	Grace time.Duration

	// Workload draws the operations. Required.
	Workload *workload.Workload

	// Seed seeds every worker's random source (worker i uses Seed and i).
	Seed uint64

	// Clock reads the time. Nil means clock.Real.
	Clock clock.Clock

	// Sleep pauses the pacer and the sampler. Nil sleeps on a real timer.
	Sleep Sleeper

	// Counters, when set, returns cumulative counters of the target or the
	// origin (L1 hits, origin loads, ...); it is called at the start and at
	// every point, and each point holds their increase over its interval.
	// It is called from one goroutine at a time.
	Counters func(ctx context.Context) map[string]float64

	// OnStart, when set, is called with the start time once every session
	// is open, just before the first request is due.
	OnStart func(start time.Time)

	// OnPoint, when set, is called with each point of the time series as it
	// is taken, from the sampling goroutine.
	OnPoint func(Point)
}

// Defaults of Config's zero fields.
const (
	DefaultConns    = 50
	DefaultPipeline = 1
	DefaultDuration = 10 * time.Second
	DefaultInterval = time.Second
	DefaultGrace    = time.Second
)

// withDefaults fills c's zero fields.
func (c Config) withDefaults() Config {
	if c.Conns == 0 {
		c.Conns = DefaultConns
	}
	if c.Pipeline == 0 {
		c.Pipeline = DefaultPipeline
	}
	if c.Duration == 0 {
		c.Duration = DefaultDuration
	}
	if c.Interval == 0 {
		c.Interval = DefaultInterval
	}
	if c.Grace == 0 {
		c.Grace = DefaultGrace
	}
	if c.Sleep == nil {
		c.Sleep = sleepReal
	}
	c.Clock = clock.Or(c.Clock)
	return c
}

// Validate reports every problem with c (after defaults) at once.
func (c Config) Validate() error {
	var errs []error
	if c.Conns < 1 {
		errs = append(errs, fmt.Errorf("load: %d connections: need at least 1", c.Conns))
	}
	if !(c.Rate >= 0) {
		errs = append(errs, fmt.Errorf("load: rate %v must be >= 0", c.Rate))
	}
	if c.Pipeline < 1 {
		errs = append(errs, fmt.Errorf("load: pipeline %d must be at least 1", c.Pipeline))
	}
	if c.Duration <= 0 || c.Interval <= 0 || c.Grace < 0 {
		errs = append(errs, fmt.Errorf("load: duration %v and interval %v must be positive, grace %v not negative", c.Duration, c.Interval, c.Grace))
	}
	if c.Workload == nil {
		errs = append(errs, errors.New("load: a workload is required"))
	}
	return errors.Join(errs...)
}

// sleepReal sleeps on a timer until the wall clock reads until.
func sleepReal(ctx context.Context, until time.Time) error {
	d := time.Until(until)
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
