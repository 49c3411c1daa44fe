// Package cluster holds corral's end-to-end tests of the store cluster with
// real parts over loopback: three or more store nodes started in-process by
// cluster/clustertest (real RESP servers, real memberlist gossip with the
// local profile, replication and anti-entropy over RESP), and a proxy that
// joins the gossip as a non-owning member and routes every key to its
// primary owner. Clients are go-redis v9 talking to the proxy.
//
// The tests wait on conditions with deadlines, never with sleeps, and log
// the times they measure (detection of a dead node, re-replication,
// refill of a restarted node):
//
//	go test -race -count=1 -v ./test/cluster/
package cluster
