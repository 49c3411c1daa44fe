// Package clustertest starts real corral store nodes in-process on
// loopback (RESP and gossip on port 0, the local gossip profile) for tests:
// a cluster whose nodes can be killed without a goodbye, restarted empty,
// drained, and cut off from each other by a fault-injecting transport.
package clustertest

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"corral/cluster"
	"corral/cluster/engine"
	"corral/cluster/membership"
	"corral/cluster/repl"
)

func init() {
	// go-redis logs every failed dial; the kit kills nodes on purpose.
	redis.SetLogger(quiet{})
}

type quiet struct{}

func (quiet) Printf(context.Context, string, ...any) {}

// Options shape the nodes a Kit starts.
type Options struct {
	Replicas   int           // default 2
	Partitions int           // default 256: fast to compare, enough to spread
	AEInterval time.Duration // default 200ms
	Acks       repl.AckMode
	Secret     string // --cluster-secret of every node
	// Tweak, if set, adjusts each node's Config before it starts.
	Tweak func(id string, cfg *cluster.Config)
}

// Kit is an in-process cluster of store nodes.
type Kit struct {
	t    testing.TB
	opts Options

	mu    sync.Mutex
	nodes map[string]*Node
	order []string
	cut   map[[2]string]bool
}

// Node is one running store node.
type Node struct {
	ID     string
	Store  *cluster.Store
	Gossip string
	cancel context.CancelFunc
	done   chan error
	client *redis.Client
}

// Addr returns the node's RESP address.
func (n *Node) Addr() string { return n.Store.Addr() }

// Client returns a go-redis client of the node (no retries).
func (n *Node) Client() *redis.Client { return n.client }

// New starts n nodes named "0".."n-1", each seeded with the ones before
// it, and waits until every node sees all of them active.
func New(t testing.TB, n int, opts Options) *Kit {
	t.Helper()
	if opts.Replicas == 0 {
		opts.Replicas = 2
	}
	if opts.Partitions == 0 {
		opts.Partitions = 256
	}
	if opts.AEInterval == 0 {
		opts.AEInterval = 200 * time.Millisecond
	}
	k := &Kit{t: t, opts: opts, nodes: map[string]*Node{}, cut: map[[2]string]bool{}}
	t.Cleanup(k.stopAll)
	for i := range n {
		k.Start(fmt.Sprint(i))
	}
	k.WaitOwners(n, 20*time.Second)
	return k
}

