package metric

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

func TestRegisterReusesEqualCollector(t *testing.T) {
	reg := prometheus.NewRegistry()
	opts := prometheus.CounterOpts{Name: "corral_test_total", Help: "test"}
	a := Register(reg, prometheus.NewCounterVec(opts, []string{"role"}))
	b := Register(reg, prometheus.NewCounterVec(opts, []string{"role"}))
	a.WithLabelValues("proxy").Inc()
	b.WithLabelValues("proxy").Inc()
	if got := testutil.ToFloat64(a.WithLabelValues("proxy")); got != 2 {
		t.Fatalf("shared counter = %v, want 2: the second Register did not reuse the first", got)
	}
}

func TestRegisterClashKeepsWorking(t *testing.T) {
	reg := prometheus.NewRegistry()
	Register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{Name: "corral_x", Help: "x"}, []string{"a"}))
	g := Register(reg, prometheus.NewGauge(prometheus.GaugeOpts{Name: "corral_x", Help: "x"}))
	g.Set(3) // unregistered, but usable
	if testutil.ToFloat64(g) != 3 {
		t.Fatal("clashing collector not usable")
	}
}

func TestRegisterNil(t *testing.T) {
	c := Register(nil, prometheus.NewCounter(prometheus.CounterOpts{Name: "corral_y", Help: "y"}))
	c.Inc()
}
