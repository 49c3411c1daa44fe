package shed

import (
	"errors"
	"fmt"
	"log/slog"
	"math"
	"time"
	"unicode/utf8"

	"corral/internal/clock"

	"github.com/prometheus/client_golang/prometheus"
)

// Defaults applied by DefaultLimiterConfig, DefaultRateConfig and
// DefaultBreakerConfig, and in place of zero fields where documented.
const (
	DefaultMaxInflight      = 256                    // LimiterConfig.MaxInflight
	DefaultMinLimit         = 4                      // LimiterConfig.MinLimit
	DefaultQueueTimeout     = 50 * time.Millisecond  // LimiterConfig.QueueTimeout
	DefaultSlowLatency      = 500 * time.Millisecond // LimiterConfig.SlowLatency
	DefaultBackoff          = 0.9                    // LimiterConfig.Backoff, as in Netflix's concurrency-limits AIMD
	DefaultMaxClients       = 10000                  // RateConfig.MaxClients
	DefaultFailureRatio     = 0.5                    // BreakerConfig.FailureRatio
	DefaultMinRequests      = 10                     // BreakerConfig.MinRequests
	DefaultWindow           = 10 * time.Second       // BreakerConfig.Window
	DefaultBreakerTimeout   = 5 * time.Second        // BreakerConfig.Timeout
	DefaultHalfOpenRequests = 3                      // BreakerConfig.HalfOpenRequests
)

// LimiterConfig configures a Limiter.
type LimiterConfig struct {
	// Name is the value of the "target" label on the Limiter's gauges, e.g.
	// "origin". Default "". Limiters sharing a Registerer should have
	// distinct Names.
	Name string

	// MaxInflight is the upper bound of the adaptive limit: never more than
	// this many admitted tickets at once. DefaultLimiterConfig sets 256. Zero
	// disables the Limiter: Acquire admits at once and allocates nothing.
	MaxInflight int

	// MinLimit is the lower bound of the adaptive limit. Zero means 4, or
	// MaxInflight when that is smaller.
	MinLimit int

	// InitialLimit is the limit before any latency is observed. Zero means
	// MaxInflight/4, at least MinLimit.
	InitialLimit int

	// QueueTimeout is the longest Acquire waits for a slot when the limit
	// is reached. DefaultLimiterConfig sets 50ms. Zero means refuse at once.
	// It is measured with a real timer, not Clock.
	QueueTimeout time.Duration

	// SlowLatency is the latency above which a successful fetch counts as
	// congestion, like a failure. Zero means 500ms.
	SlowLatency time.Duration

	// Backoff is the factor, in (0, 1), the limit is multiplied by on
	// congestion. Zero means 0.9.
	Backoff float64

	// Clock measures fetch latency. Nil means clock.Real.
	Clock clock.Clock

	// Registerer receives the Limiter's metrics. Nil registers nothing.
	Registerer prometheus.Registerer
}

// DefaultLimiterConfig returns a LimiterConfig with MaxInflight 256 and
// QueueTimeout 50ms; the other fields are zero and so take their defaults.
func DefaultLimiterConfig() LimiterConfig {
	return LimiterConfig{MaxInflight: DefaultMaxInflight, QueueTimeout: DefaultQueueTimeout}
}

// Validate reports every problem with c at once, each matching
// ErrInvalidConfig.
func (c LimiterConfig) Validate() error {
	var errs []error
	bad := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("%w: limiter: "+format, append([]any{ErrInvalidConfig}, args...)...))
	}
	if !utf8.ValidString(c.Name) {
		bad("Name %q is not valid UTF-8", c.Name)
	}
	if c.MaxInflight < 0 {
		bad("MaxInflight %d is negative", c.MaxInflight)
	}
	if c.MinLimit < 0 {
		bad("MinLimit %d is negative", c.MinLimit)
	}
	if c.InitialLimit < 0 {
		bad("InitialLimit %d is negative", c.InitialLimit)
	}
	if c.QueueTimeout < 0 {
		bad("QueueTimeout %v is negative", c.QueueTimeout)
	}
	if c.SlowLatency < 0 {
		bad("SlowLatency %v is negative", c.SlowLatency)
	}
	if c.Backoff != 0 && !(c.Backoff > 0 && c.Backoff < 1) {
		bad("Backoff %v is not in (0, 1)", c.Backoff)
	}
	if c.MaxInflight > 0 {
		if c.MinLimit > c.MaxInflight {
			bad("MinLimit %d exceeds MaxInflight %d", c.MinLimit, c.MaxInflight)
		}
		if c.InitialLimit > c.MaxInflight {
			bad("InitialLimit %d exceeds MaxInflight %d", c.InitialLimit, c.MaxInflight)
		}
		if c.InitialLimit > 0 && c.MinLimit > 0 && c.InitialLimit < c.MinLimit {
			bad("InitialLimit %d is below MinLimit %d", c.InitialLimit, c.MinLimit)
		}
	}
	return errors.Join(errs...)
}

