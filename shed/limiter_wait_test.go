package shed

import (
	"context"
	"errors"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"corral/internal/clock"
	"corral/internal/testkit"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

// waitTimeout bounds every wait on a condition in these tests.
const waitTimeout = 5 * time.Second

// acquired is the result of an Acquire run on another goroutine.
type acquired struct {
	ticket Ticket
	err    error
}

// acquireAsync runs Acquire on a goroutine and delivers its result.
func acquireAsync(ctx context.Context, l *Limiter) <-chan acquired {
	ch := make(chan acquired, 1)
	go func() {
		tk, err := l.Acquire(ctx)
		ch <- acquired{tk, err}
	}()
	return ch
}

// receive returns the result on ch, failing the test after waitTimeout.
func receive(t *testing.T, ch <-chan acquired) acquired {
	t.Helper()
	select {
	case r := <-ch:
		return r
	case <-time.After(waitTimeout):
		t.Fatal("Acquire did not return")
		return acquired{}
	}
}

func TestLimiterWaitersFIFO(t *testing.T) {
	l := newLimiter(t, LimiterConfig{MaxInflight: 8, MinLimit: 2, InitialLimit: 2, QueueTimeout: time.Hour})
	ctx := context.Background()
	t1, _ := l.Acquire(ctx)
	t2, _ := l.Acquire(ctx)
	a := acquireAsync(ctx, l)
	testkit.Eventually(t, func() bool { return l.waiting() == 1 }, waitTimeout, "waiter a queued")
	b := acquireAsync(ctx, l)
	testkit.Eventually(t, func() bool { return l.waiting() == 2 }, waitTimeout, "waiter b queued")

	t1.Release(Ignored)
	ra := receive(t, a)
	if ra.err != nil {
		t.Fatalf("waiter a: %v", ra.err)
	}
	select {
	case rb := <-b:
		t.Fatalf("waiter b admitted before a slot freed for it: %+v", rb)
	default:
	}
	if l.waiting() != 1 || l.Inflight() != 2 {
		t.Fatalf("waiting %d inflight %d, want 1 and 2", l.waiting(), l.Inflight())
	}
	t2.Release(Ignored)
	rb := receive(t, b)
	if rb.err != nil {
		t.Fatalf("waiter b: %v", rb.err)
	}
	ra.ticket.Release(Ignored)
	rb.ticket.Release(Ignored)
	if l.waiting() != 0 || l.Inflight() != 0 {
		t.Fatalf("waiting %d inflight %d, want 0 and 0", l.waiting(), l.Inflight())
	}
}

func TestLimiterQueueTimeout(t *testing.T) {
	reg := prometheus.NewRegistry()
	l := newLimiter(t, LimiterConfig{MaxInflight: 1, QueueTimeout: 20 * time.Millisecond, Registerer: reg})
	held, err := l.Acquire(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	_, err = l.Acquire(context.Background())
	var re *RejectError
	if !errors.Is(err, ErrOverloaded) || !errors.As(err, &re) || re.Reason != ReasonQueueTimeout {
		t.Fatalf("err = %v, want ErrOverloaded with reason %q", err, ReasonQueueTimeout)
	}
	if got := err.Error(); got != "shed: overloaded: no fetch slot within 20ms" {
		t.Errorf("Error() = %q", got)
	}
	if l.waiting() != 0 || l.Inflight() != 1 {
		t.Fatalf("after timeout: waiting %d inflight %d, want 0 and 1", l.waiting(), l.Inflight())
	}
	if got := testutil.ToFloat64(l.metrics.queueTimeout); got != 1 {
		t.Errorf("queue_timeout count = %v, want 1", got)
	}
	held.Release(Success)
	tk, err := l.Acquire(context.Background())
	if err != nil {
		t.Fatalf("Acquire after release: %v", err)
	}
	tk.Release(Success)
	if l.Inflight() != 0 {
		t.Fatalf("Inflight = %d, want 0", l.Inflight())
	}
}

func TestLimiterContext(t *testing.T) {
	tests := []struct {
		name    string
		ctx     func() (context.Context, context.CancelFunc)
		cancel  bool // cancel once the Acquire is queued
		wantErr error
	}{
		{"already canceled", func() (context.Context, context.CancelFunc) {
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			return ctx, cancel
		}, false, context.Canceled},
		{"canceled while queued", func() (context.Context, context.CancelFunc) {
			return context.WithCancel(context.Background())
		}, true, context.Canceled},
		{"deadline before QueueTimeout", func() (context.Context, context.CancelFunc) {
			return context.WithTimeout(context.Background(), 10*time.Millisecond)
		}, false, context.DeadlineExceeded},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := newLimiter(t, LimiterConfig{MaxInflight: 1, QueueTimeout: time.Hour})
			held, _ := l.Acquire(context.Background())
			ctx, cancel := tt.ctx()
			defer cancel()
			ch := acquireAsync(ctx, l)
			if tt.cancel {
				testkit.Eventually(t, func() bool { return l.waiting() == 1 }, waitTimeout, "Acquire queued")
				cancel()
			}
			if r := receive(t, ch); r.err != tt.wantErr {
				t.Fatalf("err = %v, want %v", r.err, tt.wantErr)
			}
			if l.waiting() != 0 || l.Inflight() != 1 {
				t.Fatalf("waiting %d inflight %d, want 0 and 1", l.waiting(), l.Inflight())
			}
			held.Release(Ignored)
			if l.Inflight() != 0 {
				t.Fatalf("Inflight = %d, want 0", l.Inflight())
			}
		})
	}
}

