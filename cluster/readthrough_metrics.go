package cluster

import (
	"github.com/prometheus/client_golang/prometheus"

	"corral/internal/metric"
)

// rtMetrics are the read-through's collectors, labelled role="store".
type rtMetrics struct {
	earlyRefresh prometheus.Counter
	staleServed  *prometheus.CounterVec // by reason
	fetches      *prometheus.CounterVec // by result
}

// newRTMetrics registers the read-through's collectors with reg (nil
// registers nothing). The vectors carry a role label so the proxy of
// `corral dev`, sharing the registry, reports its own.
func newRTMetrics(reg prometheus.Registerer) *rtMetrics {
	early := metric.Register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "corral_early_refresh_total",
		Help: "Background refreshes XFetch started before an entry expired.",
	}, []string{"role"}))
	stale := metric.Register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "corral_stale_served_total",
		Help: "Reads answered with an expired value: reason revalidate (stale-while-revalidate), error (stale-if-error), shed or breaker.",
	}, []string{"role", "reason"}))
	fetches := metric.Register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "corral_origin_fetches_total",
		Help: "Origin loads by result: ok, negative (404/410 or nil), error, rejected (breaker open).",
	}, []string{"result"}))
	return &rtMetrics{
		earlyRefresh: early.WithLabelValues("store"),
		staleServed:  stale.MustCurryWith(prometheus.Labels{"role": "store"}),
		fetches:      fetches,
	}
}

func (m *rtMetrics) stale(reason string) { m.staleServed.WithLabelValues(reason).Inc() }
func (m *rtMetrics) fetch(result string) { m.fetches.WithLabelValues(result).Inc() }
