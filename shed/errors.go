package shed

import "errors"

// ErrOverloaded is matched (with errors.Is) by every refusal of a Limiter:
// no slot became free within QueueTimeout.
var ErrOverloaded = errors.New("shed: overloaded")

// ErrRateLimited is matched by every refusal of a Rate: the global or the
// client's token bucket was empty.
var ErrRateLimited = errors.New("shed: rate limited")

// ErrOpen is matched by every refusal of a Breaker: it is open, or half-open
// with all its probes in flight.
var ErrOpen = errors.New("shed: breaker open")

// ErrInvalidConfig is matched by every error Validate returns.
var ErrInvalidConfig = errors.New("shed: invalid config")

// Reasons a request was shed: the values of the "reason" label of
// corral_shed_total and of RejectError.Reason.
const (
	// ReasonOverloaded: the Limiter was full and QueueTimeout is 0.
	ReasonOverloaded = "overloaded"
	// ReasonQueueTimeout: no slot of the Limiter freed within QueueTimeout.
	ReasonQueueTimeout = "queue_timeout"
	// ReasonRate: the global token bucket was empty.
	ReasonRate = "rate"
	// ReasonClientRate: the client's token bucket was empty.
	ReasonClientRate = "client_rate"
)

// RejectError is the error a Limiter or a Rate returns when it refuses a
// request. It matches ErrOverloaded or ErrRateLimited. Each Limiter and Rate
// builds its RejectErrors once, so refusing allocates nothing; receivers must
// treat them as read-only.
type RejectError struct {
	// Reason is one of the Reason constants.
	Reason string
	// Detail says what was exceeded, for humans, e.g. "no fetch slot
	// within 50ms". It is part of the text Reply sends to clients.
	Detail string

	sentinel error  // ErrOverloaded or ErrRateLimited
	msg      string // sentinel text + ": " + Detail
}

// newRejectError returns a RejectError matching sentinel.
func newRejectError(sentinel error, reason, detail string) *RejectError {
	return &RejectError{Reason: reason, Detail: detail, sentinel: sentinel, msg: sentinel.Error() + ": " + detail}
}

// Error returns the sentinel's text and the Detail, e.g.
// "shed: overloaded: no fetch slot within 50ms".
func (e *RejectError) Error() string { return e.msg }

// Unwrap returns ErrOverloaded or ErrRateLimited.
func (e *RejectError) Unwrap() error { return e.sentinel }

// OpenError is the error Breaker.Allow returns while it refuses calls. It
// matches ErrOpen. Each Breaker builds its OpenErrors once; receivers must
// treat them as read-only.
type OpenError struct {
	// Target is the BreakerConfig.Target of the refusing Breaker.
	Target string
	// State is Open, or HalfOpen when every probe is already in flight.
	State State
}

// Error returns "shed: breaker open: <target>", with " (half-open, probes
// in flight)" appended for a half-open Breaker.
func (e *OpenError) Error() string {
	msg := ErrOpen.Error() + ": " + e.Target
	if e.State == HalfOpen {
		msg += " (half-open, probes in flight)"
	}
	return msg
}

// Unwrap returns ErrOpen.
func (e *OpenError) Unwrap() error { return ErrOpen }
