package proxy

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
)

type metrics struct {
	upstreamErrors prometheus.Counter
}

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
	return &metrics{
		upstreamErrors: f.NewCounter(prometheus.CounterOpts{
			Name: "corral_upstream_errors_total", Help: "Upstream round trips that failed (transport errors and timeouts).",
		}),
	}
}
