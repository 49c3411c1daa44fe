package testkit

import (
	"context"
	"errors"
	"testing"
	"time"
)

// RunTimeout bounds how long a component may take to return from Run once
// its context is canceled.
const RunTimeout = 15 * time.Second

// RunUntilCleanup runs run (a component's Run) on its own goroutine and
// registers a cleanup that cancels it and waits up to RunTimeout for it to
// return, reporting an error other than context.Canceled under name.
func RunUntilCleanup(t testing.TB, name string, run func(context.Context) error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil && !errors.Is(err, context.Canceled) {
				t.Errorf("%s: Run: %v", name, err)
			}
		case <-time.After(RunTimeout):
			t.Errorf("%s: Run did not return within %v of cancel", name, RunTimeout)
		}
	})
}
