package load

import (
	"context"
	"time"

	"corral/internal/clock"
)

// Intended returns the scheduled send time of the i-th request (from 0) of
// an open-loop run at rate per second that starts at start.
func Intended(start time.Time, rate float64, i int64) time.Time {
	return start.Add(time.Duration(float64(i) * float64(time.Second) / rate))
}

// pace sends to out the scheduled send time of every request of an
// open-loop run at rate per second from start until end, sleeping while
// ahead of the schedule and catching up without sleeping while behind, so
// that a slow consumer delays sends but never moves their scheduled times.
// It closes out when done or when ctx is done.
func pace(ctx context.Context, clk clock.Clock, sleep Sleeper, start, end time.Time, rate float64, out chan<- time.Time) {
	defer close(out)
	for i := int64(0); ; i++ {
		t := Intended(start, rate, i)
		if !t.Before(end) {
			return
		}
		// A Sleeper may wake early: sleep until the clock says t.
		for clk.Now().Before(t) {
			if sleep(ctx, t) != nil {
				return
			}
		}
		select {
		case out <- t:
		case <-ctx.Done():
			return
		}
	}
}
