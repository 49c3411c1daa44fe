package membership

import (
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"corral/internal/testkit"
	"corral/xfetch"
)

func TestThreeNodesJoinThroughSeeds(t *testing.T) {
	a, _ := startNode(t, "a")
	waitJoined(t, a)
	b, _ := startNode(t, "b", a.GossipAddr())
	c, _ := startNode(t, "c", "127.0.0.1:1", a.GossipAddr(), b.GossipAddr()) // a dead seed is skipped
	waitJoined(t, b)
	waitJoined(t, c)
	want := []string{"a", "b", "c"}
	waitView(t, want, a, b, c)

	locals := map[string]Member{"a": a.Local(), "b": b.Local(), "c": c.Local()}
	for _, m := range []*Membership{a, b, c} {
		for _, mem := range m.Members() {
			if got, want := mem, locals[mem.ID]; got != want {
				t.Errorf("%s sees %+v, want %+v", m.Local().ID, got, want)
			}
		}
	}
	if got := b.Local(); got.RESP != "127.0.0.1:7b" || got.Admin != "127.0.0.1:9b" ||
		got.Role != RoleStore || got.Phase != PhaseJoining || got.Partitions != 4096 || got.Proto != ProtoVersion {
		t.Errorf("b.Local() = %+v", got)
	}
}

// sharedPortConfigs returns configs for n members bound to 127.0.0.1 ...
// 127.0.0.n on one port, so that a seed name resolving to those IPs reaches
// all of them, and the Resolver answering "svc.test" with ips().
func sharedPortConfigs(t *testing.T, n int, ips func() []string) ([]Config, []*logBuf, string) {
	t.Helper()
	port := testkit.FreePort(t)
	seed := net.JoinHostPort("svc.test", strconv.Itoa(port))
	var cfgs []Config
	var logs []*logBuf
	for i := range n {
		cfg, l := testConfig(string(rune('a' + i)))
		cfg.Bind = net.JoinHostPort(loopback(i), strconv.Itoa(port))
		cfg.Seeds = []string{seed}
		cfg.Resolver = func(_ context.Context, host string) ([]string, error) {
			if host != "svc.test" {
				return nil, fmt.Errorf("unknown host %q", host)
			}
			return ips(), nil
		}
		cfgs = append(cfgs, cfg)
		logs = append(logs, l)
	}
	return cfgs, logs, seed
}

// loopback returns 127.0.0.(i+1).
func loopback(i int) string { return "127.0.0." + strconv.Itoa(i+1) }

func TestSeedNameResolvingToSeveralAddresses(t *testing.T) {
	// a, b and c start alone (their name resolves to themselves only);
	// d's resolves to all four and d's join brings everyone together.
	var all atomic.Bool
	cfgs, _, _ := sharedPortConfigs(t, 4, func() []string {
		if all.Load() {
			return []string{loopback(0), loopback(1), loopback(2), loopback(3)}
		}
		return nil
	})
	var ms []*Membership
	for i, cfg := range cfgs[:3] {
		ip := loopback(i)
		cfg.Resolver = func(context.Context, string) ([]string, error) { return []string{ip}, nil }
		cfg.RejoinInterval = time.Hour // only d's join may merge them
		m := start(t, cfg)
		waitJoined(t, m)
		ms = append(ms, m)
	}
	for _, m := range ms {
		if got := ids(m); len(got) != 1 {
			t.Fatalf("%s formed %v, want a one-node cluster", m.Local().ID, got)
		}
	}
	all.Store(true)
	cfgs[3].RejoinInterval = time.Hour
	d := start(t, cfgs[3])
	waitJoined(t, d)
	waitView(t, []string{"a", "b", "c", "d"}, append(ms, d)...)
}

func TestSeedsReResolvedOnEveryAttempt(t *testing.T) {
	a, _ := startNode(t, "a")
	waitJoined(t, a)
	_, aPort, _ := net.SplitHostPort(a.GossipAddr())
	dead := testkit.FreePort(t) // nothing listens there: refused at once

	var calls atomic.Int32
	cfg, logs := testConfig("b", "seed.test:"+aPort)
	cfg.Resolver = func(_ context.Context, host string) ([]string, error) {
		switch calls.Add(1) {
		case 1:
			return nil, nil // not published yet
		case 2:
			return nil, errors.New("no such host")
		}
		return []string{"127.0.0.1"}, nil
	}
	cfg.Seeds = append([]string{"127.0.0.1:" + strconv.Itoa(dead)}, cfg.Seeds...)
	fc := newFakeClock()
	cfg.Clock = fc
	cfg.Rand = func() float64 { return 0.5 }
	b := start(t, cfg)

	for attempt := range 2 {
		want := xfetch.Backoff(attempt, cfg.JoinBackoff.Base, cfg.JoinBackoff.Max, 0.5)
		if got := fc.nextAsked(t); got != want {
			t.Fatalf("wait after attempt %d = %v, want %v", attempt+1, got, want)
		}
		if b.Joined() {
			t.Fatalf("joined after attempt %d, before the seed resolved", attempt+1)
		}
		fc.Advance(want)
	}
	waitJoined(t, b)
	if got := calls.Load(); got != 3 {
		t.Errorf("resolver called %d times, want 3", got)
	}
	if n := logs.count("WARN join attempt failed"); n != 2 {
		t.Errorf("%d failed attempts logged, want 2", n)
	}
	waitView(t, []string{"a", "b"}, a, b)
}