// withDefaults returns c with its zero fields replaced by their defaults.
// c must be valid.
func (c LimiterConfig) withDefaults() LimiterConfig {
	if c.MinLimit == 0 {
		c.MinLimit = min(DefaultMinLimit, c.MaxInflight)
	}
	if c.InitialLimit == 0 {
		c.InitialLimit = max(c.MaxInflight/4, c.MinLimit)
	}
	if c.SlowLatency == 0 {
		c.SlowLatency = DefaultSlowLatency
	}
	if c.Backoff == 0 {
		c.Backoff = DefaultBackoff
	}
	c.Clock = clock.Or(c.Clock)
	return c
}

// RateConfig configures a Rate. A rate of 0 disables its bucket.
type RateConfig struct {
	// Rate is the global limit in requests per second. Zero disables it.
	Rate float64
	// Burst is the size of the global bucket: requests allowed at once after
	// an idle spell. Zero means Rate rounded up, at least 1. Ignored when
	// Rate is 0.
	Burst int

	// PerClientRate is the limit of each client address in requests per
	// second. Zero disables it.
	PerClientRate float64
	// PerClientBurst is the size of each client's bucket. Zero means
	// PerClientRate rounded up, at least 1. Ignored when PerClientRate is 0.
	PerClientBurst int
	// MaxClients bounds the client buckets kept; beyond it the least
	// recently seen client's bucket is forgotten. Zero means 10000.
	MaxClients int

	// Clock drives the refill of the buckets. Nil means clock.Real.
	Clock clock.Clock
	// Registerer receives the Rate's metrics. Nil registers nothing.
	Registerer prometheus.Registerer
}

// DefaultRateConfig returns a RateConfig with both limits disabled and
// MaxClients 10000.
func DefaultRateConfig() RateConfig { return RateConfig{MaxClients: DefaultMaxClients} }

// Validate reports every problem with c at once, each matching
// ErrInvalidConfig.
func (c RateConfig) Validate() error {
	var errs []error
	bad := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("%w: rate: "+format, append([]any{ErrInvalidConfig}, args...)...))
	}
	if !validRate(c.Rate) {
		bad("Rate %v is not a finite number >= 0", c.Rate)
	}
	if c.Burst < 0 {
		bad("Burst %d is negative", c.Burst)
	}
	if !validRate(c.PerClientRate) {
		bad("PerClientRate %v is not a finite number >= 0", c.PerClientRate)
	}
	if c.PerClientBurst < 0 {
		bad("PerClientBurst %d is negative", c.PerClientBurst)
	}
	if c.MaxClients < 0 {
		bad("MaxClients %d is negative", c.MaxClients)
	}
	return errors.Join(errs...)
}

// validRate reports whether r is a usable requests-per-second figure.
func validRate(r float64) bool { return r >= 0 && !math.IsInf(r, 1) }

// defaultBurst is the burst used when none is given: one second's worth.
func defaultBurst(burst int, rate float64) int {
	if burst > 0 {
		return burst
	}
	return max(1, int(math.Ceil(min(rate, math.MaxInt32))))
}

// BreakerConfig configures a Breaker. Its fields mirror gobreaker's Settings.
type BreakerConfig struct {
	// Target names what the Breaker protects, e.g. "origin http://api/{key}"
	// or "store 10.0.0.3:7379". It is the "target" label of the metrics and
	// appears in the replies clients get (see Reply), so it must not carry
	// secrets such as passwords in URLs.
	Target string

	// FailureRatio is the share of failures in Window, in (0, 1], at which a
	// closed Breaker opens. Zero means 0.5.
	FailureRatio float64
	// MinRequests is the number of finished calls Window must hold before
	// FailureRatio is considered. Zero means 10.
	MinRequests uint32
	// Window is the span of the rolling window of outcomes, kept in 10
	// buckets. Zero means 10s.
	Window time.Duration
	// Timeout is how long the Breaker stays open before going half-open.
	// Zero means 5s.
	Timeout time.Duration
	// HalfOpenRequests is the number of probes a half-open Breaker lets
	// through; when all succeed it closes. Zero means 3.
	HalfOpenRequests uint32

	// Disabled makes Allow always admit and record nothing.
	Disabled bool

	// Clock drives the window and Timeout. Nil means clock.Real.
	Clock clock.Clock
	// Logger receives state changes. Nil discards them.
	Logger *slog.Logger
	// Registerer receives the Breaker's metrics. Nil registers nothing.
	// Breakers sharing a Registerer should have distinct Targets.
	Registerer prometheus.Registerer
}

