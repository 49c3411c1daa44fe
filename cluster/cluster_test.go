package cluster_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"corral/cluster"
	"corral/cluster/clustertest"
	"corral/cluster/repl"
	"corral/origin"
)

// writeKeys SETs keys prefix:from..to-1 through c, each to its own name,
// and returns how many were acknowledged.
func writeKeys(t *testing.T, c *redis.Client, prefix string, from, to int) int {
	t.Helper()
	ctx := context.Background()
	acked := 0
	for i := from; i < to; i++ {
		k := fmt.Sprintf("%s:%d", prefix, i)
		if err := c.Set(ctx, k, k, 0).Err(); err != nil {
			t.Fatalf("SET %s: %v", k, err)
		}
		acked++
	}
	return acked
}

// checkKeys reads keys prefix:from..to-1 through c and fails on any that is
// missing or wrong.
func checkKeys(t *testing.T, c *redis.Client, prefix string, from, to int) {
	t.Helper()
	ctx := context.Background()
	missing := 0
	for i := from; i < to; i++ {
		k := fmt.Sprintf("%s:%d", prefix, i)
		v, err := c.Get(ctx, k).Result()
		if err != nil || v != k {
			if missing < 5 {
				t.Errorf("GET %s = %q, %v", k, v, err)
			}
			missing++
		}
	}
	if missing > 0 {
		t.Fatalf("%d of %d acknowledged keys missing", missing, to-from)
	}
}

// TestKillWriteRestart is the first acceptance scenario on three
// store nodes: 5,000 writes; one node killed without a goodbye; 1,000 more
// writes; every acknowledged write readable; the cluster back to full
// replication; the node restarted empty, refilled, nothing lost.
func TestKillWriteRestart(t *testing.T) {
	k := clustertest.New(t, 3, clustertest.Options{})
	c0 := k.Node("0").Client()
	writeKeys(t, c0, "k", 0, 5000)
	checkKeys(t, k.Node("1").Client(), "k", 0, 5000)
	t.Logf("converged after writes in %v", k.WaitConverged(20*time.Second))

	start := time.Now()
	k.Kill("2")
	writeKeys(t, c0, "k", 5000, 6000)
	checkKeys(t, c0, "k", 0, 6000)
	k.WaitOwners(2, 30*time.Second)
	t.Logf("node 2 removed from placement after %v", time.Since(start))
	t.Logf("re-replicated to RF after %v", k.WaitConverged(30*time.Second))
	checkKeys(t, k.Node("1").Client(), "k", 0, 6000)

	start = time.Now()
	k.Start("2")
	k.WaitOwners(3, 30*time.Second)
	t.Logf("restarted empty node converged after %v", time.Since(start)+k.WaitConverged(30*time.Second))
	checkKeys(t, k.Node("2").Client(), "k", 0, 6000)
	var total int64
	for _, nd := range k.Nodes() {
		n, err := nd.Client().DBSize(context.Background()).Result()
		if err != nil {
			t.Fatal(err)
		}
		total = n
	}
	if total != 6000 {
		t.Errorf("DBSIZE %d, want 6000", total)
	}
}

// TestPartitionHeals: with replication between {0} and {1, 2} cut and no
// hints to paper over it, writes on both sides diverge the replicas; after
// the heal, anti-entropy alone converges them within a few rounds.
func TestPartitionHeals(t *testing.T) {
	k := clustertest.New(t, 3, clustertest.Options{Tweak: func(_ string, cfg *cluster.Config) {
		cfg.Cluster.Repl.HintsPerPeer = 0
	}})
	k.Partition([]string{"0"}, []string{"1", "2"}, true)
	writeKeys(t, k.Node("0").Client(), "a", 0, 1000)
	writeKeys(t, k.Node("1").Client(), "b", 0, 1000)
	if k.Underreplicated() == 0 {
		t.Fatal("no partition underreplicated while replication is cut")
	}
	k.Partition([]string{"0"}, []string{"1", "2"}, false)
	took := k.WaitConverged(20 * time.Second)
	t.Logf("converged %v after the heal (anti-entropy every 200ms)", took)
	for _, nd := range k.Nodes() {
		checkKeys(t, nd.Client(), "a", 0, 1000)
		checkKeys(t, nd.Client(), "b", 0, 1000)
	}
	// Every owner holds every key: compare each key's copies directly.
	for _, nd := range k.Nodes() {
		st := nd.Store.ReplicationStatus()
		if st.Underreplicated != 0 || st.Hints != 0 {
			t.Errorf("node %s: %+v", nd.ID, st)
		}
	}
}