func TestRejoinMergesSeparatedClusters(t *testing.T) {
	// Each member first resolves the seed name to itself alone and forms a
	// cluster of its own, as both halves of a partition do; once the name
	// resolves to both, the rejoin loop merges them.
	var healed atomic.Bool
	cfgs, logs, _ := sharedPortConfigs(t, 2, func() []string {
		return []string{loopback(0), loopback(1)}
	})
	var ms []*Membership
	for i, cfg := range cfgs {
		ip := loopback(i)
		cfg.Resolver = func(context.Context, string) ([]string, error) {
			if healed.Load() {
				return []string{loopback(0), loopback(1)}, nil
			}
			return []string{ip}, nil
		}
		m := start(t, cfg)
		waitJoined(t, m)
		ms = append(ms, m)
	}
	waitView(t, []string{"a"}, ms[0])
	waitView(t, []string{"b"}, ms[1])
	healed.Store(true)
	waitView(t, []string{"a", "b"}, ms...)
	if logs[0].count("rejoined seeds")+logs[1].count("rejoined seeds") == 0 {
		t.Error("no rejoin logged")
	}
}

func TestSetPhasePropagates(t *testing.T) {
	a, _ := startNode(t, "a")
	waitJoined(t, a)
	b, _ := startNode(t, "b", a.GossipAddr())
	c, _ := startNode(t, "c", a.GossipAddr())
	waitJoined(t, b)
	waitJoined(t, c)
	waitView(t, []string{"a", "b", "c"}, a, b, c)

	for _, p := range []Phase{PhaseActive, PhaseLeaving} {
		if err := b.SetPhase(p); err != nil {
			t.Fatalf("SetPhase(%s): %v", p, err)
		}
		if got := b.Local().Phase; got != p {
			t.Fatalf("b.Local().Phase = %s, want %s", got, p)
		}
		for _, m := range []*Membership{a, b, c} {
			testkit.Eventually(t, func() bool { return phaseOf(m, "b") == p }, converge,
				"%s sees b in phase %s, want %s", m.Local().ID, phaseOf(m, "b"), p)
		}
	}
	if err := b.SetPhase("gone"); !errors.Is(err, ErrBadMeta) {
		t.Errorf("SetPhase(gone) = %v, want ErrBadMeta", err)
	}
}

// phaseOf returns the phase m sees for member id, "" when it sees none.
func phaseOf(m *Membership, id string) Phase {
	for _, mem := range m.Members() {
		if mem.ID == id {
			return mem.Phase
		}
	}
	return ""
}

func TestKilledMemberIsDropped(t *testing.T) {
	a, _ := startNode(t, "a")
	waitJoined(t, a)
	b, _ := startNode(t, "b", a.GossipAddr())
	c, _ := startNode(t, "c", a.GossipAddr())
	waitJoined(t, b)
	waitJoined(t, c)
	waitView(t, []string{"a", "b", "c"}, a, b, c)

	killed := time.Now()
	c.Kill()
	waitView(t, []string{"a", "b"}, a, b)
	t.Logf("killed member dropped after %v", time.Since(killed).Round(10*time.Millisecond))
	if err := c.SetPhase(PhaseActive); !errors.Is(err, ErrStopped) {
		t.Errorf("SetPhase after Kill = %v, want ErrStopped", err)
	}
}

func TestIncompatibleMemberRefused(t *testing.T) {
	tests := []struct {
		name  string
		tweak func(*Meta)
		log   []string // in the refusing member's warning
	}{
		{"partitions", func(m *Meta) { m.Partitions = 512 },
			[]string{"WARN refusing member: partition count differs", "member=x", "their_partitions=512", "our_partitions=4096"}},
		{"protocol", func(m *Meta) { m.Proto = ProtoVersion + 1 },
			[]string{"WARN refusing member: protocol version differs", "member=x", "their_proto=2", "our_proto=1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, aLogs := startNode(t, "a")
			waitJoined(t, a)
			b, _ := startNode(t, "b", a.GossipAddr())
			waitJoined(t, b)
			waitView(t, []string{"a", "b"}, a, b)

			cfg, xLogs := testConfig("x", a.GossipAddr(), b.GossipAddr())
			tt.tweak(&cfg.Meta)
			x := start(t, cfg)
			testkit.Eventually(t, func() bool { return xLogs.count("WARN join attempt failed") >= 3 }, converge,
				"x did not fail three join attempts")
			testkit.Eventually(t, func() bool { return aLogs.find(tt.log...) != "" }, converge,
				"a logged no warning with %q", tt.log)
			if x.Joined() {
				t.Error("x joined")
			}
			for _, m := range []*Membership{a, b} {
				if got := ids(m); !slices.Equal(got, []string{"a", "b"}) {
					t.Errorf("%s sees %v, want [a b]", m.Local().ID, got)
				}
			}
			if got := ids(x); !slices.Equal(got, []string{"x"}) {
				t.Errorf("x sees %v, want [x]", got)
			}
		})
	}
}

