package membership_test

import (
	"context"
	"fmt"

	"corral/cluster/membership"
)

func ExampleMembership() {
	cfg := membership.DefaultConfig()
	cfg.NodeID = "0"
	cfg.Bind = "127.0.0.1:0" // a free port; see GossipAddr
	cfg.Profile = membership.ProfileLocal
	cfg.Meta.RESP, cfg.Meta.Admin = "127.0.0.1:7379", "127.0.0.1:9121"
	m, err := membership.New(cfg)
	if err != nil {
		panic(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- m.Run(ctx) }()

	// No seeds: this node forms a one-node cluster.
	if err := m.WaitJoined(ctx); err != nil {
		panic(err)
	}
	if err := m.SetPhase(membership.PhaseActive); err != nil {
		panic(err)
	}
	for _, mem := range m.Members() {
		fmt.Println(mem.ID, mem.Role, mem.Phase, mem.RESP, mem.Partitions, mem.State)
	}
	cancel() // Run leaves and shuts the memberlist down
	fmt.Println(<-done)
	// Output:
	// 0 store active 127.0.0.1:7379 4096 alive
	// <nil>
}