// TestDrainUnderWriteLoad: a node drained while a client keeps writing
// hands its partitions off and exits; no acknowledged write is lost.
func TestDrainUnderWriteLoad(t *testing.T) {
	k := clustertest.New(t, 3, clustertest.Options{})
	c0 := k.Node("0").Client()
	writeKeys(t, c0, "k", 0, 2000)
	stop := make(chan struct{})
	acked := make(chan int)
	go func() {
		n := 0
		for i := 2000; ; i++ {
			select {
			case <-stop:
				acked <- n
				return
			default:
			}
			kk := fmt.Sprintf("k:%d", i)
			if err := c0.Set(context.Background(), kk, kk, 0).Err(); err != nil {
				t.Errorf("SET %s during the drain: %v", kk, err)
				continue
			}
			n = i + 1
		}
	}()
	start := time.Now()
	k.Stop("2") // graceful: drains before it exits
	t.Logf("node 2 drained and stopped in %v", time.Since(start))
	close(stop)
	last := <-acked
	k.WaitOwners(2, 10*time.Second)
	k.WaitConverged(20 * time.Second)
	checkKeys(t, c0, "k", 0, last)
	checkKeys(t, k.Node("1").Client(), "k", 0, last)
	t.Logf("%d writes acknowledged, none lost", last)
}

// TestQuorumWriteUnacked: with --write-acks quorum and RF 2, a write whose
// co-owner cannot be reached is answered UNACKED (a code no client
// retries); once the link heals the same write is acknowledged.
func TestQuorumWriteUnacked(t *testing.T) {
	k := clustertest.New(t, 2, clustertest.Options{Acks: repl.AckQuorum})
	k.Cut("0", "1", true)
	err := k.Node("0").Client().Set(context.Background(), "q", "v", 0).Err()
	if err == nil || !strings.HasPrefix(err.Error(), "UNACKED the write reached 1 owner(s); --write-acks quorum needs 2") {
		t.Fatalf("SET with the co-owner cut off = %v, want UNACKED", err)
	}
	k.Cut("0", "1", false)
	// The hint of the first write probes the healed link and clears the
	// mark that makes writes skip a peer that just failed.
	k.WaitFor(10*time.Second, "the hint to be delivered", func() bool { return k.Node("0").Store.ReplicationStatus().Hints == 0 })
	if err := k.Node("0").Client().Set(context.Background(), "q", "v", 0).Err(); err != nil {
		t.Fatalf("SET after the heal = %v", err)
	}
}

// TestScaleUpDoesNotStampedeTheOrigin: values loaded from the origin reach
// the co-owners, and a node added to the cluster asks its co-owners for
// keys of partitions it has not been filled with yet instead of loading
// them again: adding a node costs the origin nothing.
func TestScaleUpDoesNotStampedeTheOrigin(t *testing.T) {
	var loads atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		loads.Add(1)
		w.Header().Set("Cache-Control", "max-age=600")
		fmt.Fprint(w, "origin:"+r.URL.Path)
	}))
	defer srv.Close()
	// Anti-entropy off in effect (once an hour): only replication of the
	// loads and the new node's fetches from its co-owners can serve it.
	k := clustertest.New(t, 2, clustertest.Options{Tweak: withOrigin(t, srv.URL, nil), AEInterval: time.Hour})
	ctx := context.Background()
	const n = 300
	for i := range n {
		if err := k.Node("0").Client().Get(ctx, fmt.Sprint("o", i)).Err(); err != nil {
			t.Fatal(err)
		}
	}
	if got := loads.Load(); got != n {
		t.Fatalf("%d origin loads for %d cold keys, want %d", got, n, n)
	}
	k.WaitFor(10*time.Second, "the loads to reach the co-owner", func() bool {
		return k.Node("1").Store.Engine().Len(time.Now().UnixMilli()) == n
	})
	k.Start("2")
	k.WaitOwners(3, 20*time.Second)
	c2 := k.Node("2").Client()
	for i := range n {
		key := fmt.Sprint("o", i)
		if v, err := c2.Get(ctx, key).Result(); err != nil || v != "origin:/"+key {
			t.Fatalf("GET %s on the new node = %q, %v", key, v, err)
		}
	}
	if got := loads.Load(); got != n {
		t.Errorf("the origin saw %d more loads after the scale-up, want 0", got-n)
	}
}

