package cluster

import (
	"context"
	"fmt"
	"testing"

	"github.com/redis/go-redis/v9"
	"github.com/redis/go-redis/v9/maintnotifications"

	"corral/cluster"
	"corral/cluster/clustertest"
	"corral/cluster/placement"
	"corral/internal/testkit"
	"corral/proxy"
)

// BenchmarkRouting measures what routing costs on a GET of a held key, one
// request at a time (P1), with the proxy's L1 off so every GET goes to a
// store:
//
//   - store-owner: a client asks the key's primary store directly;
//
//   - store-forward: a client asks a store that does not own the key,
//     which forwards it to an owner (one extra hop);
//
//   - proxy-upstream: a proxy with --upstream in front of one store alone;
//
//   - proxy-routed: a proxy routing by the gossip view to the key's primary
//     among three stores.
//
//     go test -run '^$' -bench Routing -benchtime 20000x -count 6 ./test/cluster/ | tee /tmp/r.txt; benchstat /tmp/r.txt
func BenchmarkRouting(b *testing.B) {
	const partitions = 256
	k := clustertest.New(b, 3, clustertest.Options{Partitions: partitions})
	ctx := context.Background()
	nodes := k.Nodes()
	t, err := placement.New(partitions, 2, []string{"0", "1", "2"})
	if err != nil {
		b.Fatal(err)
	}
	// keys owned (as primary) by node 0, and keys node 0 does not own.
	var mine, others []string
	for i := 0; len(mine) < 100 || len(others) < 100; i++ {
		key := fmt.Sprintf("bench:%d", i)
		owners := t.OwnersOf([]byte(key))
		switch {
		case owners[0] == "0" && len(mine) < 100:
			mine = append(mine, key)
		case owners[0] != "0" && owners[1] != "0" && len(others) < 100:
			others = append(others, key)
		}
	}
	for _, key := range append(append([]string{}, mine...), others...) {
		if err := nodes[0].Client().Set(ctx, key, "value-of-some-bytes", 0).Err(); err != nil {
			b.Fatal(err)
		}
	}
	routed := startProxy(b, k, partitions, func(pc *proxy.Config) { pc.L1MaxAge = 0 })
	fixed := startFixedProxy(b)
	for _, key := range mine {
		if err := fixed.Set(ctx, key, "value-of-some-bytes", 0).Err(); err != nil {
			b.Fatal(err)
		}
	}
	run := func(name string, c *redis.Client, keys []string) {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				if err := c.Get(ctx, keys[i%len(keys)]).Err(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	run("store-owner", nodes[0].Client(), mine)
	run("store-forward", nodes[0].Client(), others)
	run("proxy-upstream", fixed, mine)
	run("proxy-routed", routed, mine)
}

// startFixedProxy runs one store alone and a proxy with --upstream in
// front of it, L1 off.
func startFixedProxy(b *testing.B) *redis.Client {
	sc := cluster.DefaultConfig()
	sc.Server.Addr = "127.0.0.1:0"
	sc.Engine.Partitions = 256
	st, err := cluster.New(sc)
	if err != nil {
		b.Fatal(err)
	}
	if err := st.Listen(); err != nil {
		b.Fatal(err)
	}
	testkit.RunUntilCleanup(b, "store", st.Run)
	pc := proxy.DefaultConfig()
	pc.Server.Addr = "127.0.0.1:0"
	pc.Upstream = "redis://" + st.Addr()
	pc.L1MaxAge = 0
	px, err := proxy.New(pc)
	if err != nil {
		b.Fatal(err)
	}
	if err := px.Listen(); err != nil {
		b.Fatal(err)
	}
	testkit.RunUntilCleanup(b, "proxy", px.Run)
	c := redis.NewClient(&redis.Options{
		Addr: px.Addr(), Protocol: 2, DisableIdentity: true, MaxRetries: -1,
		MaintNotificationsConfig: &maintnotifications.Config{Mode: maintnotifications.ModeDisabled},
	})
	b.Cleanup(func() { c.Close() })
	return c
}
