package proxy

import (
	"bufio"
	"context"
	"net"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"

	"corral/internal/clock"
	"corral/internal/testkit"
)

// fakeRouter routes every key to its first node.
type fakeRouter struct {
	mu    sync.Mutex
	nodes []string
}

func (r *fakeRouter) set(nodes ...string) {
	r.mu.Lock()
	r.nodes = nodes
	r.mu.Unlock()
}

func (r *fakeRouter) Owners([]byte) []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.nodes[:min(1, len(r.nodes))])
}

func (r *fakeRouter) Nodes() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.nodes)
}

// fakeStore answers SET +OK, after waiting on hold while it is
// set, and counts its open connections.
type fakeStore struct {
	ln   net.Listener
	open atomic.Int64
	hold chan struct{} // nil: answer at once
	got  chan struct{} // one send per held command
	once sync.Once
}

// release answers the held commands and those to come.
func (s *fakeStore) release() { s.once.Do(func() { close(s.hold) }) }

func startFakeStore(t *testing.T, hold bool) *fakeStore {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &fakeStore{ln: ln}
	if hold {
		s.hold, s.got = make(chan struct{}), make(chan struct{}, 16)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	var conns []net.Conn
	t.Cleanup(func() {
		if s.hold != nil {
			s.release()
		}
		ln.Close()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			s.open.Add(1)
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer s.open.Add(-1)
				defer c.Close()
				s.serve(c)
			}()
		}
	}()
	return s
}

func (s *fakeStore) addr() string { return s.ln.Addr().String() }

func (s *fakeStore) serve(c net.Conn) {
	r := bufio.NewReader(c)
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		n, _ := strconv.Atoi(strings.TrimSpace(strings.TrimPrefix(line, "*")))
		var name string
		for i := range 2 * n { // $len and the argument
			arg, err := r.ReadString('\n')
			if err != nil {
				return
			}
			if i == 1 {
				name = strings.ToUpper(strings.TrimSpace(arg))
			}
		}
		if name != "SET" { // the handshake go-redis tries
			if _, err := c.Write([]byte("-ERR unknown command\r\n")); err != nil {
				return
			}
			continue
		}
		if s.hold != nil {
			s.got <- struct{}{}
			<-s.hold
		}
		if _, err := c.Write([]byte("+OK\r\n")); err != nil {
			return
		}
	}
}

// startRoutedProxy runs a proxy in front of router with a fake clock.
func startRoutedProxy(t *testing.T, router Router, clk *clock.Fake, reg prometheus.Registerer) *Proxy {
	t.Helper()
	return startProxy(t, "", func(c *Config) {
		c.Upstream = ""
		c.Router = router
		c.Clock = clk
		c.Registerer = reg
		c.L1MaxAge = 0
		c.UpstreamPoolSize = 1
		c.UpstreamTimeout = time.Hour // the fake clock drives the sweeps, not the ticker
	})
}

func (u *upstreams) has(addr string) bool {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.all[addr] != nil
}

func breakerSeries(t *testing.T, reg *prometheus.Registry, target string) int {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, mf := range mfs {
		if !strings.HasPrefix(mf.GetName(), "corral_breaker_") {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "target" && l.GetValue() == target {
					n++
				}
			}
		}
	}
	return n
}