// DefaultBreakerConfig returns a BreakerConfig with every default spelled
// out: FailureRatio 0.5, MinRequests 10, Window 10s, Timeout 5s,
// HalfOpenRequests 3.
func DefaultBreakerConfig() BreakerConfig {
	return BreakerConfig{
		FailureRatio:     DefaultFailureRatio,
		MinRequests:      DefaultMinRequests,
		Window:           DefaultWindow,
		Timeout:          DefaultBreakerTimeout,
		HalfOpenRequests: DefaultHalfOpenRequests,
	}
}

// Validate reports every problem with c at once, each matching
// ErrInvalidConfig.
func (c BreakerConfig) Validate() error {
	var errs []error
	bad := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("%w: breaker: "+format, append([]any{ErrInvalidConfig}, args...)...))
	}
	if !utf8.ValidString(c.Target) {
		bad("Target %q is not valid UTF-8", c.Target)
	}
	if c.FailureRatio != 0 && !(c.FailureRatio > 0 && c.FailureRatio <= 1) {
		bad("FailureRatio %v is not in (0, 1]", c.FailureRatio)
	}
	if c.Window < 0 {
		bad("Window %v is negative", c.Window)
	}
	if c.Timeout < 0 {
		bad("Timeout %v is negative", c.Timeout)
	}
	return errors.Join(errs...)
}

// withDefaults returns c with its zero fields replaced by their defaults.
func (c BreakerConfig) withDefaults() BreakerConfig {
	d := DefaultBreakerConfig()
	if c.FailureRatio == 0 {
		c.FailureRatio = d.FailureRatio
	}
	if c.MinRequests == 0 {
		c.MinRequests = d.MinRequests
	}
	if c.Window == 0 {
		c.Window = d.Window
	}
	if c.Timeout == 0 {
		c.Timeout = d.Timeout
	}
	if c.HalfOpenRequests == 0 {
		c.HalfOpenRequests = d.HalfOpenRequests
	}
	c.Clock = clock.Or(c.Clock)
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c
}

// Config configures an Admission: a Limiter and a Rate. Name, Clock and
// Registerer fill the same fields of Limiter and Rate where those are left
// empty; a field set in a part wins.
type Config struct {
	// Name is the Limiter's target label, e.g. "origin".
	Name string
	// Limiter configures the concurrency limit.
	Limiter LimiterConfig
	// Rate configures the token buckets.
	Rate RateConfig
	// Clock is shared by the Limiter and the Rate. Nil means clock.Real.
	Clock clock.Clock
	// Registerer receives the metrics of both. Nil registers nothing.
	Registerer prometheus.Registerer
}

// DefaultConfig returns a Config with DefaultLimiterConfig and
// DefaultRateConfig.
func DefaultConfig() Config {
	return Config{Limiter: DefaultLimiterConfig(), Rate: DefaultRateConfig()}
}

// Validate reports every problem with c's parts at once, each matching
// ErrInvalidConfig.
func (c Config) Validate() error {
	m := c.merged()
	return errors.Join(m.Limiter.Validate(), m.Rate.Validate())
}

// merged returns c with Name, Clock and Registerer copied into the parts
// that leave them empty.
func (c Config) merged() Config {
	if c.Limiter.Name == "" {
		c.Limiter.Name = c.Name
	}
	if c.Limiter.Clock == nil {
		c.Limiter.Clock = c.Clock
	}
	if c.Rate.Clock == nil {
		c.Rate.Clock = c.Clock
	}
	if c.Limiter.Registerer == nil {
		c.Limiter.Registerer = c.Registerer
	}
	if c.Rate.Registerer == nil {
		c.Rate.Registerer = c.Registerer
	}
	return c
}
