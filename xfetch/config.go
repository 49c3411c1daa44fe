package xfetch

import (
	"errors"
	"fmt"
	"math"
	"time"
)

// Config is the stampede-defence policy a tier applies with this package's
// functions. It holds settings only; the functions stay pure.
type Config struct {
	// Beta scales how early XFetch refreshes (ShouldRefresh's beta): 1 is the
	// paper's optimum, larger refreshes earlier, 0 disables early refresh.
	// Default 1 (--xfetch-beta).
	Beta float64

	// Jitter is the fraction by which TTLs the tier chooses are lengthened at
	// random (Jitter's frac): 0.1 spreads a 60s TTL over [60s, 66s). 0
	// disables jitter. Default 0.1 (--ttl-jitter).
	Jitter float64

	// StaleWhileRevalidate is how long after expiry an entry may still be
	// served while one background refresh runs. 0 disables it. Default 10s
	// (--stale-while-revalidate).
	StaleWhileRevalidate time.Duration

	// StaleIfError is how long after expiry an entry may still be served
	// while refreshing it fails. 0 disables it. Default 5m
	// (--stale-if-error).
	StaleIfError time.Duration
}

// DefaultConfig returns Beta 1, Jitter 0.1, StaleWhileRevalidate 10s and
// StaleIfError 5m.
func DefaultConfig() Config {
	return Config{
		Beta:                 1,
		Jitter:               0.1,
		StaleWhileRevalidate: 10 * time.Second,
		StaleIfError:         5 * time.Minute,
	}
}

// Validate reports every problem with c at once, joined with errors.Join;
// each names the flag that sets the field.
func (c Config) Validate() error {
	var errs []error
	if !(c.Beta >= 0) || math.IsInf(c.Beta, 1) {
		errs = append(errs, fmt.Errorf("xfetch: --xfetch-beta %v: must be a finite number >= 0", c.Beta))
	}
	if !(c.Jitter >= 0) || math.IsInf(c.Jitter, 1) {
		errs = append(errs, fmt.Errorf("xfetch: --ttl-jitter %v: must be a finite number >= 0", c.Jitter))
	}
	if c.StaleWhileRevalidate < 0 {
		errs = append(errs, fmt.Errorf("xfetch: --stale-while-revalidate %v: must not be negative", c.StaleWhileRevalidate))
	}
	if c.StaleIfError < 0 {
		errs = append(errs, fmt.Errorf("xfetch: --stale-if-error %v: must not be negative", c.StaleIfError))
	}
	return errors.Join(errs...)
}
