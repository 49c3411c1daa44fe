package load

import (
	"context"
	"sync"
	"time"

	"corral/internal/clock"
)

// fakeTime is a manual clock whose Sleep waits until the clock has been
// advanced far enough (or its context is done), so that a run's sampler
// follows the virtual time the sessions advance.
type fakeTime struct {
	*clock.Fake
	mu      sync.Mutex    // guards changed
	changed chan struct{} // closed and replaced on every Advance
}

func newFakeTime() *fakeTime {
	return &fakeTime{Fake: clock.NewFake(time.Unix(1_000_000, 0)), changed: make(chan struct{})}
}

func (f *fakeTime) Advance(d time.Duration) {
	f.mu.Lock()
	f.Fake.Advance(d)
	close(f.changed)
	f.changed = make(chan struct{})
	f.mu.Unlock()
}

// Sleep returns once the virtual time has reached until, or early, as a
// Sleeper may, as soon as the time moves at all. It reads the time and
// takes the channel the next Advance closes under one lock, so an Advance
// cannot fall between the two and leave it waiting for one that (with
// sessions that wait for a point of the moment they reached) never comes.
func (f *fakeTime) Sleep(ctx context.Context, until time.Time) error {
	f.mu.Lock()
	if !f.Now().Before(until) {
		f.mu.Unlock()
		return nil
	}
	ch := f.changed
	f.mu.Unlock()
	select {
	case <-ch:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// slowExec's sessions take a fixed virtual time per batch and answer
// every read with a hit. With points set, a batch that crosses a boundary
// of interval from start waits for the run's point of that boundary, so
// that the sampler keeps up with the virtual time deterministically.
type slowExec struct {
	ft       *fakeTime
	perCall  time.Duration
	start    time.Time
	interval time.Duration
	points   chan Point
	mu       sync.Mutex // guards batches
	batches  [][]string
}

func (e *slowExec) Session(context.Context, int) (Session, error) { return slowSession{e}, nil }

type slowSession struct{ e *slowExec }

func (s slowSession) Close() error { return nil }

func (s slowSession) Do(_ context.Context, ops []Op) {
	keys := make([]string, len(ops))
	for i := range ops {
		keys[i] = ops[i].Key
	}
	s.e.mu.Lock()
	s.e.batches = append(s.e.batches, keys)
	s.e.mu.Unlock()
	before := s.e.ft.Now()
	s.e.ft.Advance(s.e.perCall)
	if s.e.points != nil && s.e.ft.Now().Sub(s.e.start)/s.e.interval > before.Sub(s.e.start)/s.e.interval {
		<-s.e.points
	}
}
