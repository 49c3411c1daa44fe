package repl

import (
	"github.com/prometheus/client_golang/prometheus"

	"corral/internal/metric"
)

// metrics are the replication and anti-entropy counters.
type metrics struct {
	rounds, compared, differing, repaired, deferred, handedOff prometheus.Counter
	replFailed, hintsDropped, hintsDelivered                   prometheus.Counter
}

func newMetrics(reg prometheus.Registerer, r *Replicator) *metrics {
	c := func(name, help string) prometheus.Counter {
		return metric.Register(reg, prometheus.NewCounter(prometheus.CounterOpts{Name: name, Help: help}))
	}
	m := &metrics{
		rounds:         c("corral_antientropy_rounds_total", "Anti-entropy rounds run."),
		compared:       c("corral_antientropy_compared_partitions_total", "Partition copies compared by root digest."),
		differing:      c("corral_antientropy_differing_partitions_total", "Partition copies whose root digests differed."),
		repaired:       c("corral_antientropy_repaired_keys_total", "Records pushed or pulled by anti-entropy and handoff."),
		deferred:       c("corral_antientropy_deferred_partitions_total", "Differing partition copies left for a later round by the repair rate limit."),
		handedOff:      c("corral_handoff_partitions_total", "Partitions handed to their new owners and dropped here."),
		replFailed:     c("corral_replication_failures_total", "Writes that could not be replicated to an owner at once (hinted)."),
		hintsDropped:   c("corral_replication_hints_dropped_total", "Hints dropped because a peer's queue was full (anti-entropy repairs them)."),
		hintsDelivered: c("corral_replication_hints_delivered_total", "Hinted records delivered to their owners."),
	}
	metric.Register(reg, prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "corral_replication_hints_queued", Help: "Keys queued for owners that could not be reached.",
	}, func() float64 { return float64(r.HintsQueued()) }))
	return m
}

func (m *metrics) round(st RoundStats) {
	m.rounds.Inc()
	m.compared.Add(float64(st.Compared))
	m.differing.Add(float64(st.Differing))
	m.repaired.Add(float64(st.Repaired))
	m.deferred.Add(float64(st.Deferred))
	m.handedOff.Add(float64(st.HandedOff))
}
