package shed

import (
	"container/list"
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"corral/internal/clock"
)

// Outcome is how an admitted fetch ended, as reported to Ticket.Release.
type Outcome uint8

const (
	// Success: the target answered (a miss or a not-found included). Its
	// latency feeds the adaptive limit.
	Success Outcome = iota
	// Failure: the target timed out, refused or failed, a sign of overload;
	// the limit decreases.
	Failure
	// Ignored: the fetch ended for reasons unrelated to the target, such as
	// the caller canceling; the limit does not change.
	Ignored
)

// String returns "success", "failure" or "ignored".
func (o Outcome) String() string {
	switch o {
	case Success:
		return "success"
	case Failure:
		return "failure"
	case Ignored:
		return "ignored"
	}
	return fmt.Sprintf("Outcome(%d)", uint8(o))
}

// OutcomeOf classifies the error a fetch returned: nil is Success;
// context.Canceled and the refusals of this package (ErrOverloaded,
// ErrRateLimited, ErrOpen: no call reached the target) are Ignored;
// anything else, context.DeadlineExceeded included, is Failure. Callers map
// answers that are not failures, like "not found", to nil first.
func OutcomeOf(err error) Outcome {
	switch {
	case err == nil:
		return Success
	case errors.Is(err, context.Canceled), errors.Is(err, ErrOverloaded),
		errors.Is(err, ErrRateLimited), errors.Is(err, ErrOpen):
		return Ignored
	}
	return Failure
}

// Limiter admits fetches to one target up to an adaptive concurrency limit
// (see the package documentation and LimiterConfig). Callers that find the
// limit reached wait, first come first served, for at most QueueTimeout.
// Build one with NewLimiter; the zero value is not usable. All methods are
// safe for concurrent use.
type Limiter struct {
	clock        clock.Clock
	aimd         aimd
	queueTimeout time.Duration
	disabled     bool
	metrics      limiterMetrics
	errFull      *RejectError // refusal when QueueTimeout is 0
	errTimeout   *RejectError // refusal after waiting QueueTimeout

	mu       sync.Mutex // guards the fields below and each queued waiter's granted and epoch
	limit    float64    // in [aimd.min, aimd.max]; int(limit) slots exist
	inflight int        // admitted tickets not yet released
	epoch    uint64     // incremented by every decrease of limit
	waiters  list.List  // of *waiter, oldest first
}

// waiter is an Acquire waiting for a slot.
type waiter struct {
	ready   chan struct{} // closed once granted
	elem    *list.Element // in Limiter.waiters while queued
	granted bool          // a slot was handed over (inflight counts it)
	epoch   uint64        // Limiter.epoch when granted
}

// Ticket is an admitted fetch. It is a small value: pass it by value and
// call Release exactly once when the fetch ends. The zero Ticket, returned
// by a disabled Limiter and with every error, releases as a no-op.
type Ticket struct {
	l     *Limiter
	start time.Time // admission, by the Limiter's clock
	epoch uint64    // Limiter.epoch at admission
}

// NewLimiter returns a Limiter configured by cfg, or an error matching
// ErrInvalidConfig when cfg.Validate rejects it.
func NewLimiter(cfg LimiterConfig) (*Limiter, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.MaxInflight == 0 {
		return &Limiter{disabled: true}, nil
	}
	cfg = cfg.withDefaults()
	detail := "no fetch slot free"
	if cfg.QueueTimeout > 0 {
		detail = "no fetch slot within " + cfg.QueueTimeout.String()
	}
	l := &Limiter{
		clock:        cfg.Clock,
		aimd:         aimd{min: float64(cfg.MinLimit), max: float64(cfg.MaxInflight), slow: cfg.SlowLatency, backoff: cfg.Backoff},
		queueTimeout: cfg.QueueTimeout,
		metrics:      newLimiterMetrics(cfg.Registerer, cfg.Name),
		errFull:      newRejectError(ErrOverloaded, ReasonOverloaded, detail),
		errTimeout:   newRejectError(ErrOverloaded, ReasonQueueTimeout, detail),
		limit:        float64(cfg.InitialLimit),
	}
	l.metrics.limit.Set(float64(cfg.InitialLimit))
	return l, nil
}

