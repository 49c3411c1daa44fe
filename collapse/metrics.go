package collapse

import (
	"errors"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the Group's Prometheus collectors, curried with its role.
type metrics struct {
	collapsed prometheus.Counter // callers that joined an existing flight
	inflight  prometheus.Gauge   // flights whose function is running
	waiters   prometheus.Gauge   // joined callers currently waiting
}

// newMetrics builds the collectors for role and registers them with reg.
// When reg already holds an identical collector (another Group sharing the
// registry), that one is reused, so building several Groups never panics.
// A nil reg registers nothing.
func newMetrics(reg prometheus.Registerer, role string) metrics {
	collapsed := register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "corral_collapsed_total",
		Help: "Callers that joined an in-flight load instead of starting their own.",
	}, []string{"role"}))
	inflight := register(reg, prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "corral_collapse_inflight",
		Help: "Collapsed loads currently running.",
	}, []string{"role"}))
	waiters := register(reg, prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "corral_collapse_waiters",
		Help: "Callers currently waiting on a load another caller started.",
	}, []string{"role"}))
	return metrics{
		collapsed: collapsed.WithLabelValues(role),
		inflight:  inflight.WithLabelValues(role),
		waiters:   waiters.WithLabelValues(role),
	}
}

// register registers c with reg and returns the collector to use: c itself,
// or the equal collector reg already holds. If reg refuses c for any other
// reason (a clashing metric of another shape), c is returned unregistered so
// the Group keeps working without exporting it.
func register[C prometheus.Collector](reg prometheus.Registerer, c C) C {
	if reg == nil {
		return c
	}
	if err := reg.Register(c); err != nil {
		var are prometheus.AlreadyRegisteredError
		if errors.As(err, &are) {
			if existing, ok := are.ExistingCollector.(C); ok {
				return existing
			}
		}
	}
	return c
}
