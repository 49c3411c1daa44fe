package collapse

import (
	"github.com/prometheus/client_golang/prometheus"

	"corral/internal/metric"
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
	collapsed := metric.Register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "corral_collapsed_total",
		Help: "Callers that joined an in-flight load instead of starting their own.",
	}, []string{"role"}))
	inflight := metric.Register(reg, prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "corral_collapse_inflight",
		Help: "Collapsed loads currently running.",
	}, []string{"role"}))
	waiters := metric.Register(reg, prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "corral_collapse_waiters",
		Help: "Callers currently waiting on a load another caller started.",
	}, []string{"role"}))
	return metrics{
		collapsed: collapsed.WithLabelValues(role),
		inflight:  inflight.WithLabelValues(role),
		waiters:   waiters.WithLabelValues(role),
	}
}