// Start starts (or restarts, empty) node id, seeded with the running nodes.
func (k *Kit) Start(id string) *Node {
	k.t.Helper()
	k.mu.Lock()
	var seeds []string
	for _, o := range k.order {
		if nd := k.nodes[o]; nd != nil && o != id {
			seeds = append(seeds, nd.Gossip)
		}
	}
	k.mu.Unlock()

	cfg := cluster.DefaultConfig()
	cfg.Server.Addr = "127.0.0.1:0"
	cfg.Engine.Partitions = k.opts.Partitions
	cfg.AllowFlush = true
	if os.Getenv("CLUSTERTEST_LOG") != "" {
		cfg.Logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug})).With("node", id)
	}
	cc := cluster.DefaultClusterConfig()
	cc.Membership.NodeID = id
	cc.Membership.Bind = "127.0.0.1:0"
	cc.Membership.Seeds = seeds
	cc.Membership.Profile = membership.ProfileLocal
	cc.Membership.RejoinInterval = time.Second
	cc.Membership.Secret = k.opts.Secret
	cc.Repl.Replicas = k.opts.Replicas
	cc.Repl.AEInterval = k.opts.AEInterval
	cc.Repl.Acks = k.opts.Acks
	cc.Repl.Timeout = 500 * time.Millisecond
	cc.DrainTimeout = 10 * time.Second
	cc.WrapTransport = func(inner repl.Transport) repl.Transport { return &faulty{k: k, self: id, inner: inner} }
	cfg.Cluster = &cc
	if k.opts.Tweak != nil {
		k.opts.Tweak(id, &cfg)
	}
	st, err := cluster.New(cfg)
	if err != nil {
		k.t.Fatalf("node %s: %v", id, err)
	}
	if err := st.Listen(); err != nil {
		k.t.Fatalf("node %s: listen: %v", id, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	nd := &Node{ID: id, Store: st, Gossip: st.GossipAddr(), cancel: cancel, done: make(chan error, 1)}
	nd.client = redis.NewClient(&redis.Options{Addr: st.Addr(), Protocol: 2, DisableIdentity: true, MaxRetries: -1})
	go func() { nd.done <- st.Run(ctx) }()
	k.mu.Lock()
	if !slices.Contains(k.order, id) {
		k.order = append(k.order, id)
	}
	k.nodes[id] = nd
	k.mu.Unlock()
	return nd
}

// Node returns the running node id, or nil.
func (k *Kit) Node(id string) *Node {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.nodes[id]
}

// Nodes returns the running nodes in start order.
func (k *Kit) Nodes() []*Node {
	k.mu.Lock()
	defer k.mu.Unlock()
	var out []*Node
	for _, id := range k.order {
		if nd := k.nodes[id]; nd != nil {
			out = append(out, nd)
		}
	}
	return out
}

// Kill stops node id as kill -9 would look to its peers: no goodbye, its
// listeners closed, its data gone.
func (k *Kit) Kill(id string) {
	k.t.Helper()
	nd := k.take(id)
	nd.Store.Kill()
	k.wait(nd)
}

// Stop shuts node id down gracefully: it drains first.
func (k *Kit) Stop(id string) {
	k.t.Helper()
	nd := k.take(id)
	nd.cancel()
	k.wait(nd)
}

func (k *Kit) take(id string) *Node {
	k.mu.Lock()
	defer k.mu.Unlock()
	nd := k.nodes[id]
	if nd == nil {
		k.t.Fatalf("node %s is not running", id)
	}
	delete(k.nodes, id)
	return nd
}

func (k *Kit) wait(nd *Node) {
	k.t.Helper()
	select {
	case err := <-nd.done:
		if err != nil && err != context.Canceled {
			k.t.Errorf("node %s: Run: %v", nd.ID, err)
		}
	case <-time.After(30 * time.Second):
		k.t.Errorf("node %s did not stop within 30s", nd.ID)
	}
	nd.cancel()
	nd.client.Close()
}

func (k *Kit) stopAll() {
	for _, nd := range k.Nodes() {
		k.Kill(nd.ID)
	}
}

// Cut drops (or, with cut false, restores) replication and anti-entropy
// traffic between node a and node b, both ways.
func (k *Kit) Cut(a, b string, cut bool) {
	k.mu.Lock()
	k.cut[[2]string{a, b}] = cut
	k.cut[[2]string{b, a}] = cut
	k.mu.Unlock()
}

// Partition cuts every link between group a and group b (or heals them).
func (k *Kit) Partition(a, b []string, cut bool) {
	for _, x := range a {
		for _, y := range b {
			k.Cut(x, y, cut)
		}
	}
}

func (k *Kit) isCut(from, to string) bool {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.cut[[2]string{from, to}]
}

// WaitOwners waits until every running node places partitions on exactly
// n owners.
func (k *Kit) WaitOwners(n int, timeout time.Duration) {
	k.t.Helper()
	k.WaitFor(timeout, fmt.Sprintf("every node to see %d owners", n), func() bool {
		for _, nd := range k.Nodes() {
			if len(nd.Store.Owners()) != n {
				return false
			}
		}
		return true
	})
}

// Underreplicated sums the underreplicated partitions over running nodes.
func (k *Kit) Underreplicated() int {
	total := 0
	for _, nd := range k.Nodes() {
		total += nd.Store.ReplicationStatus().Underreplicated
	}
	return total
}

// WaitConverged waits until no partition is underreplicated, none waits
// for handoff and no hint is queued.
func (k *Kit) WaitConverged(timeout time.Duration) time.Duration {
	k.t.Helper()
	start := time.Now()
	k.WaitFor(timeout, "the cluster to converge", func() bool {
		for _, nd := range k.Nodes() {
			st := nd.Store.ReplicationStatus()
			if st.Underreplicated != 0 || st.Handoff != 0 || st.Hints != 0 || st.Unfilled != 0 {
				return false
			}
		}
		return true
	})
	return time.Since(start)
}

// WaitFor polls cond every 20ms until it holds, failing the test after
// timeout.
func (k *Kit) WaitFor(timeout time.Duration, what string, cond func() bool) {
	k.t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			k.t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// faulty is a node's transport with the Kit's cuts applied.
type faulty struct {
	k     *Kit
	self  string
	inner repl.Transport
}

func (f *faulty) check(to string) error {
	if f.k.isCut(f.self, to) {
		return fmt.Errorf("clustertest: %s→%s cut: %w", f.self, to, repl.ErrUnreachable)
	}
	return nil
}

func (f *faulty) Apply(ctx context.Context, to string, e []repl.Entry) error {
	if err := f.check(to); err != nil {
		return err
	}
	return f.inner.Apply(ctx, to, e)
}

func (f *faulty) Roots(ctx context.Context, to string, p []int, r []uint64) ([]uint64, error) {
	if err := f.check(to); err != nil {
		return nil, err
	}
	return f.inner.Roots(ctx, to, p, r)
}

func (f *faulty) Buckets(ctx context.Context, to string, p int) ([]uint64, error) {
	if err := f.check(to); err != nil {
		return nil, err
	}
	return f.inner.Buckets(ctx, to, p)
}

func (f *faulty) Keys(ctx context.Context, to string, p int, b []int) ([]engine.KeyHash, error) {
	if err := f.check(to); err != nil {
		return nil, err
	}
	return f.inner.Keys(ctx, to, p, b)
}

func (f *faulty) Fetch(ctx context.Context, to string, keys [][]byte) ([]repl.Entry, error) {
	if err := f.check(to); err != nil {
		return nil, err
	}
	return f.inner.Fetch(ctx, to, keys)
}
