package collapse

import (
	"context"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

func TestMetricsSharedRegistry(t *testing.T) {
	reg := prometheus.NewRegistry()
	groups := map[string]*Group[int]{}
	for _, name := range []string{"proxy", "store", "proxy"} {
		groups[name] = New[int](Config{Registerer: reg, Name: name}) // must not panic
	}
	for name, g := range groups {
		b := newBlocker(1)
		r := lead(t, context.Background(), g, "k", b)
		j := goDo(context.Background(), g, "k", b.fn)
		waitWaiters(t, g, "k", 1)
		if got := gather(t, reg, "corral_collapse_inflight", name); got != 1 {
			t.Errorf("inflight{role=%s} = %v, want 1", name, got)
		}
		close(b.release)
		recv(t, r)
		recv(t, j)
	}
	for _, name := range []string{"proxy", "store"} {
		if got := gather(t, reg, "corral_collapsed_total", name); got != 1 {
			t.Errorf("collapsed{role=%s} = %v, want 1", name, got)
		}
	}
	if n := series(t, reg, "corral_collapsed_total"); n != 2 {
		t.Errorf("collapsed series = %d, want 2", n)
	}

	// A clashing metric of another shape must not break New either.
	clash := prometheus.NewRegistry()
	clash.MustRegister(prometheus.NewCounter(prometheus.CounterOpts{Name: "corral_collapsed_total", Help: "x"}))
	g := New[int](Config{Registerer: clash, Name: "proxy"})
	if _, _, err := g.Do(context.Background(), "k", func(context.Context) (int, error) { return 1, nil }); err != nil {
		t.Fatal(err)
	}
}

// series counts the series of metric in reg.
func series(t testing.TB, reg *prometheus.Registry, metric string) int {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == metric {
			return len(mf.GetMetric())
		}
	}
	return 0
}

// gather reads the value of metric{role=role} from reg.
func gather(t testing.TB, reg *prometheus.Registry, metric, role string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != metric {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "role" && l.GetValue() == role {
					if c := m.GetCounter(); c != nil {
						return c.GetValue()
					}
					return m.GetGauge().GetValue()
				}
			}
		}
	}
	t.Fatalf("no %s{role=%q} in registry", metric, role)
	return 0
}
