package cluster_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"corral/cluster"
	"corral/cluster/clustertest"
	"corral/cluster/engine"
)

// evictedKeys returns the keys e holds as tombstones.
func evictedKeys(e *engine.Engine, keys []string) []string {
	var out []string
	now := time.Now().UnixMilli()
	for _, k := range keys {
		if r, ok := e.Lookup([]byte(k), now); ok && r.Tombstone {
			out = append(out, k)
		}
	}
	return out
}

// TestEvictionReplicatesAndStays: in a 2-node RF 2 cluster where only node
// 0 has a --maxmemory, its evictions reach node 1 as tombstones, so node 1
// drops the keys too, and anti-entropy rounds afterwards leave both nodes
// equal with the evicted keys still gone: no resurrection, no churn.
func TestEvictionReplicatesAndStays(t *testing.T) {
	const limit = 100_000
	k := clustertest.New(t, 2, clustertest.Options{
		AEInterval: time.Hour, // rounds run below, by hand
		Tweak: func(id string, cfg *cluster.Config) {
			cfg.Engine.Rand = rand.New(rand.NewPCG(3, uint64(len(id))))
			if id == "0" {
				cfg.Engine.MaxMemory = limit
			}
		},
	})
	n0, n1 := k.Node("0"), k.Node("1")
	ctx := context.Background()
	value := strings.Repeat("v", 1000)
	keys := make([]string, 300)
	for i := range keys {
		keys[i] = fmt.Sprintf("key:%d", i)
		if err := n0.Client().Set(ctx, keys[i], value, 0).Err(); err != nil {
			t.Fatalf("SET %s: %v", keys[i], err)
		}
	}
	if used := n0.Store.Engine().UsedBytes(); used > limit {
		t.Fatalf("node 0 uses %d bytes, over its limit %d", used, limit)
	}
	e0, e1 := n0.Store.Engine(), n1.Store.Engine()
	evicted := evictedKeys(e0, keys)
	if len(evicted) < 150 {
		t.Fatalf("node 0 evicted %d of %d keys, want at least 150", len(evicted), len(keys))
	}
	k.WaitFor(10*time.Second, "node 1 to hold every eviction's tombstone", func() bool {
		return len(evictedKeys(e1, keys)) == len(evicted)
	})
	for range 3 {
		n0.Store.AntiEntropyRound(ctx)
		n1.Store.AntiEntropyRound(ctx)
	}
	if got := evictedKeys(e0, keys); len(got) != len(evicted) {
		t.Errorf("after anti-entropy node 0 has %d evicted keys, had %d: resurrected", len(got), len(evicted))
	}
	if got := evictedKeys(e1, keys); len(got) != len(evicted) {
		t.Errorf("after anti-entropy node 1 has %d evicted keys, want %d", len(got), len(evicted))
	}
	for p := range e0.Partitions() {
		if e0.Root(p) != e1.Root(p) {
			t.Fatalf("partition %d differs between the nodes after anti-entropy", p)
		}
	}
	if err := n1.Client().Get(ctx, evicted[0]).Err(); err != redis.Nil {
		t.Errorf("GET %s on node 1 = %v, want nil (evicted)", evicted[0], err)
	}
}
