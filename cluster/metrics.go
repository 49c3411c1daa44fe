package cluster

import (
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"

	"corral/cluster/engine"
	"corral/internal/clock"
)

// statsMaxAge is how long one engine.Stats snapshot serves the store's
// gauges, so that a scrape, which reads them all, walks the partitions
// once rather than once per gauge.
const statsMaxAge = time.Second

// metrics are the store's Prometheus collectors. They are read from the
// engine at scrape time, so the command path counts nothing itself.
type metrics struct {
	stats       *statsCache
	oomRejected prometheus.Counter
}

// newMetrics registers the store's collectors with reg (nil registers
// nothing): corral_store_keys, corral_store_expires,
// corral_store_tombstones, corral_store_used_bytes,
// corral_store_expired_keys_total and corral_evicted_keys_total, read from
// eng.Stats when scraped; corral_memory_used_bytes and
// corral_memory_max_bytes, read from the engine; and
// corral_oom_rejected_total, counted by the store.
func newMetrics(reg prometheus.Registerer, eng *engine.Engine, clk clock.Clock) *metrics {
	m := &metrics{stats: &statsCache{eng: eng, clock: clock.Or(clk)}}
	f := promauto.With(reg)
	f.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "corral_store_keys",
		Help: "Records held that are not tombstones, including expired ones not yet collected.",
	}, func() float64 { return float64(m.stats.get().Keys) })
	f.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "corral_store_expires",
		Help: "Records held that have a TTL.",
	}, func() float64 { return float64(m.stats.get().Expires) })
	f.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "corral_store_tombstones",
		Help: "Tombstones of deleted or expired keys awaiting collection.",
	}, func() float64 { return float64(m.stats.get().Tombstones) })
	f.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "corral_store_used_bytes",
		Help: "Estimated memory held by keys, values and per-record overhead, tombstones included.",
	}, func() float64 { return float64(m.stats.get().UsedBytes) })
	f.NewCounterFunc(prometheus.CounterOpts{
		Name: "corral_store_expired_keys_total",
		Help: "Keys whose TTL ran out (turned into tombstones by expiry).",
	}, func() float64 { return float64(m.stats.get().ExpiredTotal) })
	f.NewCounterFunc(prometheus.CounterOpts{
		Name: "corral_evicted_keys_total",
		Help: "Keys evicted to stay under --maxmemory (each leaves a tombstone that replicates like a DEL).",
	}, func() float64 { return float64(m.stats.get().EvictedTotal) })
	f.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "corral_memory_used_bytes",
		Help: "Accounted bytes of stored data (keys, values, per-record overhead, tombstones), the quantity --maxmemory bounds; not the Go heap.",
	}, func() float64 { return float64(eng.UsedBytes()) })
	f.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "corral_memory_max_bytes",
		Help: "The --maxmemory limit on corral_memory_used_bytes; 0 means none.",
	}, func() float64 { return float64(eng.MaxMemory()) })
	m.oomRejected = f.NewCounter(prometheus.CounterOpts{
		Name: "corral_oom_rejected_total",
		Help: "Commands refused with OOM because used memory was over --maxmemory and the policy could not evict.",
	})
	return m
}

// statsCache memoizes engine.Stats for statsMaxAge. It is safe for
// concurrent use.
type statsCache struct {
	eng   *engine.Engine
	clock clock.Clock

	mu    sync.Mutex // guards at, stats
	at    time.Time  // when stats was taken; zero before the first
	stats engine.Stats
}

// get returns a snapshot of the engine's counters no older than
// statsMaxAge (by the injected clock).
func (c *statsCache) get() engine.Stats {
	now := c.clock.Now()
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.at.IsZero() || now.Sub(c.at) >= statsMaxAge || now.Before(c.at) {
		c.stats = c.eng.Stats()
		c.at = now
	}
	return c.stats
}
