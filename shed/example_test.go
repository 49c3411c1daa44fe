package shed_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"corral/internal/clock"
	"corral/shed"
)

func Example() {
	ctx := context.Background()
	clk := clock.NewFake(time.Unix(0, 0))

	// One fetch slot, no queueing: the second concurrent fetch is shed.
	limiter, _ := shed.NewLimiter(shed.LimiterConfig{MaxInflight: 4, MinLimit: 1, InitialLimit: 1, Clock: clk})
	ticket, _ := limiter.Acquire(ctx)
	_, err := limiter.Acquire(ctx)
	fmt.Println(shed.Reply(err))
	ticket.Release(shed.Success)

	// Two failures out of two calls open the breaker.
	breaker, _ := shed.NewBreaker(shed.BreakerConfig{Target: "origin http://api/{key}", MinRequests: 2, Clock: clk})
	for range 2 {
		done, _ := breaker.Allow()
		done(errors.New("502 Bad Gateway"))
	}
	_, err = breaker.Allow()
	fmt.Println(breaker.State(), "->", shed.Reply(err))

	// After Timeout (5s by default), probes may test the origin again.
	clk.Advance(5 * time.Second)
	fmt.Println(breaker.State())
	// Output:
	// SHED overloaded: no fetch slot free; retry later
	// open -> BREAKER open: origin http://api/{key} is failing; retry later
	// half-open
}
