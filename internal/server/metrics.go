package server

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"

	"corral/internal/command"
)

// metrics are the server's Prometheus collectors. Per-command children are
// resolved once per command and cached, so the request path does no label
// lookups.
type metrics struct {
	requests       *prometheus.CounterVec
	duration       *prometheus.HistogramVec
	clients        prometheus.Gauge
	connections    prometheus.Counter
	rejected       *prometheus.CounterVec
	protocolErrors prometheus.Counter
	unknown        prometheus.Counter

	// Plain counters for INFO stats.
	totalConns, totalCommands, rejectedMax atomic.Int64

	mu     sync.Mutex                      // serializes creating per-command collectors
	bySpec [256]atomic.Pointer[cmdMetrics] // by command.ID
}

type cmdMetrics struct {
	total      *atomic.Int64 // the server's total_commands_processed
	ok, failed prometheus.Counter
	duration   prometheus.Observer
}

func (m *cmdMetrics) observe(d time.Duration, failed bool) {
	m.total.Add(1)
	if failed {
		m.failed.Inc()
	} else {
		m.ok.Inc()
	}
	m.duration.Observe(d.Seconds())
}

func newMetrics(reg prometheus.Registerer, role string) *metrics {
	f := promauto.With(reg)
	roleLabel := prometheus.Labels{"role": role}
	return &metrics{
		requests: f.NewCounterVec(prometheus.CounterOpts{
			Name:        "corral_requests_total",
			Help:        "Commands executed, by command and result (ok or error reply).",
			ConstLabels: roleLabel,
		}, []string{"cmd", "result"}),
		duration: f.NewHistogramVec(prometheus.HistogramOpts{
			Name:        "corral_request_duration_seconds",
			Help:        "Time to execute a command, from parsed request to buffered reply.",
			ConstLabels: roleLabel,
			Buckets:     []float64{.00001, .00005, .0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5},
		}, []string{"cmd"}),
		clients: f.NewGauge(prometheus.GaugeOpts{
			Name: "corral_connected_clients", Help: "Client connections currently open.", ConstLabels: roleLabel,
		}),
		connections: f.NewCounter(prometheus.CounterOpts{
			Name: "corral_connections_received_total", Help: "Client connections accepted.", ConstLabels: roleLabel,
		}),
		rejected: f.NewCounterVec(prometheus.CounterOpts{
			Name:        "corral_rejected_connections_total",
			Help:        "Client connections refused or closed by a limit (maxclients, query_buffer, idle_timeout).",
			ConstLabels: roleLabel,
		}, []string{"reason"}),
		protocolErrors: f.NewCounter(prometheus.CounterOpts{
			Name: "corral_protocol_errors_total", Help: "Connections closed for malformed RESP.", ConstLabels: roleLabel,
		}),
		unknown: f.NewCounter(prometheus.CounterOpts{
			Name: "corral_unknown_commands_total", Help: "Commands refused as unknown.", ConstLabels: roleLabel,
		}),
	}
}

// forSpec returns the collectors of one command, creating them on first use.
func (m *metrics) forSpec(s *command.Spec) *cmdMetrics {
	slot := &m.bySpec[s.ID]
	if cm := slot.Load(); cm != nil {
		return cm
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if cm := slot.Load(); cm != nil {
		return cm
	}
	cm := &cmdMetrics{
		total:    &m.totalCommands,
		ok:       m.requests.WithLabelValues(s.Name, "ok"),
		failed:   m.requests.WithLabelValues(s.Name, "error"),
		duration: m.duration.WithLabelValues(s.Name),
	}
	slot.Store(cm)
	return cm
}
