package cluster_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"corral/cluster"
	"corral/cluster/clustertest"
	"corral/internal/acl"
)

// TestPeersNeedNoUserWithTheSecret: with the default user off and a
// restricted application user, the nodes still replicate and forward to
// each other, because a peer authenticates with the cluster secret's
// token, not as a user. The application user reaches data through either
// node, gets NOPERM for the internal commands and, lacking @admin, for
// FLUSHALL.
func TestPeersNeedNoUserWithTheSecret(t *testing.T) {
	users, err := acl.Parse(strings.NewReader("user default off\nuser app on >apppw ~* +@all -@admin"), "users.acl")
	if err != nil {
		t.Fatal(err)
	}
	k := clustertest.New(t, 2, clustertest.Options{Replicas: 2, Secret: "s3cret", Tweak: func(_ string, cfg *cluster.Config) {
		cfg.Server.Users = users
	}})
	ctx := context.Background()
	app := func(id string) *redis.Client {
		c := redis.NewClient(&redis.Options{Addr: k.Node(id).Addr(), Username: "app", Password: "apppw", Protocol: 2, DisableIdentity: true})
		t.Cleanup(func() { c.Close() })
		return c
	}
	a0, a1 := app("0"), app("1")
	if err := k.Node("0").Client().Get(ctx, "k").Err(); err == nil || !strings.HasPrefix(err.Error(), "NOAUTH") {
		t.Fatalf("GET without AUTH = %v, want NOAUTH", err)
	}
	for i := range 50 {
		key := "k" + string(rune('a'+i%26)) + strings.Repeat("x", i/26)
		if err := a0.Set(ctx, key, "v", 0).Err(); err != nil {
			t.Fatalf("SET %s: %v", key, err)
		}
	}
	// Both nodes own every key with RF 2: each must hold all 50, which
	// only replication between peers can have done.
	k.WaitFor(10*time.Second, "node 1 holds every key", func() bool {
		n, err := a1.DBSize(ctx).Result()
		return err == nil && n == 50
	})
	for _, args := range [][]any{{"corral.fetch", "ka"}, {"corral.roots", "0", "0"}} {
		if err := a0.Do(ctx, args...).Err(); err == nil || !strings.HasPrefix(err.Error(), "NOPERM") {
			t.Errorf("%v as app = %v, want NOPERM", args, err)
		}
	}
	if err := a0.FlushAll(ctx).Err(); err == nil || err.Error() != "NOPERM this user has no permissions to run the 'flushall' command" {
		t.Errorf("FLUSHALL as app = %v", err)
	}
	if n, _ := a1.DBSize(ctx).Result(); n != 50 {
		t.Errorf("DBSIZE = %d after the refused FLUSHALL, want 50", n)
	}
}
