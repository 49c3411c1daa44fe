package cluster

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/redis/go-redis/v9/maintnotifications"

	"corral/cluster"
	"corral/cluster/clustertest"
	"corral/cluster/membership"
	"corral/internal/testkit"
	"corral/proxy"
)

// startProxy runs a proxy routing by the gossip view of k's cluster.
func startProxy(t testing.TB, k *clustertest.Kit, partitions int, tune func(*proxy.Config)) *redis.Client {
	t.Helper()
	mc := membership.DefaultConfig()
	mc.NodeID = "proxy"
	mc.Bind = "127.0.0.1:0"
	mc.Profile = membership.ProfileLocal
	mc.Meta.Partitions = partitions
	for _, nd := range k.Nodes() {
		mc.Seeds = append(mc.Seeds, nd.Gossip)
	}
	pc := proxy.DefaultConfig()
	pc.Server.Addr = "127.0.0.1:0"
	pc.UpstreamTimeout = time.Second
	r, err := cluster.NewRouter(cluster.RouterConfig{Membership: mc, Replicas: 2}, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	testkit.RunUntilCleanup(t, "router", r.Run)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := r.WaitJoined(ctx); err != nil {
		t.Fatal(err)
	}
	k.WaitFor(10*time.Second, "the proxy to see the store nodes", func() bool { return len(r.Nodes()) == len(k.Nodes()) })
	pc.Router = r
	if tune != nil {
		tune(&pc)
	}
	px, err := proxy.New(pc)
	if err != nil {
		t.Fatal(err)
	}
	if err := px.Listen(); err != nil {
		t.Fatal(err)
	}
	testkit.RunUntilCleanup(t, "proxy", px.Run)
	c := redis.NewClient(&redis.Options{
		Addr: px.Addr(), Protocol: 2, DisableIdentity: true, MaxRetries: -1,
		MaintNotificationsConfig: &maintnotifications.Config{Mode: maintnotifications.ModeDisabled},
	})
	t.Cleanup(func() { c.Close() })
	return c
}

func writeKeys(t *testing.T, c *redis.Client, from, to int) {
	t.Helper()
	for i := from; i < to; i++ {
		k := fmt.Sprintf("k:%d", i)
		if err := c.Set(context.Background(), k, k, 0).Err(); err != nil {
			t.Fatalf("SET %s: %v", k, err)
		}
	}
}

func checkKeys(t *testing.T, c *redis.Client, from, to int) {
	t.Helper()
	missing := 0
	for i := from; i < to; i++ {
		k := fmt.Sprintf("k:%d", i)
		if v, err := c.Get(context.Background(), k).Result(); err != nil || v != k {
			if missing < 5 {
				t.Errorf("GET %s = %q, %v", k, v, err)
			}
			missing++
		}
	}
	if missing > 0 {
		t.Fatalf("%d of %d acknowledged writes missing", missing, to-from)
	}
}

// TestKillNodeThroughProxy: the acceptance scenario through the
// proxy. 5,000 writes; one store killed without a goodbye; 1,000 more
// writes with it down; all 6,000 readable; underreplicated back to 0; the
// node restarted empty, rejoined and refilled; nothing acknowledged lost.
func TestKillNodeThroughProxy(t *testing.T) {
	const partitions = 256
	k := clustertest.New(t, 3, clustertest.Options{Partitions: partitions})
	c := startProxy(t, k, partitions, nil)
	writeKeys(t, c, 0, 5000)
	k.WaitConverged(20 * time.Second)

	killed := time.Now()
	k.Kill("1")
	writeKeys(t, c, 5000, 6000)
	checkKeys(t, c, 0, 6000)
	k.WaitOwners(2, 30*time.Second)
	detected := time.Since(killed)
	conv := k.WaitConverged(30 * time.Second)
	t.Logf("kill: dead node out of placement after %v, back to RF copies %v later", detected.Round(time.Millisecond), conv.Round(time.Millisecond))
	if n := k.Underreplicated(); n != 0 {
		t.Fatalf("underreplicated %d after convergence", n)
	}
	checkKeys(t, c, 0, 6000)

	restarted := time.Now()
	k.Start("1")
	k.WaitOwners(3, 30*time.Second)
	k.WaitConverged(30 * time.Second)
	t.Logf("restart: empty node rejoined and refilled in %v", time.Since(restarted).Round(time.Millisecond))
	checkKeys(t, c, 0, 6000)
	checkKeys(t, k.Node("1").Client(), 0, 6000)
	if n, err := c.DBSize(context.Background()).Result(); err != nil || n != 6000 {
		t.Errorf("DBSIZE through the proxy = %d, %v; want 6000", n, err)
	}
}

// TestMultiKeyCommandsSpanOwners: MSET, MGET, DEL, EXISTS and SCAN through
// the proxy cover keys on every node.
func TestMultiKeyCommandsSpanOwners(t *testing.T) {
	const partitions = 256
	k := clustertest.New(t, 3, clustertest.Options{Partitions: partitions})
	c := startProxy(t, k, partitions, nil)
	ctx := context.Background()
	var kv []any
	var keys []string
	for i := range 50 {
		kv = append(kv, fmt.Sprintf("m:%d", i), fmt.Sprint(i))
		keys = append(keys, fmt.Sprintf("m:%d", i))
	}
	if err := c.MSet(ctx, kv...).Err(); err != nil {
		t.Fatal(err)
	}
	vals, err := c.MGet(ctx, append(keys, "absent")...).Result()
	if err != nil {
		t.Fatal(err)
	}
	for i, v := range vals[:50] {
		if v != fmt.Sprint(i) {
			t.Fatalf("MGET[%d] = %v", i, v)
		}
	}
	if vals[50] != nil {
		t.Fatalf("MGET of an absent key = %v", vals[50])
	}
	if n, err := c.Exists(ctx, keys...).Result(); err != nil || n != 50 {
		t.Fatalf("EXISTS = %d, %v", n, err)
	}
	seen := map[string]bool{}
	var cursor uint64
	for {
		ks, next, err := c.Scan(ctx, cursor, "m:*", 10).Result()
		if err != nil {
			t.Fatal(err)
		}
		for _, x := range ks {
			seen[x] = true
		}
		if cursor = next; cursor == 0 {
			break
		}
	}
	if len(seen) != 50 {
		t.Fatalf("SCAN found %d of 50 keys", len(seen))
	}
	if ok, err := c.MSetNX(ctx, "m:1", "x", "new", "y").Result(); err != nil || ok {
		t.Fatalf("MSETNX over a held key = %v, %v; want false", ok, err)
	}
	if n, err := c.Del(ctx, keys...).Result(); err != nil || n != 50 {
		t.Fatalf("DEL = %d, %v", n, err)
	}
	if n, err := c.DBSize(ctx).Result(); err != nil || n != 0 {
		t.Fatalf("DBSIZE after DEL = %d, %v", n, err)
	}
}
