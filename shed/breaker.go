package shed

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"corral/internal/clock"
)

// State is a Breaker's state. Its numeric value is the value of the
// corral_breaker_state gauge.
type State uint8

const (
	// Closed: calls pass; outcomes are counted in the rolling window.
	Closed State = iota
	// HalfOpen: up to HalfOpenRequests probes pass to test the target.
	HalfOpen
	// Open: calls are refused at once with ErrOpen until Timeout passes.
	Open
)

// String returns "closed", "half-open" or "open".
func (s State) String() string {
	switch s {
	case Closed:
		return "closed"
	case HalfOpen:
		return "half-open"
	case Open:
		return "open"
	}
	return fmt.Sprintf("State(%d)", uint8(s))
}

// Breaker is a circuit breaker for one upstream node or origin, with the
// semantics of gobreaker's TwoStepCircuitBreaker:
//
//   - Closed, it counts finished calls in a rolling Window and opens when
//     at least MinRequests are counted and at least FailureRatio of them
//     failed.
//   - Open, it refuses calls with ErrOpen; Timeout after opening it turns
//     half-open.
//   - Half-open, it lets HalfOpenRequests probes through and refuses the
//     rest; it closes once all of them succeed and opens again at the first
//     failure.
//
// Outcomes of calls admitted before a state change are ignored. Calls that
// end with context.Canceled, or with a refusal from this package, count
// neither way. State changes are evaluated when Allow, done or State run,
// so the state gauge can lag until the next call. Build one with
// NewBreaker; the zero value is not usable. All methods are safe for
// concurrent use.
type Breaker struct {
	ratio       float64
	minRequests uint32
	timeout     time.Duration
	maxProbes   uint32
	disabled    bool
	clock       clock.Clock
	logger      *slog.Logger
	metrics     breakerMetrics
	errOpen     *OpenError // refusal while open
	errProbing  *OpenError // refusal while half-open with every probe out

	mu         sync.Mutex // guards the fields below
	state      State
	generation uint64    // incremented by every state change
	expiry     time.Time // when Open turns HalfOpen
	window     window    // Closed: outcomes
	probes     uint32    // HalfOpen: probes admitted and not canceled
	successes  uint32    // HalfOpen: probes that succeeded
}

// NewBreaker returns a closed Breaker configured by cfg, or an error
// matching ErrInvalidConfig when cfg.Validate rejects it.
func NewBreaker(cfg BreakerConfig) (*Breaker, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	b := &Breaker{
		ratio:       cfg.FailureRatio,
		minRequests: cfg.MinRequests,
		timeout:     cfg.Timeout,
		maxProbes:   cfg.HalfOpenRequests,
		disabled:    cfg.Disabled,
		clock:       cfg.Clock,
		logger:      cfg.Logger.With("component", "shed.breaker", "target", cfg.Target),
		metrics:     newBreakerMetrics(cfg.Registerer, cfg.Target),
		errOpen:     &OpenError{Target: cfg.Target, State: Open},
		errProbing:  &OpenError{Target: cfg.Target, State: HalfOpen},
		window:      newWindow(cfg.Window, cfg.Clock.Now()),
	}
	b.metrics.state.Set(float64(Closed))
	return b, nil
}

// Forget deletes the breaker's metric series, for a target that is gone
// for good (a store node that left the cluster). Call it once the breaker
// is no longer used: a state change after Forget would count a
// transition again.
func (b *Breaker) Forget() { b.metrics.forget() }

// noop is the done func of a disabled Breaker.
func noop(error) {}

// Allow asks to make one call. When the Breaker admits it, done must be
// called exactly once with the call's error: nil is a success, any other
// error a failure unless OutcomeOf(err) is Ignored (context.Canceled, or a
// refusal from this package), which counts neither way. Extra calls of done
// are ignored. When the Breaker refuses, err is an *OpenError matching
// ErrOpen and done is nil. A disabled Breaker always admits.
func (b *Breaker) Allow() (done func(err error), err error) {
	if b.disabled {
		return noop, nil
	}
	now := b.clock.Now()
	b.mu.Lock()
	defer b.mu.Unlock()
	switch b.currentLocked(now) {
	case Open:
		return nil, b.errOpen
	case HalfOpen:
		if b.probes >= b.maxProbes {
			return nil, b.errProbing
		}
		b.probes++
	}
	generation := b.generation
	var called atomic.Bool
	return func(err error) {
		if called.CompareAndSwap(false, true) {
			b.done(generation, err)
		}
	}, nil
}

// done records the outcome of a call admitted in generation.
func (b *Breaker) done(generation uint64, err error) {
	ignored := OutcomeOf(err) == Ignored
	now := b.clock.Now()
	b.mu.Lock()
	defer b.mu.Unlock()
	state := b.currentLocked(now)
	if generation != b.generation {
		return
	}
	switch state {
	case Closed:
		if ignored {
			return
		}
		b.window.record(now, err != nil)
		if err != nil && readyToTrip(b.window.total, b.minRequests, b.ratio) {
			b.setStateLocked(Open, now)
		}
	case HalfOpen:
		switch {
		case ignored:
			b.probes--
		case err != nil:
			b.setStateLocked(Open, now)
		default:
			b.successes++
			if b.successes >= b.maxProbes {
				b.setStateLocked(Closed, now)
			}
		}
	}
}

// State returns the Breaker's state at the clock's current time. A
// disabled Breaker is always Closed.
func (b *Breaker) State() State {
	if b.disabled {
		return Closed
	}
	now := b.clock.Now()
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.currentLocked(now)
}

// currentLocked brings the state up to date at now: an Open Breaker whose
// Timeout has passed turns HalfOpen, and a Closed one rolls its window.
// b.mu must be held.
func (b *Breaker) currentLocked(now time.Time) State {
	switch b.state {
	case Closed:
		b.window.advance(now)
	case Open:
		if !now.Before(b.expiry) {
			b.setStateLocked(HalfOpen, now)
		}
	}
	return b.state
}

// setStateLocked moves the Breaker to state to at now, starting a new
// generation, and reports the change. b.mu must be held.
func (b *Breaker) setStateLocked(to State, now time.Time) {
	from := b.state
	if from == to {
		return
	}
	b.state = to
	b.generation++
	b.probes, b.successes = 0, 0
	switch to {
	case Closed:
		b.window.reset(now)
	case Open:
		b.expiry = now.Add(b.timeout)
	}
	b.metrics.state.Set(float64(to))
	b.metrics.transitions.WithLabelValues(from.String(), to.String()).Inc()
	level := slog.LevelInfo
	if to == Open {
		level = slog.LevelWarn
	}
	b.logger.Log(context.Background(), level, "shed: breaker state changed", "from", from.String(), "to", to.String())
}
