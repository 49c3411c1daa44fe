package originsim_test

import (
	"fmt"
	"time"

	"corral/bench/originsim"
)

// A saturated origin: beyond its concurrency, each load takes longer in
// proportion to the loads in flight.
func ExampleDelay() {
	for _, inflight := range []int{1, 64, 128, 640} {
		fmt.Println(inflight, originsim.Delay(100*time.Millisecond, 0, inflight, 64, 0))
	}
	// Output:
	// 1 100ms
	// 64 100ms
	// 128 200ms
	// 640 1s
}
