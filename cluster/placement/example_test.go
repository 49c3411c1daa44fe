package placement_test

import (
	"fmt"

	"corral/cluster/placement"
)

func Example() {
	// Three active store nodes named by their StatefulSet ordinals.
	t, err := placement.New(placement.DefaultPartitions, placement.DefaultRF, []string{"0", "1", "2"})
	if err != nil {
		panic(err)
	}
	key := []byte("user:42")
	p := t.Partition(key)
	fmt.Println("partition", p, "owners", t.Owners(p), "primary", t.Primary(p))

	// Node "3" joins: only the owner slots it takes move.
	grown, err := placement.New(placement.DefaultPartitions, placement.DefaultRF, []string{"0", "1", "2", "3"})
	if err != nil {
		panic(err)
	}
	moves, err := placement.Moves(t, grown)
	if err != nil {
		panic(err)
	}
	fmt.Println(len(moves), "of", t.Partitions(), "partitions move; first:", moves[0])
	// Output:
	// partition 450 owners [0 1] primary 0
	// 1975 of 4096 partitions move; first: {1 [3] [0]}
}
