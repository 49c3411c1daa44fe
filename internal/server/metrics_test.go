package server_test

import (
	"maps"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"corral/internal/server"
	"corral/internal/testkit"
)

// metricValue returns the value of the counter, gauge or histogram (its
// sample count) name with exactly labels, or -1 when the registry has no
// such series.
func metricValue(t testing.TB, reg *prometheus.Registry, name string, labels map[string]string) float64 {
	t.Helper()
	families, err := reg.Gather()
	if err != nil {
		t.Fatalf("Gather: %v", err)
	}
	for _, mf := range families {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			got := map[string]string{}
			for _, lp := range m.GetLabel() {
				got[lp.GetName()] = lp.GetValue()
			}
			if !maps.Equal(got, labels) {
				continue
			}
			switch {
			case m.GetCounter() != nil:
				return m.GetCounter().GetValue()
			case m.GetGauge() != nil:
				return m.GetGauge().GetValue()
			case m.GetHistogram() != nil:
				return float64(m.GetHistogram().GetSampleCount())
			}
		}
	}
	return -1
}

// TestMetrics runs commands with known outcomes and checks the series they
// leave in the registry passed as Config.Registerer.
func TestMetrics(t *testing.T) {
	reg := prometheus.NewRegistry()
	ts := startServer(t, newRecordingHandler(), func(c *server.Config) {
		c.Registerer = reg
		c.Role = "store"
		c.MaxClients = 2
	})
	c := testkit.Dial(t, ts.addr)
	for _, cmd := range [][]string{
		{"SET", "k", "v"},
		{"GET", "k"},
		{"GET", "missing"},
		{"GET", keyFail},  // the handler's error reply
		{"GET"},           // wrong arity: refused before any handler
		{"NOSUCHCOMMAND"}, // unknown
		{"PING"},          // answered by the server itself
	} {
		c.Do(cmd...)
	}
	other := testkit.Dial(t, ts.addr)
	if got := other.Do("PING"); got != "+PONG\r\n" {
		t.Fatalf("PING = %q", got)
	}
	if got, closed := exchange(t, ts.addr, "", closeTimeout); got != maxClientsReply || !closed {
		t.Fatalf("third client got %q (closed %v), want the maxclients error", got, closed)
	}
	if got, closed := exchange(t, ts.addr, "", closeTimeout); got != maxClientsReply || !closed {
		t.Fatalf("fourth client got %q (closed %v), want the maxclients error", got, closed)
	}
	checks := []struct {
		name   string
		labels map[string]string
		want   float64
	}{
		{"corral_requests_total", map[string]string{"role": "store", "cmd": "get", "result": "ok"}, 2},
		{"corral_requests_total", map[string]string{"role": "store", "cmd": "get", "result": "error"}, 1},
		{"corral_requests_total", map[string]string{"role": "store", "cmd": "set", "result": "ok"}, 1},
		{"corral_requests_total", map[string]string{"role": "store", "cmd": "set", "result": "error"}, 0},
		{"corral_requests_total", map[string]string{"role": "store", "cmd": "ping", "result": "ok"}, 2},
		{"corral_request_duration_seconds", map[string]string{"role": "store", "cmd": "get"}, 3},
		{"corral_request_duration_seconds", map[string]string{"role": "store", "cmd": "set"}, 1},
		{"corral_unknown_commands_total", map[string]string{"role": "store"}, 1},
		{"corral_connected_clients", map[string]string{"role": "store"}, 2},
		// Refused connections are counted as refused, not as received.
		{"corral_connections_received_total", map[string]string{"role": "store"}, 2},
		{"corral_rejected_connections_total", map[string]string{"role": "store", "reason": "maxclients"}, 2},
	}
	for _, ck := range checks {
		if got := metricValue(t, reg, ck.name, ck.labels); got != ck.want {
			t.Errorf("%s%v = %v, want %v", ck.name, ck.labels, got, ck.want)
		}
	}

	// A client the server closes is no longer counted by the time it
	// sees the end of the connection.
	if got := other.Do("QUIT"); got != "+OK\r\n" {
		t.Fatalf("QUIT = %q", got)
	}
	other.ExpectClosed(closeTimeout)
	if got := metricValue(t, reg, "corral_connected_clients", map[string]string{"role": "store"}); got != 1 {
		t.Errorf("corral_connected_clients after a QUIT = %v, want 1", got)
	}
	c.Send("*x\r\n")
	if got := c.ReadReply(); got != "-ERR Protocol error: invalid multibulk length\r\n" {
		t.Fatalf("malformed request: %q", got)
	}
	c.ExpectClosed(closeTimeout)
	for _, ck := range []struct {
		name   string
		labels map[string]string
		want   float64
	}{
		{"corral_protocol_errors_total", map[string]string{"role": "store"}, 1},
		{"corral_connected_clients", map[string]string{"role": "store"}, 0},
	} {
		if got := metricValue(t, reg, ck.name, ck.labels); got != ck.want {
			t.Errorf("%s%v = %v, want %v", ck.name, ck.labels, got, ck.want)
		}
	}
}