// BenchmarkConvergeAfterHeal measures how long three nodes with the
// default --ae-interval (1s) take, after replication between node 0 and
// the others was cut while 200 writes landed on each side, to be back to
// RF in-sync copies of every partition (no hints: anti-entropy alone).
//
//	go test -run '^$' -bench ConvergeAfterHeal -benchtime 5x ./cluster/
func BenchmarkConvergeAfterHeal(b *testing.B) {
	k := clustertest.New(b, 3, clustertest.Options{AEInterval: time.Second, Tweak: func(_ string, cfg *cluster.Config) {
		cfg.Cluster.Repl.HintsPerPeer = 0
	}})
	ctx := context.Background()
	var total time.Duration
	for i := 0; b.Loop(); i++ {
		k.Partition([]string{"0"}, []string{"1", "2"}, true)
		for j := range 200 {
			if err := k.Node("0").Client().Set(ctx, fmt.Sprintf("a:%d:%d", i, j), "v", 0).Err(); err != nil {
				b.Fatal(err)
			}
			if err := k.Node("1").Client().Set(ctx, fmt.Sprintf("b:%d:%d", i, j), "v", 0).Err(); err != nil {
				b.Fatal(err)
			}
		}
		k.Partition([]string{"0"}, []string{"1", "2"}, false)
		total += k.WaitConverged(30 * time.Second)
	}
	b.ReportMetric(float64(total.Milliseconds())/float64(b.N), "ms-to-converge")
}

// TestInternalCommandsNeedTheClusterSecret: with --cluster-secret set, the
// nodes replicate to each other, while a client that did not present the
// secret's token gets NOPERM for every internal command; CORRAL.FLUSH is
// refused without --allow-flush even for peers.
func TestInternalCommandsNeedTheClusterSecret(t *testing.T) {
	k := clustertest.New(t, 2, clustertest.Options{Secret: "s3cret", Tweak: func(id string, cfg *cluster.Config) {
		cfg.AllowFlush = false
	}})
	ctx := context.Background()
	c0 := k.Node("0").Client()
	if err := c0.Set(ctx, "k", "v", 0).Err(); err != nil {
		t.Fatal(err)
	}
	if v, err := k.Node("1").Client().Get(ctx, "k").Result(); err != nil || v != "v" {
		t.Fatalf("GET on the other node = %q, %v", v, err)
	}
	for _, args := range [][]any{
		{"corral.apply", "k", "0", "99999999999999", "v", "evil"},
		{"corral.fetch", "k"},
		{"corral.roots", "0", "0"},
		{"corral.fwd", "2", "set", "k", "evil"},
		{"corral.flush"},
	} {
		err := c0.Do(ctx, args...).Err()
		if err == nil || !strings.HasPrefix(err.Error(), "NOPERM") {
			t.Errorf("%v without the secret = %v, want NOPERM", args, err)
		}
	}
	if err := c0.Do(ctx, "corral.auth", "guess").Err(); err == nil || !strings.Contains(err.Error(), "invalid cluster secret") {
		t.Errorf("CORRAL.AUTH with a wrong token = %v", err)
	}
	if v, _ := c0.Get(ctx, "k").Result(); v != "v" {
		t.Errorf("GET k = %q after the refused commands, want v", v)
	}
	// Without a secret the commands are open, but FLUSH still needs --allow-flush.
	k2 := clustertest.New(t, 1, clustertest.Options{Tweak: func(_ string, cfg *cluster.Config) { cfg.AllowFlush = false }})
	if err := k2.Node("0").Client().Do(ctx, "corral.flush").Err(); err == nil || !strings.Contains(err.Error(), "--allow-flush") {
		t.Errorf("CORRAL.FLUSH without --allow-flush = %v", err)
	}
}

