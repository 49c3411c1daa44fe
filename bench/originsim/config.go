package originsim

import (
	"errors"
	"fmt"
	"time"

	"corral/internal/clock"
)

// Config configures a Sim.
type Config struct {
	// Addr is the TCP address to listen on (--listen). Default
	// "127.0.0.1:8080"; "127.0.0.1:0" picks a free port.
	Addr string

	// Latency is how long one load takes while the origin is not overloaded
	// (--latency). Default 100ms.
	Latency time.Duration

	// Jitter adds a uniformly drawn [0, Jitter) to each load's latency
	// (--jitter). Default 0.
	Jitter time.Duration

	// MaxConcurrency is how many loads the origin serves at full speed at
	// once (--max-concurrency). Beyond it a load's latency grows in
	// proportion, as a saturated database's does: with twice as many loads
	// in flight, each takes twice as long. 0 means unlimited. Default 0.
	MaxConcurrency int

	// MaxAge is sent as Cache-Control max-age on every value, in whole
	// seconds, rounded up (--max-age). 0 sends no Cache-Control. Default 2s.
	MaxAge time.Duration

	// FailAfter makes the origin answer every load with 503 once this long
	// has passed since New (--fail-after). 0 never fails by schedule.
	FailAfter time.Duration

	// RecoverAfter ends the failure this long after it began
	// (--recover-after). 0 with FailAfter set fails for good.
	RecoverAfter time.Duration

	// ValueSize is the size of served values in bytes (--value-size).
	// Default 100.
	ValueSize int

	// Clock times the failure schedule. Nil means clock.Real.
	Clock clock.Clock

	// Seed seeds the jitter's random source.
	Seed uint64
}

// DefaultConfig returns the defaults documented on Config.
func DefaultConfig() Config {
	return Config{
		Addr:      "127.0.0.1:8080",
		Latency:   100 * time.Millisecond,
		MaxAge:    2 * time.Second,
		ValueSize: 100,
	}
}

// Validate reports every problem with c at once.
func (c Config) Validate() error {
	var errs []error
	if c.Addr == "" {
		errs = append(errs, errors.New("originsim: an address to listen on is required (--listen)"))
	}
	for _, d := range []struct {
		name string
		v    time.Duration
	}{{"--latency", c.Latency}, {"--jitter", c.Jitter}, {"--max-age", c.MaxAge}, {"--fail-after", c.FailAfter}, {"--recover-after", c.RecoverAfter}} {
		if d.v < 0 {
			errs = append(errs, fmt.Errorf("originsim: %s %v must not be negative", d.name, d.v))
		}
	}
	if c.MaxConcurrency < 0 {
		errs = append(errs, fmt.Errorf("originsim: --max-concurrency %d must not be negative", c.MaxConcurrency))
	}
	if c.ValueSize < 0 {
		errs = append(errs, fmt.Errorf("originsim: --value-size %d must not be negative", c.ValueSize))
	}
	if c.RecoverAfter > 0 && c.FailAfter == 0 {
		errs = append(errs, errors.New("originsim: --recover-after needs --fail-after"))
	}
	return errors.Join(errs...)
}

// Delay is how long a load takes given base latency, jitter, the number of
// loads in flight counting this one, and the concurrency the origin serves
// at full speed (0: unlimited); u in [0, 1) draws the jitter.
func Delay(base, jitter time.Duration, inflight, maxConcurrency int, u float64) time.Duration {
	d := base + time.Duration(u*float64(jitter))
	if maxConcurrency > 0 && inflight > maxConcurrency {
		d = time.Duration(float64(d) * float64(inflight) / float64(maxConcurrency))
	}
	return d
}

// Failing reports whether, by the schedule, the origin started at start is
// failing at now.
func Failing(start, now time.Time, failAfter, recoverAfter time.Duration) bool {
	if failAfter <= 0 {
		return false
	}
	down := start.Add(failAfter)
	if now.Before(down) {
		return false
	}
	return recoverAfter <= 0 || now.Before(down.Add(recoverAfter))
}

// maxAgeSeconds rounds d up to whole seconds for Cache-Control.
func maxAgeSeconds(d time.Duration) int64 {
	return int64((d + time.Second - 1) / time.Second)
}
