package collapse

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"corral/internal/testkit"
)

const waitFor = 10 * time.Second

// result is what one Do call returned.
type result struct {
	v      int
	shared bool
	err    error
}

// goDo runs g.Do on a new goroutine and delivers its result on the returned channel.
func goDo(ctx context.Context, g *Group[int], key string, fn func(context.Context) (int, error)) <-chan result {
	ch := make(chan result, 1)
	go func() {
		v, shared, err := g.Do(ctx, key, fn)
		ch <- result{v, shared, err}
	}()
	return ch
}

// recv waits for one result, failing the test after waitFor.
func recv(t *testing.T, ch <-chan result) result {
	t.Helper()
	select {
	case r := <-ch:
		return r
	case <-time.After(waitFor):
		t.Fatal("Do did not return")
		return result{}
	}
}

// blocker is a flight function that signals when it starts and returns
// value once released.
type blocker struct {
	started chan struct{} // closed by the first run
	release chan struct{} // close to let runs return
	once    sync.Once
	runs    atomic.Int32
	value   int
}

func newBlocker(value int) *blocker {
	return &blocker{started: make(chan struct{}), release: make(chan struct{}), value: value}
}

func (b *blocker) fn(ctx context.Context) (int, error) {
	b.runs.Add(1)
	b.once.Do(func() { close(b.started) })
	<-b.release
	return b.value, nil
}

// lead starts a flight for key with b and waits until b is running.
func lead(t *testing.T, ctx context.Context, g *Group[int], key string, b *blocker) <-chan result {
	t.Helper()
	ch := goDo(ctx, g, key, b.fn)
	select {
	case <-b.started:
	case <-time.After(waitFor):
		t.Fatal("flight did not start")
	}
	return ch
}

func waitWaiters(t *testing.T, g *Group[int], key string, n int) {
	t.Helper()
	testkit.Eventually(t, func() bool { return g.Waiters(key) == n }, waitFor,
		"Waiters(%q) never reached %d (last %d)", key, n, g.Waiters(key))
}

func TestDoCollapsesConcurrentCallers(t *testing.T) {
	const n = 1000
	reg := prometheus.NewRegistry()
	g := New[int](Config{Registerer: reg, Name: "proxy"})
	b := newBlocker(42)
	ctx := context.Background()

	chans := []<-chan result{lead(t, ctx, g, "k", b)}
	for range n - 1 {
		chans = append(chans, goDo(ctx, g, "k", b.fn))
	}
	waitWaiters(t, g, "k", n-1)
	if got := gather(t, reg, "corral_collapse_waiters", "proxy"); got != n-1 {
		t.Errorf("waiters gauge = %v, want %d", got, n-1)
	}
	if got := g.InFlight(); got != 1 {
		t.Errorf("InFlight = %d, want 1", got)
	}
	close(b.release)

	for i, ch := range chans {
		r := recv(t, ch)
		if r.err != nil || r.v != 42 || !r.shared {
			t.Fatalf("caller %d got (%d, %v, %v), want (42, true, nil)", i, r.v, r.shared, r.err)
		}
	}
	if got := b.runs.Load(); got != 1 {
		t.Errorf("fn ran %d times, want 1", got)
	}
	testkit.Eventually(t, func() bool { return g.InFlight() == 0 }, waitFor, "flight never finished")
	for _, m := range []struct {
		name string
		want float64
	}{
		{"corral_collapsed_total", n - 1},
		{"corral_collapse_inflight", 0},
		{"corral_collapse_waiters", 0},
	} {
		if got := gather(t, reg, m.name, "proxy"); got != m.want {
			t.Errorf("%s{role=proxy} = %v, want %v", m.name, got, m.want)
		}
	}
}

func TestDoCancelledWaiterLeavesEarly(t *testing.T) {
	g := New[int](DefaultConfig())
	b := newBlocker(7)
	leader := lead(t, context.Background(), g, "k", b)

	ctx, cancel := context.WithCancel(context.Background())
	quitter := goDo(ctx, g, "k", b.fn)
	stayer := goDo(context.Background(), g, "k", b.fn)
	waitWaiters(t, g, "k", 2)

	cancel()
	if r := recv(t, quitter); !errors.Is(r.err, context.Canceled) || r.v != 0 || !r.shared {
		t.Fatalf("cancelled caller got (%d, %v, %v), want (0, true, context.Canceled)", r.v, r.shared, r.err)
	}
	waitWaiters(t, g, "k", 1)
	if got := g.InFlight(); got != 1 {
		t.Fatalf("InFlight after cancel = %d, want 1", got)
	}

	close(b.release)
	for name, ch := range map[string]<-chan result{"leader": leader, "stayer": stayer} {
		if r := recv(t, ch); r.err != nil || r.v != 7 || !r.shared {
			t.Errorf("%s got (%d, %v, %v), want (7, true, nil)", name, r.v, r.shared, r.err)
		}
	}
}

type ctxKey struct{}