// TestLoadAsksCoOwnersFirst: a node that missed a write (replication to it
// was cut, and nothing told it so: its view never changed) and then misses
// the key asks its co-owners before loading from the origin, instead of
// loading a value that would overwrite the acknowledged write with a newer
// version. Found by the container e2e's network cut.
func TestLoadAsksCoOwnersFirst(t *testing.T) {
	var loads atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		loads.Add(1)
		fmt.Fprint(w, "origin")
	}))
	defer srv.Close()
	k := clustertest.New(t, 2, clustertest.Options{AEInterval: time.Hour, Tweak: withOrigin(t, srv.URL, func(cfg *cluster.Config) {
		cfg.Cluster.Repl.HintsPerPeer = 0
	})})
	ctx := context.Background()
	// Compare once by hand so that both nodes count their partitions as
	// filled: from here on, nothing tells node 0 it missed anything.
	k.WaitFor(10*time.Second, "both nodes filled", func() bool {
		for _, nd := range k.Nodes() {
			nd.Store.AntiEntropyRound(ctx)
		}
		return k.Node("0").Store.ReplicationStatus().Unfilled == 0 && k.Node("1").Store.ReplicationStatus().Unfilled == 0
	})
	k.Cut("0", "1", true)
	if err := k.Node("1").Client().Set(ctx, "k", "acked", 0).Err(); err != nil {
		t.Fatal(err)
	}
	k.Cut("0", "1", false)
	if v, err := k.Node("0").Client().Get(ctx, "k").Result(); err != nil || v != "acked" {
		t.Fatalf("GET on the node that missed the write = %q, %v; want the acknowledged value", v, err)
	}
	if n := loads.Load(); n != 0 {
		t.Fatalf("%d origin loads for a key a co-owner holds, want 0", n)
	}
	if v, _ := k.Node("1").Client().Get(ctx, "k").Result(); v != "acked" {
		t.Fatalf("the acknowledged write was overwritten: %q", v)
	}
}

// TestNoCollapseLoadsEveryMiss: with collapsing off (only for the
// ablation benchmark) concurrent misses of one cold key each load from
// the origin; with it on, they share one load.
func TestNoCollapseLoadsEveryMiss(t *testing.T) {
	for _, tc := range []struct {
		noCollapse bool
		want       int64
	}{{false, 1}, {true, 20}} {
		var loads atomic.Int64
		release := make(chan struct{})
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			loads.Add(1)
			<-release
			fmt.Fprint(w, "v")
		}))
		ocfg := origin.DefaultConfig()
		ocfg.URL = srv.URL + "/{key}"
		org, err := origin.New(ocfg)
		if err != nil {
			t.Fatal(err)
		}
		cfg := cluster.DefaultConfig()
		cfg.Server.Addr = "127.0.0.1:0"
		cfg.Origin = org
		cfg.NoCollapse = tc.noCollapse
		cfg.Admission.Limiter.MaxInflight = 0
		st, err := cluster.New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		if err := st.Listen(); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- st.Run(ctx) }()
		c := redis.NewClient(&redis.Options{Addr: st.Addr(), PoolSize: 20, MaxRetries: -1})
		errs := make(chan error, 20)
		for range 20 {
			go func() { errs <- c.Get(context.Background(), "cold").Err() }()
		}
		deadline := time.Now().Add(10 * time.Second)
		for loads.Load() < tc.want && time.Now().Before(deadline) {
			time.Sleep(5 * time.Millisecond)
		}
		close(release)
		for range 20 {
			if err := <-errs; err != nil {
				t.Errorf("GET: %v", err)
			}
		}
		if got := loads.Load(); got != tc.want {
			t.Errorf("NoCollapse=%v: %d origin loads for 20 concurrent misses, want %d", tc.noCollapse, got, tc.want)
		}
		c.Close()
		cancel()
		<-done
		srv.Close()
		org.Close()
	}
}

// withOrigin returns a kit Tweak that gives every node an HTTP origin at
// base+"/{key}", then applies more (may be nil).
func withOrigin(t *testing.T, base string, more func(*cluster.Config)) func(string, *cluster.Config) {
	return func(_ string, cfg *cluster.Config) {
		ocfg := origin.DefaultConfig()
		ocfg.URL = base + "/{key}"
		org, err := origin.New(ocfg)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { org.Close() })
		cfg.Origin = org
		if more != nil {
			more(cfg)
		}
	}
}
