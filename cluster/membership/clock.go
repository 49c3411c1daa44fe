package membership

import (
	"context"
	"time"

	"corral/internal/clock"
)

// sleep waits d on m.clock, returning early with ctx.Err() or ErrStopped.
func (m *Membership) sleep(ctx context.Context, d time.Duration) error {
	var fired <-chan time.Time
	if ac, ok := m.clock.(AfterClock); ok {
		fired = ac.After(d)
	} else {
		t := time.NewTimer(d)
		defer t.Stop()
		fired = t.C
	}
	select {
	case <-fired:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-m.stopped:
		return ErrStopped
	}
}

// AfterClock is a clock.Clock that can also wait. clock.Clock only tells
// the time; when Config.Clock implements AfterClock, every wait of the
// Membership (the join backoff, the rejoin interval) uses After, so a test
// clock drives them. Any other clock waits on real timers.
type AfterClock interface {
	clock.Clock
	// After returns a channel that receives the time once d has passed on
	// this clock; d <= 0 fires at once.
	After(d time.Duration) <-chan time.Time
}