func TestDoLeaderCancelDoesNotCancelFlight(t *testing.T) {
	g := New[int](DefaultConfig())
	started, release := make(chan struct{}), make(chan struct{})
	seen := make(chan string, 1)
	fn := func(ctx context.Context) (int, error) {
		close(started)
		<-release
		_, hasDeadline := ctx.Deadline()
		seen <- fmt.Sprintf("err=%v deadline=%v value=%v", ctx.Err(), hasDeadline, ctx.Value(ctxKey{}))
		return 1, nil
	}

	ctx, cancel := context.WithTimeout(context.WithValue(context.Background(), ctxKey{}, "v"), time.Hour)
	leader := goDo(ctx, g, "k", fn)
	<-started
	joiner := goDo(context.Background(), g, "k", fn)
	waitWaiters(t, g, "k", 1)

	cancel()
	if r := recv(t, leader); !errors.Is(r.err, context.Canceled) || r.shared != false {
		t.Fatalf("leader got (%d, %v, %v), want (0, false, context.Canceled)", r.v, r.shared, r.err)
	}
	close(release)
	if r := recv(t, joiner); r.err != nil || r.v != 1 {
		t.Fatalf("joiner got (%d, %v), want (1, nil)", r.v, r.err)
	}
	if got, want := <-seen, "err=<nil> deadline=false value=v"; got != want {
		t.Errorf("fn saw ctx %s, want %s", got, want)
	}
}

