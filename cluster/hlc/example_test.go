package hlc_test

import (
	"fmt"
	"time"

	"corral/cluster/hlc"
	"corral/internal/clock"
)

func ExampleClock() {
	fc := clock.NewFake(time.UnixMilli(1_700_000_000_000))
	h := hlc.New(fc, nil)
	fmt.Println(h.Now())
	fmt.Println(h.Now())
	fmt.Println(h.Update(hlc.FromWall(1_700_000_002_000, 4)))
	// Output:
	// 1700000000000.0
	// 1700000000000.1
	// 1700000002000.5
}