// TestLimiterHandoffRace makes a slot be handed to a waiter whose ctx is
// already done or whose timer has already fired, so that waitUnlock's
// select sees both at once and takes either branch.
func TestLimiterHandoffRace(t *testing.T) {
	canceled, cancel := context.WithCancel(context.Background())
	cancel()
	tests := []struct {
		name    string
		ctx     context.Context
		timeout time.Duration
	}{
		{"ctx done", canceled, time.Hour},
		{"timer fired", context.Background(), time.Nanosecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := newLimiter(t, LimiterConfig{MaxInflight: 1, QueueTimeout: tt.timeout})
			for range 200 {
				l.mu.Lock() // a slot is free, so waitUnlock grants it at once
				tk, err := l.waitUnlock(tt.ctx)
				switch {
				case err == nil:
					if l.Inflight() != 1 {
						t.Fatalf("admitted: Inflight = %d, want 1", l.Inflight())
					}
					tk.Release(Ignored)
				case tt.timeout == time.Hour && err != context.Canceled:
					t.Fatalf("err = %v, want context.Canceled", err)
				}
				if l.Inflight() != 0 || l.waiting() != 0 {
					t.Fatalf("inflight %d waiting %d, want 0 and 0", l.Inflight(), l.waiting())
				}
			}
		})
	}
}

func TestLimiterStress(t *testing.T) {
	const (
		workers = 32
		rounds  = 200
		max     = 8
	)
	clk := clock.NewFake(time.Unix(0, 0))
	l := newLimiter(t, LimiterConfig{MaxInflight: max, MinLimit: 1, InitialLimit: 4,
		QueueTimeout: time.Millisecond, SlowLatency: 5 * time.Millisecond, Clock: clk})
	var held atomic.Int32
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := range workers {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(1, uint64(w)))
			for range rounds {
				ctx, cancel := context.WithCancel(context.Background())
				if rng.IntN(4) == 0 {
					go cancel()
				}
				tk, err := l.Acquire(ctx)
				if err != nil {
					cancel()
					if !errors.Is(err, ErrOverloaded) && !errors.Is(err, context.Canceled) {
						errs <- err
						return
					}
					continue
				}
				if n := held.Add(1); n > max {
					errs <- errors.New("more tickets held than MaxInflight")
				}
				clk.Advance(time.Duration(rng.IntN(10)) * time.Millisecond)
				held.Add(-1)
				tk.Release(Outcome(rng.IntN(3)))
				cancel()
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if l.Inflight() != 0 || l.waiting() != 0 {
		t.Fatalf("after stress: inflight %d waiting %d, want 0 and 0", l.Inflight(), l.waiting())
	}
	if lim := l.Limit(); lim < 1 || lim > max {
		t.Fatalf("Limit %d outside [1, %d]", lim, max)
	}
}
