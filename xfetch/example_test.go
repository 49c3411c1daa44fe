package xfetch_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"time"

	"corral/xfetch"
)

func Example() {
	now := time.Date(2025, 1, 1, 12, 0, 0, 0, time.UTC)
	delta := 100 * time.Millisecond // the last load took this long
	const beta = 1.0
	// Seeded for a reproducible example; production uses xfetch.Rand(nil).Or().
	rnd := xfetch.Rand(rand.New(rand.NewPCG(1, 2)).Float64)

	horizon := xfetch.Horizon(delta, beta)
	fmt.Println("no refresh can fire earlier than", horizon.Round(time.Millisecond), "before expiry")

	for _, left := range []time.Duration{time.Hour, 300 * time.Millisecond, 50 * time.Millisecond, 0} {
		expiry := now.Add(left)
		if expiry.Sub(now) > horizon {
			fmt.Printf("%v left: no draw, keep serving\n", left)
			continue
		}
		// Count how many of 1000 concurrent readers would refresh early.
		n := 0
		for range 1000 {
			if xfetch.ShouldRefresh(now, expiry, delta, beta, 1-rnd()) {
				n++
			}
		}
		want := 1000 * math.Exp(-float64(left)/(float64(delta)*beta))
		fmt.Printf("%v left: %d in 1000 readers refresh (expected %.0f)\n", left, n, want)
	}

	// TTLs the tier chooses are spread by up to 10%; retries back off.
	fmt.Println(xfetch.Jitter(time.Minute, 0.1, 0.5))
	fmt.Println(xfetch.Backoff(3, 100*time.Millisecond, 2*time.Second, 0.5))
	// Output:
	// no refresh can fire earlier than 3.674s before expiry
	// 1h0m0s left: no draw, keep serving
	// 300ms left: 61 in 1000 readers refresh (expected 50)
	// 50ms left: 607 in 1000 readers refresh (expected 607)
	// 0s left: 1000 in 1000 readers refresh (expected 1000)
	// 1m3s
	// 400ms
}