func TestDoOutcomes(t *testing.T) {
	errOrigin := errors.New("origin down")
	tests := []struct {
		name  string
		fn    func() (int, error)
		check func(t *testing.T, v int, err error)
	}{
		{"value", func() (int, error) { return 5, nil }, func(t *testing.T, v int, err error) {
			if v != 5 || err != nil {
				t.Errorf("got (%d, %v), want (5, nil)", v, err)
			}
		}},
		{"error", func() (int, error) { return 0, errOrigin }, func(t *testing.T, v int, err error) {
			if !errors.Is(err, errOrigin) {
				t.Errorf("got (%d, %v), want %v", v, err, errOrigin)
			}
		}},
		{"panic string", func() (int, error) { panic("boom") }, func(t *testing.T, v int, err error) {
			var pe *PanicError
			if !errors.Is(err, ErrPanic) || !errors.As(err, &pe) || pe.Value != "boom" || len(pe.Stack) == 0 {
				t.Fatalf("got %v, want a *PanicError with value boom and a stack", err)
			}
			if got, want := err.Error(), "collapse: function panicked: boom"; got != want {
				t.Errorf("Error() = %q, want %q", got, want)
			}
		}},
		{"panic error", func() (int, error) { panic(errOrigin) }, func(t *testing.T, v int, err error) {
			if !errors.Is(err, ErrPanic) || !errors.Is(err, errOrigin) {
				t.Errorf("got %v, want it to match ErrPanic and the panic value", err)
			}
		}},
		{"panic nil", func() (int, error) { panic(nil) }, func(t *testing.T, v int, err error) {
			var pn *runtime.PanicNilError
			if !errors.Is(err, ErrPanic) || !errors.As(err, &pn) {
				t.Errorf("got %v, want ErrPanic wrapping *runtime.PanicNilError", err)
			}
		}},
		{"goexit", func() (int, error) { runtime.Goexit(); return 0, nil }, func(t *testing.T, v int, err error) {
			if !errors.Is(err, ErrGoexit) {
				t.Errorf("got %v, want ErrGoexit", err)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			const n = 10
			g := New[int](DefaultConfig())
			started, release := make(chan struct{}), make(chan struct{})
			fn := func(context.Context) (int, error) {
				close(started)
				<-release
				return tt.fn()
			}
			chans := []<-chan result{goDo(context.Background(), g, "k", fn)}
			<-started
			for range n - 1 {
				chans = append(chans, goDo(context.Background(), g, "k", fn))
			}
			waitWaiters(t, g, "k", n-1)
			close(release)
			for _, ch := range chans {
				r := recv(t, ch)
				tt.check(t, r.v, r.err)
			}
			testkit.Eventually(t, func() bool { return g.InFlight() == 0 }, waitFor, "flight never finished")
		})
	}
}

func TestDoSequentialRunsAgain(t *testing.T) {
	g := New[int](DefaultConfig())
	var runs int
	fn := func(context.Context) (int, error) { runs++; return runs, nil }
	for want := 1; want <= 3; want++ {
		v, shared, err := g.Do(context.Background(), "k", fn)
		if v != want || shared || err != nil {
			t.Fatalf("call %d got (%d, %v, %v), want (%d, false, nil)", want, v, shared, err, want)
		}
	}
}

func TestDoDoneContext(t *testing.T) {
	g := New[int](DefaultConfig())
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	v, shared, err := g.Do(ctx, "k", func(context.Context) (int, error) {
		t.Error("fn ran for a done context")
		return 1, nil
	})
	if v != 0 || shared || !errors.Is(err, context.Canceled) {
		t.Fatalf("got (%d, %v, %v), want (0, false, context.Canceled)", v, shared, err)
	}
	if g.InFlight() != 0 {
		t.Fatalf("InFlight = %d, want 0", g.InFlight())
	}
}

func TestDoKeysAreIndependent(t *testing.T) {
	g := New[int](DefaultConfig())
	a, b := newBlocker(1), newBlocker(2)
	ra := lead(t, context.Background(), g, "a", a)
	rb := lead(t, context.Background(), g, "b", b)
	if got := g.InFlight(); got != 2 {
		t.Fatalf("InFlight = %d, want 2", got)
	}
	close(b.release)
	if r := recv(t, rb); r.v != 2 || r.shared {
		t.Errorf("b got (%d, %v), want (2, false)", r.v, r.shared)
	}
	close(a.release)
	if r := recv(t, ra); r.v != 1 || r.shared {
		t.Errorf("a got (%d, %v), want (1, false)", r.v, r.shared)
	}
}

func TestForget(t *testing.T) {
	g := New[int](DefaultConfig())
	first, second := newBlocker(1), newBlocker(2)
	r1 := lead(t, context.Background(), g, "k", first)
	j1 := goDo(context.Background(), g, "k", first.fn)
	waitWaiters(t, g, "k", 1)

	g.Forget("k")
	if got := g.Waiters("k"); got != 0 {
		t.Fatalf("Waiters after Forget = %d, want 0", got)
	}
	r2 := lead(t, context.Background(), g, "k", second)
	if got := g.InFlight(); got != 2 {
		t.Fatalf("InFlight = %d, want 2", got)
	}

	// The old flight finishing must not remove the new one.
	close(first.release)
	for _, ch := range []<-chan result{r1, j1} {
		if r := recv(t, ch); r.v != 1 || !r.shared {
			t.Errorf("old flight caller got (%d, %v), want (1, true)", r.v, r.shared)
		}
	}
	j2 := goDo(context.Background(), g, "k", second.fn)
	waitWaiters(t, g, "k", 1)
	close(second.release)
	for _, ch := range []<-chan result{r2, j2} {
		if r := recv(t, ch); r.v != 2 || !r.shared {
			t.Errorf("new flight caller got (%d, %v), want (2, true)", r.v, r.shared)
		}
	}
	if first.runs.Load() != 1 || second.runs.Load() != 1 {
		t.Errorf("runs = %d, %d, want 1, 1", first.runs.Load(), second.runs.Load())
	}
	g.Forget("absent") // must not panic
}

func TestWaitPrefersResult(t *testing.T) {
	g := New[int](DefaultConfig())
	c := &call[int]{done: make(chan struct{}), val: 3}
	close(c.done)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	for range 100 { // select alone would pick ctx.Done about half the time
		if v, _, err := g.wait(ctx, c, true); v != 3 || err != nil {
			t.Fatalf("wait = (%d, %v), want (3, nil)", v, err)
		}
	}
}

func TestForgetAllStartsNewFlights(t *testing.T) {
	g := New[int](Config{})
	release := make(chan struct{})
	started := make(chan struct{})
	done := make(chan int)
	go func() {
		v, _, _ := g.Do(context.Background(), "k", func(context.Context) (int, error) {
			close(started)
			<-release
			return 1, nil
		})
		done <- v
	}()
	<-started
	g.ForgetAll()
	v, shared, err := g.Do(context.Background(), "k", func(context.Context) (int, error) { return 2, nil })
	if err != nil || v != 2 || shared {
		t.Fatalf("Do after ForgetAll = %d, shared %v, %v; want a fresh flight returning 2", v, shared, err)
	}
	close(release)
	if v := <-done; v != 1 {
		t.Fatalf("the forgotten flight's caller got %d, want 1", v)
	}
}

func TestTryGo(t *testing.T) {
	g := New[int](DefaultConfig())
	b := newBlocker(7)
	ctx, cancel := context.WithCancel(context.Background())
	if !g.TryGo(ctx, "k", b.fn) {
		t.Fatal("TryGo with no flight running did not start one")
	}
	cancel() // the background flight must not see the caller's cancel
	<-b.started
	if g.TryGo(context.Background(), "k", b.fn) {
		t.Fatal("TryGo started a second flight for a running key")
	}
	other := newBlocker(0)
	defer close(other.release)
	if !g.TryGo(context.Background(), "other", other.fn) {
		t.Fatal("TryGo refused an independent key")
	}
	j := goDo(context.Background(), g, "k", b.fn)
	waitWaiters(t, g, "k", 1)
	close(b.release)
	if r := recv(t, j); r.v != 7 || r.err != nil || !r.shared {
		t.Fatalf("Do joining a TryGo flight got (%d, %v, %v), want (7, true, nil)", r.v, r.shared, r.err)
	}
	if b.runs.Load() != 1 {
		t.Fatalf("runs = %d, want 1", b.runs.Load())
	}
	next := newBlocker(0)
	close(next.release)
	testkit.Eventually(t, func() bool { return g.TryGo(context.Background(), "k", next.fn) }, waitFor,
		"TryGo never started a new flight after the first completed")
}
