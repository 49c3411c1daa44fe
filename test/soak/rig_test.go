//go:build soak

package soak

import (
	"context"
	"errors"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/redis/go-redis/v9/maintnotifications"

	"corral/bench/originsim"
	"corral/cluster"
	"corral/cluster/clustertest"
	"corral/cluster/membership"
	"corral/internal/testkit"
	"corral/origin"
	"corral/proxy"
)

// Shape of the rig.
const (
	partitions = 256
	replicas   = 2
	l1MaxAge   = time.Second
	originTTL  = 2 * time.Second // the simulator's max-age: loaded keys expire and reload
)

// rig is everything the soak runs, in this process: the origin simulator
// behind a gate that can slow it down, three store nodes reading through
// to it, and a proxy routed by gossip with its L1 on.
type rig struct {
	kit    *clustertest.Kit
	sim    *originsim.Sim
	gate   *gate
	router *cluster.Router
	client *redis.Client // through the proxy; the load and the checks use it
}

// gate sits in front of the simulator's handler and delays every load by
// an amount the fault schedule sets (the simulator's own latency is fixed
// at New).
type gate struct {
	inner http.Handler
	delay atomic.Int64 // nanoseconds added to each load
}

func (g *gate) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if d := time.Duration(g.delay.Load()); d > 0 {
		t := time.NewTimer(d) // the simulated slowness itself
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
			return
		}
	}
	g.inner.ServeHTTP(w, r)
}

// SetDelay makes every later load take d longer.
func (g *gate) SetDelay(d time.Duration) { g.delay.Store(int64(d)) }

func startRig(t *testing.T, seed uint64) *rig {
	t.Helper()
	scfg := originsim.DefaultConfig()
	scfg.Addr = "127.0.0.1:0"
	scfg.Latency = 2 * time.Millisecond
	scfg.Jitter = 3 * time.Millisecond
	scfg.MaxAge = originTTL
	scfg.ValueSize = 64
	scfg.Seed = seed
	sim, err := originsim.New(scfg)
	if err != nil {
		t.Fatal(err)
	}
	g := &gate{inner: sim.Handler()}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: g, ReadHeaderTimeout: 10 * time.Second}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	t.Cleanup(func() {
		_ = srv.Close()
		if err := <-served; err != nil && !errors.Is(err, http.ErrServerClosed) {
			t.Errorf("origin: %v", err)
		}
	})
	originURL := "http://" + ln.Addr().String() + "/k/{key}"

	// Each node gets its own origin client; a restarted node's new one
	// replaces (and closes) the killed node's, whose idle connections would
	// otherwise count as leaked goroutines that are the harness's, not
	// corral's.
	var omu sync.Mutex
	origins := map[string]*origin.Origin{}
	t.Cleanup(func() {
		omu.Lock()
		defer omu.Unlock()
		for _, o := range origins {
			o.Close()
		}
	})
	tweak := func(id string, cfg *cluster.Config) {
		ocfg := origin.DefaultConfig()
		ocfg.URL = originURL
		o, err := origin.New(ocfg)
		if err != nil {
			t.Fatalf("origin client of node %s: %v", id, err)
		}
		cfg.Origin = o
		omu.Lock()
		if old := origins[id]; old != nil {
			old.Close()
		}
		origins[id] = o
		omu.Unlock()
	}
	k := clustertest.New(t, 3, clustertest.Options{Replicas: replicas, Partitions: partitions, Tweak: tweak})

	mc := membership.DefaultConfig()
	mc.NodeID = "proxy"
	mc.Bind = "127.0.0.1:0"
	mc.Profile = membership.ProfileLocal
	mc.Meta.Partitions = partitions
	for _, nd := range k.Nodes() {
		mc.Seeds = append(mc.Seeds, nd.Gossip)
	}
	r, err := cluster.NewRouter(cluster.RouterConfig{Membership: mc, Replicas: replicas}, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	testkit.RunUntilCleanup(t, "router", r.Run)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := r.WaitJoined(ctx); err != nil {
		t.Fatal(err)
	}
	k.WaitFor(10*time.Second, "the proxy to see the store nodes", func() bool { return len(r.Nodes()) == 3 })

	pc := proxy.DefaultConfig()
	pc.Server.Addr = "127.0.0.1:0"
	pc.Router = r
	pc.L1MaxAge = l1MaxAge
	// Above the stores' origin timeout (2s), as the README asks: a proxy
	// that gives up first opens its breaker on a store that is only
	// waiting for a slow origin, and fails writes over to a replica.
	pc.UpstreamTimeout = 3 * time.Second
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
		PoolSize:                 workers + 8,
		DialTimeout:              2 * time.Second,
		ReadTimeout:              3 * time.Second,
		WriteTimeout:             3 * time.Second,
		MaintNotificationsConfig: &maintnotifications.Config{Mode: maintnotifications.ModeDisabled},
	})
	t.Cleanup(func() { c.Close() })
	return &rig{kit: k, sim: sim, gate: g, router: r, client: c}
}

// ownerNodes returns the running nodes that own key, primary first, by the
// proxy's view of placement.
func (rg *rig) ownerNodes(key string) []*clustertest.Node {
	byAddr := map[string]*clustertest.Node{}
	for _, nd := range rg.kit.Nodes() {
		byAddr[nd.Addr()] = nd
	}
	var out []*clustertest.Node
	for _, a := range rg.router.Owners([]byte(key)) {
		if nd := byAddr[a]; nd != nil {
			out = append(out, nd)
		}
	}
	return out
}