func TestSecret(t *testing.T) {
	cfgA, _ := testConfig("a")
	cfgA.Secret = "s3cret"
	a := start(t, cfgA)
	waitJoined(t, a)
	cfgB, _ := testConfig("b", a.GossipAddr())
	cfgB.Secret = "s3cret"
	b := start(t, cfgB)
	waitJoined(t, b)
	waitView(t, []string{"a", "b"}, a, b)

	for _, secret := range []string{"other", ""} {
		cfg, logs := testConfig("x", a.GossipAddr())
		cfg.Secret = secret
		x := start(t, cfg)
		testkit.Eventually(t, func() bool { return logs.count("WARN join attempt failed") >= 3 }, converge,
			"x with secret %q did not fail three join attempts", secret)
		if x.Joined() {
			t.Errorf("x with secret %q joined", secret)
		}
		for _, m := range []*Membership{a, b} {
			if got := ids(m); !slices.Equal(got, []string{"a", "b"}) {
				t.Errorf("with x's secret %q, %s sees %v, want [a b]", secret, m.Local().ID, got)
			}
		}
		x.Kill()
	}
}

func TestOnlySeedIsSelf(t *testing.T) {
	port := strconv.Itoa(testkit.FreePort(t))
	tests := []struct {
		name     string
		seeds    []string
		resolver Resolver
	}{
		{"no seeds", nil, nil},
		{"own address", []string{"127.0.0.1:" + port}, nil},
		{"own name", []string{"me.test:" + port}, func(context.Context, string) ([]string, error) {
			return []string{"127.0.0.1"}, nil
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, logs := testConfig("solo", tt.seeds...)
			cfg.Bind = "127.0.0.1:" + port
			cfg.Resolver = tt.resolver
			m := start(t, cfg)
			waitJoined(t, m)
			if got := ids(m); !slices.Equal(got, []string{"solo"}) {
				t.Errorf("Members = %v, want [solo]", got)
			}
			if n := logs.count("join attempt failed"); n != 0 {
				t.Errorf("%d failed join attempts, want 0", n)
			}
			if got := m.GossipAddr(); got != "127.0.0.1:"+port {
				t.Errorf("GossipAddr = %q, want 127.0.0.1:%s", got, port)
			}
			m.Kill() // free the port for the next case
		})
	}
}

func TestOnChange(t *testing.T) {
	var mu sync.Mutex
	var seen [][]string // a's member IDs at each call
	cfg, _ := testConfig("a")
	var a *Membership
	ready := make(chan struct{})
	cfg.OnChange = func() {
		<-ready // a is assigned
		mu.Lock()
		seen = append(seen, ids(a)) // calling back in is allowed
		mu.Unlock()
	}
	a = start(t, cfg)
	close(ready)
	waitJoined(t, a)
	saw := func(want ...string) func() bool {
		return func() bool {
			mu.Lock()
			defer mu.Unlock()
			return len(seen) > 0 && slices.Equal(seen[len(seen)-1], want)
		}
	}
	calls := func() int {
		mu.Lock()
		defer mu.Unlock()
		return len(seen)
	}
	testkit.Eventually(t, saw("a"), converge, "OnChange did not report a alone")

	b, _ := startNode(t, "b", a.GossipAddr())
	waitJoined(t, b)
	testkit.Eventually(t, saw("a", "b"), converge, "OnChange did not report b's join")

	before := calls()
	if err := b.SetPhase(PhaseActive); err != nil {
		t.Fatal(err)
	}
	testkit.Eventually(t, func() bool { return calls() > before && phaseOf(a, "b") == PhaseActive }, converge,
		"OnChange did not report b's phase")

	if err := b.Leave(0); err != nil {
		t.Fatalf("Leave: %v", err)
	}
	testkit.Eventually(t, saw("a"), converge, "OnChange did not report b's leave")
	if err := b.Leave(0); err != nil {
		t.Errorf("second Leave = %v, want nil", err)
	}
}

func TestRunTwiceAndAfterKill(t *testing.T) {
	cfg, _ := testConfig("a")
	m, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- m.Run(ctx) }()
	waitJoined(t, m)
	if err := m.Run(ctx); !errors.Is(err, ErrAlreadyRun) {
		t.Errorf("second Run = %v, want ErrAlreadyRun", err)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Run = %v, want nil", err)
		}
	case <-time.After(converge):
		t.Fatal("Run did not return after cancel")
	}
	if err := m.WaitJoined(context.Background()); err != nil {
		t.Errorf("WaitJoined after Run = %v, want nil (it had joined)", err)
	}

	m2, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	m2.Kill()
	if err := m2.Run(context.Background()); !errors.Is(err, ErrStopped) {
		t.Errorf("Run after Kill = %v, want ErrStopped", err)
	}
	if err := m2.WaitJoined(context.Background()); !errors.Is(err, ErrStopped) {
		t.Errorf("WaitJoined after Kill = %v, want ErrStopped", err)
	}
}