func TestUpstreamLeavingViewIsRetiredAfterInFlightRequests(t *testing.T) {
	held := startFakeStore(t, true)
	other := startFakeStore(t, false)
	router := &fakeRouter{}
	router.set(held.addr())
	clk := clock.NewFake(time.Unix(1000, 0))
	reg := prometheus.NewRegistry()
	p := startRoutedProxy(t, router, clk, reg)
	grace := p.up.grace
	ctx := context.Background()
	c := redis.NewClient(&redis.Options{Addr: p.Addr(), Protocol: 2, PoolSize: 4})
	defer c.Close()

	// A SET to the held node stays in flight while the node leaves.
	inflight := make(chan error, 1)
	go func() { inflight <- c.Set(ctx, "k", "v", 0).Err() }()
	select {
	case <-held.got:
	case <-time.After(10 * time.Second):
		t.Fatal("the SET never reached its node")
	}
	if breakerSeries(t, reg, "upstream "+held.addr()) == 0 {
		t.Fatal("no breaker series for the held node")
	}
	router.set(other.addr())
	set := func() {
		t.Helper()
		if err := c.Set(ctx, "x", "y", 0).Err(); err != nil {
			t.Fatalf("SET to the remaining node: %v", err)
		}
	}
	set() // marks the held node gone
	clk.Advance(2 * grace)
	set() // past the grace, but a request is in flight
	if !p.up.has(held.addr()) || held.open.Load() == 0 {
		t.Fatal("retired an upstream with a request in flight")
	}

	held.release()
	if err := <-inflight; err != nil {
		t.Fatalf("in-flight SET: %v", err)
	}
	clk.Advance(grace)
	set()
	if p.up.has(held.addr()) {
		t.Fatal("upstream not retired once idle past the grace")
	}
	testkit.Eventually(t, func() bool { return held.open.Load() == 0 }, 10*time.Second, "retired pool's connections closed")
	if n := breakerSeries(t, reg, "upstream "+held.addr()); n != 0 {
		t.Fatalf("%d breaker series left for the retired node", n)
	}
	if !p.up.has(other.addr()) {
		t.Fatal("retired the node still in the view")
	}

	// Back in the view: a new upstream serves it.
	router.set(held.addr(), other.addr())
	set()
	if !p.up.has(held.addr()) {
		t.Fatal("no upstream for the node back in the view")
	}
}

func TestUpstreamFlappingWithinGraceKeepsItsPool(t *testing.T) {
	a, b := startFakeStore(t, false), startFakeStore(t, false)
	router := &fakeRouter{}
	router.set(a.addr(), b.addr())
	clk := clock.NewFake(time.Unix(1000, 0))
	p := startRoutedProxy(t, router, clk, nil)
	c := redis.NewClient(&redis.Options{Addr: p.Addr(), Protocol: 2})
	defer c.Close()
	set := func() {
		t.Helper()
		if err := c.Set(context.Background(), "k", "v", 0).Err(); err != nil {
			t.Fatal(err)
		}
	}
	set()
	p.up.mu.Lock()
	before := p.up.all[a.addr()]
	p.up.mu.Unlock()

	router.set(b.addr())
	set() // marks a gone
	clk.Advance(p.up.grace / 2)
	router.set(a.addr(), b.addr())
	set() // a is back: unmarked
	clk.Advance(p.up.grace)
	set()
	p.up.mu.Lock()
	after := p.up.all[a.addr()]
	p.up.mu.Unlock()
	if after != before {
		t.Fatal("a node back in the view within the grace lost its upstream")
	}
}

func TestRetiredDeadUpstreamStopsRedialing(t *testing.T) {
	live := startFakeStore(t, false)
	// A dead address: listen, then close, so dials are refused.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := ln.Addr().String()
	ln.Close()

	router := &fakeRouter{}
	router.set(live.addr())
	clk := clock.NewFake(time.Unix(1000, 0))
	p := startRoutedProxy(t, router, clk, nil)
	c := redis.NewClient(&redis.Options{Addr: p.Addr(), Protocol: 2, PoolSize: 1})
	defer c.Close()
	ctx := context.Background()
	if err := c.Set(ctx, "k", "v", 0).Err(); err != nil {
		t.Fatal(err)
	}
	baseline := runtime.NumGoroutine()

	// The dead node owns the key: the failed dial leaves go-redis redialing.
	router.set(dead, live.addr())
	if err := c.Set(ctx, "k", "v", 0).Err(); err == nil {
		t.Fatal("SET to a dead node succeeded")
	}
	if !p.up.has(dead) {
		t.Fatal("no upstream for the dead node")
	}
	router.set(live.addr())
	for range 2 {
		if err := c.Set(ctx, "k", "v", 0).Err(); err != nil {
			t.Fatal(err)
		}
		clk.Advance(p.up.grace)
	}
	if err := c.Set(ctx, "k", "v", 0).Err(); err != nil {
		t.Fatal(err)
	}
	if p.up.has(dead) {
		t.Fatal("dead node's upstream not retired")
	}
	testkit.Eventually(t, func() bool { return runtime.NumGoroutine() <= baseline }, 10*time.Second,
		"goroutines back to the baseline %d", baseline)
}
