package server

import (
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
)

// metrics are the server's Prometheus collectors. The per-command request
// counts and latencies are kept in cmdStats, sharded by connection, so the
// request path does no label lookups and no two cores fight over one
// counter.
type metrics struct {
	commands       *cmdStats
	clients        prometheus.Gauge
	connections    prometheus.Counter
	rejected       *prometheus.CounterVec
	denied         *prometheus.CounterVec
	protocolErrors prometheus.Counter
	unknown        prometheus.Counter
	panics         prometheus.Counter
	ioLoops        prometheus.Gauge

	// Plain counters for INFO stats.
	totalConns, rejectedMax, outputLimited atomic.Int64
}

func newMetrics(reg prometheus.Registerer, role string) *metrics {
	f := promauto.With(reg)
	roleLabel := prometheus.Labels{"role": role}
	m := &metrics{
		commands: newCmdStats(role),
		clients: f.NewGauge(prometheus.GaugeOpts{
			Name: "corral_connected_clients", Help: "Client connections currently open.", ConstLabels: roleLabel,
		}),
		connections: f.NewCounter(prometheus.CounterOpts{
			Name: "corral_connections_received_total", Help: "Client connections accepted.", ConstLabels: roleLabel,
		}),
		rejected: f.NewCounterVec(prometheus.CounterOpts{
			Name:        "corral_rejected_connections_total",
			Help:        "Client connections refused or closed by a limit (maxclients, query_buffer, output_buffer, idle_timeout, tls_handshake).",
			ConstLabels: roleLabel,
		}, []string{"reason"}),
		denied: f.NewCounterVec(prometheus.CounterOpts{
			Name:        "corral_auth_denied_total",
			Help:        "Commands refused for authentication or permissions: wrongpass (AUTH/HELLO with a bad user or password), noauth (not authenticated), noperm (ACL).",
			ConstLabels: roleLabel,
		}, []string{"reason"}),
		protocolErrors: f.NewCounter(prometheus.CounterOpts{
			Name: "corral_protocol_errors_total", Help: "Connections closed for malformed RESP.", ConstLabels: roleLabel,
		}),
		unknown: f.NewCounter(prometheus.CounterOpts{
			Name: "corral_unknown_commands_total", Help: "Commands refused as unknown.", ConstLabels: roleLabel,
		}),
		panics: f.NewCounter(prometheus.CounterOpts{
			Name: "corral_panics_total", Help: "Connections closed because serving them panicked (a bug: see the logs).", ConstLabels: roleLabel,
		}),
		ioLoops: f.NewGauge(prometheus.GaugeOpts{
			Name: "corral_io_loops_active", Help: "Event loops taking plaintext clients (see --io-loops); 0 without event loops.", ConstLabels: roleLabel,
		}),
	}
	if reg != nil {
		reg.MustRegister(m.commands)
	}
	return m
}
