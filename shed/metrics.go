package shed

import (
	"github.com/prometheus/client_golang/prometheus"

	"corral/internal/metric"
)

// shedCounter returns corral_shed_total, counting refused requests by reason,
// registered with reg.
func shedCounter(reg prometheus.Registerer) *prometheus.CounterVec {
	return metric.Register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "corral_shed_total",
		Help: "Requests refused by admission control, by reason (overloaded, queue_timeout, rate, client_rate).",
	}, []string{"reason"}))
}

// limiterMetrics are a Limiter's collectors, curried with its target.
type limiterMetrics struct {
	limit        prometheus.Gauge   // the current adaptive limit
	inflight     prometheus.Gauge   // admitted, not yet released
	overloaded   prometheus.Counter // refused at once (QueueTimeout 0)
	queueTimeout prometheus.Counter // refused after waiting QueueTimeout
}

// newLimiterMetrics builds the collectors of a Limiter for target and
// registers them with reg.
func newLimiterMetrics(reg prometheus.Registerer, target string) limiterMetrics {
	limit := metric.Register(reg, prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "corral_shed_limit",
		Help: "Current adaptive concurrency limit of fetches to a target.",
	}, []string{"target"}))
	inflight := metric.Register(reg, prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "corral_shed_inflight",
		Help: "Fetches to a target admitted and not yet finished.",
	}, []string{"target"}))
	shed := shedCounter(reg)
	return limiterMetrics{
		limit:        limit.WithLabelValues(target),
		inflight:     inflight.WithLabelValues(target),
		overloaded:   shed.WithLabelValues(ReasonOverloaded),
		queueTimeout: shed.WithLabelValues(ReasonQueueTimeout),
	}
}

// rateMetrics are a Rate's collectors.
type rateMetrics struct {
	global prometheus.Counter // refused by the global bucket
	client prometheus.Counter // refused by a client's bucket
}

// newRateMetrics builds the collectors of a Rate and registers them with reg.
func newRateMetrics(reg prometheus.Registerer) rateMetrics {
	shed := shedCounter(reg)
	return rateMetrics{
		global: shed.WithLabelValues(ReasonRate),
		client: shed.WithLabelValues(ReasonClientRate),
	}
}

// breakerMetrics are a Breaker's collectors, curried with its target.
type breakerMetrics struct {
	state       prometheus.Gauge       // 0 closed, 1 half-open, 2 open
	transitions *prometheus.CounterVec // by from and to, curried with target
	forget      func()                 // deletes the target's series
}

// newBreakerMetrics builds the collectors of a Breaker for target and
// registers them with reg.
func newBreakerMetrics(reg prometheus.Registerer, target string) breakerMetrics {
	state := metric.Register(reg, prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "corral_breaker_state",
		Help: "Circuit breaker state per target: 0 closed, 1 half-open, 2 open.",
	}, []string{"target"}))
	transitions := metric.Register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "corral_breaker_transitions_total",
		Help: "Circuit breaker state changes per target, by from and to state.",
	}, []string{"target", "from", "to"}))
	return breakerMetrics{
		state:       state.WithLabelValues(target),
		transitions: transitions.MustCurryWith(prometheus.Labels{"target": target}),
		forget: func() {
			state.DeleteLabelValues(target)
			transitions.DeletePartialMatch(prometheus.Labels{"target": target})
		},
	}
}
