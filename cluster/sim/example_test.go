package sim_test

import (
	"fmt"

	"corral/cluster/sim"
)

// ExampleRun plays seed 42: the cluster's shape comes from the seed, then
// 500 steps of writes and faults, the heal, and the checks.
func ExampleRun() {
	cfg := sim.ConfigFor(42, 500)
	res, err := sim.Run(cfg)
	if err != nil {
		fmt.Println(err)
		return
	}
	again, _ := sim.Run(cfg)
	fmt.Println("invariants held:", !res.Failed())
	fmt.Println("converged:", res.Counts.ConvergeRounds > 0)
	fmt.Println("same run twice:", res.Digest == again.Digest)
	// Output:
	// invariants held: true
	// converged: true
	// same run twice: true
}
