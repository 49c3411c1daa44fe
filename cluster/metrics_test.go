package cluster

import (
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"corral/internal/clock"
)

// gatherValues scrapes reg and returns each metric's value by name; the
// store's metrics have no labels, so one value per name.
func gatherValues(t *testing.T, reg *prometheus.Registry) map[string]float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatalf("gather: %v", err)
	}
	out := make(map[string]float64)
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			switch {
			case m.GetGauge() != nil:
				out[mf.GetName()] = m.GetGauge().GetValue()
			case m.GetCounter() != nil:
				out[mf.GetName()] = m.GetCounter().GetValue()
			}
		}
	}
	return out
}

// TestMetrics checks the store's gauges and counter against the engine
// after writes, deletes and expiry, and that a snapshot serves reads for
// statsMaxAge.
func TestMetrics(t *testing.T) {
	clk := clock.NewFake(time.UnixMilli(execEpochMs))
	reg := prometheus.NewRegistry()
	cfg := DefaultConfig()
	cfg.Server.Addr = "127.0.0.1:0"
	cfg.Clock = clk
	cfg.Engine.Partitions = 16
	cfg.Registerer = reg
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	// want lists keys, expires, tombstones, expired in that order.
	steps := []struct {
		name    string
		cmds    [][]string
		advance time.Duration
		want    [4]float64
	}{
		{name: "empty", want: [4]float64{0, 0, 0, 0}},
		{name: "writes", cmds: [][]string{{"MSET", "a", "1", "b", "2"}, {"SET", "c", "3", "PX", "10"}},
			advance: statsMaxAge, want: [4]float64{3, 1, 0, 0}},
		{name: "cached", cmds: [][]string{{"DEL", "a"}}, want: [4]float64{3, 1, 0, 0}},
		{name: "delete", advance: statsMaxAge, want: [4]float64{2, 1, 1, 0}},
		{name: "expiry", cmds: [][]string{{"GET", "c"}}, advance: statsMaxAge, want: [4]float64{1, 0, 2, 1}},
	}
	names := [4]string{"corral_store_keys", "corral_store_expires", "corral_store_tombstones", "corral_store_expired_keys_total"}
	for _, st := range steps {
		clk.Advance(st.advance)
		for _, c := range st.cmds {
			execReply(s, 2, clk.Now(), c...)
		}
		got := gatherValues(t, reg)
		for i, name := range names {
			if v, ok := got[name]; !ok || v != st.want[i] {
				t.Errorf("%s: %s = %v (present %v), want %v", st.name, name, v, ok, st.want[i])
			}
		}
		if got["corral_store_used_bytes"] <= 0 && st.want[0]+st.want[2] > 0 {
			t.Errorf("%s: corral_store_used_bytes = %v, want > 0", st.name, got["corral_store_used_bytes"])
		}
	}
}

// TestNewMetricsNilRegisterer checks that a nil Registerer registers
// nothing and does not panic.
func TestNewMetricsNilRegisterer(t *testing.T) {
	s := newExecStore(t, nil, 0)
	if m := newMetrics(nil, s.eng, nil); m == nil {
		t.Fatal("newMetrics returned nil")
	}
}
