package load_test

import (
	"fmt"
	"time"

	"corral/bench/load"
)

// In open loop, requests are due on a fixed schedule; latencies count
// from these times, however late a stalled target lets them be sent.
func ExampleIntended() {
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range int64(4) {
		fmt.Println(load.Intended(start, 4000, i).Sub(start))
	}
	// Output:
	// 0s
	// 250µs
	// 500µs
	// 750µs
}
