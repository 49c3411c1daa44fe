package collapse

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"strings"
	"sync"
)

// ErrPanic is matched (with errors.Is) by the error every waiter receives
// when the flight's function panicked. errors.As with a *PanicError gives the
// panic value and stack.
var ErrPanic = errors.New("collapse: function panicked")

// ErrGoexit is the error every waiter receives when the flight's function
// called runtime.Goexit instead of returning.
var ErrGoexit = errors.New("collapse: function called runtime.Goexit")

// PanicError is the error delivered to every waiter of a flight whose
// function panicked. It matches ErrPanic, and also the panic value when that
// value is an error.
type PanicError struct {
	Value any    // the value passed to panic
	Stack []byte // the stack of the panicking goroutine
}

// Error returns "collapse: function panicked: <value>". The stack is kept out
// of the message (it is in Stack) so the error can travel as a RESP reply.
func (e *PanicError) Error() string {
	return fmt.Sprintf("%v: %v", ErrPanic, e.Value)
}

// Unwrap returns ErrPanic and, when the panic value is an error, that error.
func (e *PanicError) Unwrap() []error {
	if err, ok := e.Value.(error); ok {
		return []error{ErrPanic, err}
	}
	return []error{ErrPanic}
}

// call is one flight: a running execution of a function and its result.
type call[V any] struct {
	done chan struct{} // closed once val and err are set

	// Set before done is closed, read only after.
	val V
	err error

	// Guarded by Group.mu.
	dups    int // callers that joined this flight, ever
	waiting int // joined callers still waiting
}

// Group collapses concurrent calls for the same key into one execution.
// Build one with New; the zero value is not usable. All methods are safe for
// concurrent use.
type Group[V any] struct {
	metrics metrics

	mu       sync.Mutex          // guards flights, inflight and each call's dups and waiting
	flights  map[string]*call[V] // the flight a new caller for a key joins
	inflight int                 // functions running, including forgotten flights
}

// New returns a Group configured by cfg. It never fails: a Name that is not
// valid UTF-8 (see Config.Validate) has its bad bytes replaced by U+FFFD.
func New[V any](cfg Config) *Group[V] {
	name := cfg.Name
	if cfg.Validate() != nil {
		name = strings.ToValidUTF8(name, "\uFFFD")
	}
	return &Group[V]{
		metrics: newMetrics(cfg.Registerer, name),
		flights: make(map[string]*call[V]),
	}
}

// Do returns the result of fn for key, running fn at most once at a time per
// key across all concurrent callers.
//
// The first caller for a key starts a flight: fn runs on its own goroutine
// under context.WithoutCancel(ctx), so it keeps the first caller's values but
// not its cancellation or deadline; fn must bound its own run time. Callers
// arriving while the flight runs join it and receive the same v and err
// (a shared V must therefore be treated as read-only by every receiver).
//
// Every caller, the first included, stops waiting as soon as its own ctx is
// done and then returns the zero V and ctx.Err(), while the flight goes on
// for the others. A ctx already done when Do is called neither starts nor
// joins a flight.
//
// shared reports whether the result was (or, for a caller that gave up,
// would have been) handed to more than one caller: always true for a caller
// that joined, and true for the first caller when anyone joined it.
//
// A panic in fn yields a *PanicError for every waiter; runtime.Goexit in fn
// yields ErrGoexit. Once the flight completes, the next Do for key runs fn
// again: results are never cached.
func (g *Group[V]) Do(ctx context.Context, key string, fn func(ctx context.Context) (V, error)) (v V, shared bool, err error) {
	if err := ctx.Err(); err != nil {
		return v, false, err
	}
	g.mu.Lock()
	if c, ok := g.flights[key]; ok {
		c.dups++
		c.waiting++
		g.mu.Unlock()
		g.metrics.collapsed.Inc()
		g.metrics.waiters.Inc()
		defer g.leave(c)
		return g.wait(ctx, c, true)
	}
	c := &call[V]{done: make(chan struct{})}
	g.flights[key] = c
	g.inflight++
	g.mu.Unlock()
	g.metrics.inflight.Inc()

	go g.run(context.WithoutCancel(ctx), key, c, fn)
	return g.wait(ctx, c, false)
}

// TryGo starts a flight for key in the background unless one is running,
// and reports whether it started one. It never waits: the caller goes on
// with whatever it had (a background refresh). fn runs under
// context.WithoutCancel(ctx) and must bound its own run time; callers of Do
// that arrive while it runs join it. Its result goes only to them.
func (g *Group[V]) TryGo(ctx context.Context, key string, fn func(ctx context.Context) (V, error)) bool {
	g.mu.Lock()
	if _, ok := g.flights[key]; ok {
		g.mu.Unlock()
		return false
	}
	c := &call[V]{done: make(chan struct{})}
	g.flights[key] = c
	g.inflight++
	g.mu.Unlock()
	g.metrics.inflight.Inc()
	go g.run(context.WithoutCancel(ctx), key, c, fn)
	return true
}

// wait blocks until c completes or ctx is done, preferring the result when
// both are ready.
func (g *Group[V]) wait(ctx context.Context, c *call[V], joined bool) (v V, shared bool, err error) {
	select {
	case <-c.done:
	case <-ctx.Done():
		select {
		case <-c.done:
		default:
			return v, joined, ctx.Err()
		}
	}
	// dups is final once done is closed: the flight left the map, under mu,
	// before done was closed, and only callers finding it there increment it.
	return c.val, joined || c.dups > 0, c.err
}

// leave records that a joined caller stopped waiting on c.
func (g *Group[V]) leave(c *call[V]) {
	g.mu.Lock()
	c.waiting--
	g.mu.Unlock()
	g.metrics.waiters.Dec()
}

// run executes fn for the flight c and publishes its result, whether fn
// returns, panics or calls runtime.Goexit.
func (g *Group[V]) run(ctx context.Context, key string, c *call[V], fn func(ctx context.Context) (V, error)) {
	normal := false
	defer func() {
		if !normal {
			if r := recover(); r != nil {
				c.err = &PanicError{Value: r, Stack: debug.Stack()}
			} else {
				c.err = ErrGoexit
			}
		}
		g.mu.Lock()
		if g.flights[key] == c {
			delete(g.flights, key)
		}
		g.inflight--
		g.mu.Unlock()
		g.metrics.inflight.Dec()
		close(c.done)
	}()
	c.val, c.err = fn(ctx)
	normal = true
}

// Forget makes the next Do for key start a new flight even if one is running.
// Callers already waiting on the running flight still receive its result.
func (g *Group[V]) Forget(key string) {
	g.mu.Lock()
	delete(g.flights, key)
	g.mu.Unlock()
}

// ForgetAll is Forget for every key: callers after it start new flights.
func (g *Group[V]) ForgetAll() {
	g.mu.Lock()
	clear(g.flights)
	g.mu.Unlock()
}

// Waiters returns how many callers are waiting on the current flight for key
// having joined it rather than started it; 0 when no flight is running.
func (g *Group[V]) Waiters(key string) int {
	g.mu.Lock()
	defer g.mu.Unlock()
	if c, ok := g.flights[key]; ok {
		return c.waiting
	}
	return 0
}

// InFlight returns how many functions are running, counting flights that
// Forget detached from their key.
func (g *Group[V]) InFlight() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.inflight
}