// Acquire admits one fetch, waiting for a free slot for at most
// QueueTimeout, behind the callers already waiting. It returns an error
// matching ErrOverloaded (a *RejectError) when no slot freed in time, and
// ctx.Err() when ctx is done first or already on entry. On success the
// caller must Release the Ticket. A disabled Limiter admits at once.
func (l *Limiter) Acquire(ctx context.Context) (Ticket, error) {
	if l.disabled {
		return Ticket{}, nil
	}
	if err := ctx.Err(); err != nil {
		return Ticket{}, err
	}
	l.mu.Lock()
	if l.waiters.Len() == 0 && l.inflight < int(l.limit) {
		l.inflight++
		l.metrics.inflight.Set(float64(l.inflight))
		epoch := l.epoch
		l.mu.Unlock()
		return Ticket{l: l, start: l.clock.Now(), epoch: epoch}, nil
	}
	if l.queueTimeout == 0 {
		l.mu.Unlock()
		l.metrics.overloaded.Inc()
		return Ticket{}, l.errFull
	}
	return l.waitUnlock(ctx)
}

// waitUnlock queues the caller, unlocks l.mu, and waits for a slot, for
// QueueTimeout or for ctx, whichever comes first. l.mu must be held.
func (l *Limiter) waitUnlock(ctx context.Context) (Ticket, error) {
	w := &waiter{ready: make(chan struct{})}
	w.elem = l.waiters.PushBack(w)
	l.grantLocked()
	l.mu.Unlock()

	timer := time.NewTimer(l.queueTimeout)
	defer timer.Stop()
	var err error
	select {
	case <-w.ready:
		return Ticket{l: l, start: l.clock.Now(), epoch: w.epoch}, nil
	case <-timer.C:
		err = l.errTimeout
	case <-ctx.Done():
		err = ctx.Err()
	}

	l.mu.Lock()
	if !w.granted {
		l.waiters.Remove(w.elem)
		l.mu.Unlock()
		if err == l.errTimeout {
			l.metrics.queueTimeout.Inc()
		}
		return Ticket{}, err
	}
	// A slot was handed over just as the timer or ctx fired. After a
	// timeout, take it: it came within QueueTimeout. After ctx, pass it on.
	if err == l.errTimeout {
		l.mu.Unlock()
		return Ticket{l: l, start: l.clock.Now(), epoch: w.epoch}, nil
	}
	l.inflight--
	l.grantLocked()
	l.metrics.inflight.Set(float64(l.inflight))
	l.mu.Unlock()
	return Ticket{}, err
}

// grantLocked hands free slots to the oldest waiters. l.mu must be held.
func (l *Limiter) grantLocked() {
	for l.waiters.Len() > 0 && l.inflight < int(l.limit) {
		w := l.waiters.Remove(l.waiters.Front()).(*waiter)
		w.granted = true
		w.epoch = l.epoch
		l.inflight++
		close(w.ready)
	}
}

// Release ends the fetch t admitted, frees its slot for the oldest waiter,
// and feeds o and the fetch's latency to the adaptive limit. Call it exactly
// once per admitted Ticket; releasing the zero Ticket does nothing.
func (t Ticket) Release(o Outcome) {
	if t.l != nil {
		t.l.release(t, o)
	}
}

// release implements Ticket.Release.
func (l *Limiter) release(t Ticket, o Outcome) {
	var rtt time.Duration
	if o != Ignored {
		rtt = l.clock.Now().Sub(t.start)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.inflight == 0 {
		return // released twice; keep the count sane
	}
	limit, decreased := l.aimd.next(l.limit, o, rtt, l.inflight, t.epoch == l.epoch)
	if decreased {
		l.epoch++
	}
	if int(limit) != int(l.limit) {
		l.metrics.limit.Set(float64(int(limit)))
	}
	l.limit = limit
	l.inflight--
	l.grantLocked()
	l.metrics.inflight.Set(float64(l.inflight))
}

// Limit returns the current adaptive limit: how many fetches may run at
// once. It is 0 for a disabled Limiter.
func (l *Limiter) Limit() int {
	if l.disabled {
		return 0
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	return int(l.limit)
}

// Inflight returns the number of admitted Tickets not yet released. It is
// 0 for a disabled Limiter.
func (l *Limiter) Inflight() int {
	if l.disabled {
		return 0
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.inflight
}

// waiting returns the number of queued Acquires, for tests.
func (l *Limiter) waiting() int {
	if l.disabled {
		return 0
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.waiters.Len()
}
