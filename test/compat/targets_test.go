package compat_test

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"corral/cluster"
	"corral/internal/acl"
	"corral/internal/testkit"
	"corral/proxy"
)

// target is one server the script runs against.
type target struct {
	name string // stable; the exception list names it
	addr string
	reg  *prometheus.Registry // the proxy's metrics; nil for a store
}

// Target names, as the exception list uses them.
const (
	targetStore      = "store"       // a corral store, directly
	targetProxyStore = "proxy>store" // a corral proxy in front of a corral store
	targetProxyRedis = "proxy>redis" // a corral proxy in front of a real redis-server
)

// targetKinds are the corral deployments the scripts run against, each
// started with requirepass set to pass (none when empty). A target gets
// servers of its own, so keyspaces never mix; it stops when the test ends.
var targetKinds = []struct {
	name  string
	start func(t *testing.T, a access) target
}{
	{targetStore, func(t *testing.T, a access) target {
		return target{name: targetStore, addr: startStore(t, a)}
	}},
	{targetProxyStore, func(t *testing.T, a access) target {
		return startProxy(t, targetProxyStore, startStore(t, access{}), a)
	}},
	{targetProxyRedis, func(t *testing.T, a access) target {
		return startProxy(t, targetProxyRedis, testkit.StartRedis(t, "--databases", "1"), a)
	}},
}

// access is who a target lets in: the default user's requirepass and the
// users of a users file (none when nil).
type access struct {
	pass  string
	users *acl.File
}

// startStore runs a corral store on a free 127.0.0.1 port, with FLUSHALL
// allowed and the users of a, until the test ends.
func startStore(t *testing.T, a access) string {
	t.Helper()
	cfg := cluster.DefaultConfig()
	cfg.Server.Addr = "127.0.0.1:0"
	cfg.Server.RequirePass = a.pass
	cfg.Server.Users = a.users
	cfg.AllowFlush = true
	st, err := cluster.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Listen(); err != nil {
		t.Fatal(err)
	}
	testkit.RunUntilCleanup(t, "store", st.Run)
	return st.Addr()
}

// startProxy runs a corral proxy on a free 127.0.0.1 port in front of the
// RESP server at upstream, with FLUSHALL allowed, the users of a and its
// metrics in a registry of its own, until the test ends.
func startProxy(t *testing.T, name, upstream string, a access) target {
	t.Helper()
	reg := prometheus.NewRegistry()
	cfg := proxy.DefaultConfig()
	cfg.Server.Addr = "127.0.0.1:0"
	cfg.Server.IOLoops = testkit.IOLoops(t)
	cfg.Server.RequirePass = a.pass
	cfg.Server.Users = a.users
	cfg.Upstream = "redis://" + upstream
	cfg.AllowFlush = true
	cfg.Registerer = reg
	px, err := proxy.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := px.Listen(); err != nil {
		t.Fatal(err)
	}
	testkit.RunUntilCleanup(t, name, px.Run)
	return target{name: name, addr: px.Addr(), reg: reg}
}

// counter returns the value of the counter family name with the given
// labels in reg, or 0 when it has no such child.
func counter(t *testing.T, reg *prometheus.Registry, name string, labels map[string]string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			matched := 0
			for _, lp := range m.GetLabel() {
				if want, ok := labels[lp.GetName()]; ok && want == lp.GetValue() {
					matched++
				}
			}
			if matched == len(labels) {
				return m.GetCounter().GetValue()
			}
		}
	}
	return 0
}
