package proxy

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"

	"corral/internal/metric"
)

type metrics struct {
	upstreamErrors prometheus.Counter
	earlyRefresh   prometheus.Counter
	staleServed    *prometheus.CounterVec // by reason
}

func (m *metrics) stale(reason string) { m.staleServed.WithLabelValues(reason).Inc() }

// newMetrics registers the proxy's collectors. L1 hits and misses are read
// from the cache at scrape time, so the GET path counts nothing itself.
func newMetrics(reg prometheus.Registerer, l *l1) *metrics {
	f := promauto.With(reg)
	if l != nil {
		f.NewCounterFunc(prometheus.CounterOpts{
			Name: "corral_l1_hits_total", Help: "GETs answered from the proxy's L1 cache.",
		}, l.hits)
		f.NewCounterFunc(prometheus.CounterOpts{
			Name: "corral_l1_misses_total", Help: "GETs the L1 could not answer (absent or expired).",
		}, l.misses)
	}
	early := metric.Register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "corral_early_refresh_total",
		Help: "Background refreshes XFetch started before an entry expired.",
	}, []string{"role"}))
	stale := metric.Register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "corral_stale_served_total",
		Help: "Reads answered with an expired value: reason revalidate (stale-while-revalidate), error (stale-if-error), shed or breaker.",
	}, []string{"role", "reason"}))
	return &metrics{
		upstreamErrors: f.NewCounter(prometheus.CounterOpts{
			Name: "corral_upstream_errors_total", Help: "Upstream round trips that failed (transport errors and timeouts).",
		}),
		earlyRefresh: early.WithLabelValues("proxy"),
		staleServed:  stale.MustCurryWith(prometheus.Labels{"role": "proxy"}),
	}
}
