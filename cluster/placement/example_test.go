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
	for _, node := range t.Nodes() {
		fmt.Println("node", node, "owns", len(t.PartitionsOf(node)))
	}

	// Node "3" joins: it takes its share of the owner slots. Slots move
	// between old nodes only when one leaves the balance band, which here
	// none does.
	grown, err := placement.New(placement.DefaultPartitions, placement.DefaultRF, []string{"0", "1", "2", "3"})
	if err != nil {
		panic(err)
	}
	moves, err := placement.Moves(t, grown)
	if err != nil {
		panic(err)
	}
	toNew, toOld := 0, 0
	for _, m := range moves {
		for _, node := range m.Added {
			if node == "3" {
				toNew++
			} else {
				toOld++
			}
		}
	}
	fmt.Println(len(moves), "partitions move:", toNew, "slots to node 3,", toOld, "between old nodes")
	// Output:
	// partition 450 owners [0 1] primary 0
	// node 0 owns 2710
	// node 1 owns 2714
	// node 2 owns 2768
	// 2003 partitions move: 2003 slots to node 3, 0 between old nodes
}
