package server

import (
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"corral/internal/command"
)

// durationBuckets are the upper bounds, in seconds, of
// corral_request_duration_seconds.
var durationBuckets = [...]float64{.00001, .00005, .0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5}

// statShards spreads connections over independent counter sets.
const statShards = 16

// cmdStat is one command's counters in one shard.
type cmdStat struct {
	ok, failed atomic.Uint64
	sumNanos   atomic.Uint64
	buckets    [len(durationBuckets) + 1]atomic.Uint64 // the last is +Inf
}

// statShard is one connection group's counters for every command, padded
// so that shards do not share cache lines.
type statShard struct {
	_    [64]byte
	byID [command.NumIDs]cmdStat
}

// cmdStats counts executed commands by command and result and records
// their latency. It is a prometheus.Collector exposing
// corral_requests_total{role,cmd,result} and
// corral_request_duration_seconds{role,cmd}. observe is safe for concurrent
// use and allocates nothing.
type cmdStats struct {
	shards  [statShards]statShard
	reqDesc *prometheus.Desc
	durDesc *prometheus.Desc
	upperNs [len(durationBuckets)]uint64
}

func newCmdStats(role string) *cmdStats {
	c := &cmdStats{
		reqDesc: prometheus.NewDesc("corral_requests_total",
			"Commands executed, by command and result (ok or error reply).",
			[]string{"cmd", "result"}, prometheus.Labels{"role": role}),
		durDesc: prometheus.NewDesc("corral_request_duration_seconds",
			"Time to execute a command, from parsed request to buffered reply (including parsing the next pipelined request).",
			[]string{"cmd"}, prometheus.Labels{"role": role}),
	}
	for i, b := range durationBuckets {
		c.upperNs[i] = uint64(b * 1e9)
	}
	return c
}

// observe records one command run by connection id.
func (c *cmdStats) observe(id int64, cmd command.ID, d time.Duration, failed bool) {
	st := &c.shards[uint64(id)%statShards].byID[cmd]
	if failed {
		st.failed.Add(1)
	} else {
		st.ok.Add(1)
	}
	ns := uint64(max(d, 0))
	st.sumNanos.Add(ns)
	i := 0
	for i < len(c.upperNs) && ns > c.upperNs[i] {
		i++
	}
	st.buckets[i].Add(1)
}

// total returns the number of commands executed (INFO's
// total_commands_processed).
func (c *cmdStats) total() int64 {
	var n uint64
	for s := range c.shards {
		for id := range c.shards[s].byID {
			st := &c.shards[s].byID[id]
			n += st.ok.Load() + st.failed.Load()
		}
	}
	return int64(n)
}

// Describe implements prometheus.Collector.
func (c *cmdStats) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.reqDesc
	ch <- c.durDesc
}

// Collect implements prometheus.Collector: it sums the shards.
func (c *cmdStats) Collect(ch chan<- prometheus.Metric) {
	for id := range command.NumIDs {
		var ok, failed, sum uint64
		var buckets [len(durationBuckets) + 1]uint64
		for s := range c.shards {
			st := &c.shards[s].byID[id]
			ok += st.ok.Load()
			failed += st.failed.Load()
			sum += st.sumNanos.Load()
			for b := range buckets {
				buckets[b] += st.buckets[b].Load()
			}
		}
		if ok+failed == 0 {
			continue
		}
		name := command.ByID(command.ID(id)).Name
		ch <- prometheus.MustNewConstMetric(c.reqDesc, prometheus.CounterValue, float64(ok), name, "ok")
		ch <- prometheus.MustNewConstMetric(c.reqDesc, prometheus.CounterValue, float64(failed), name, "error")
		cum := make(map[float64]uint64, len(durationBuckets))
		var running uint64
		for i, ub := range durationBuckets {
			running += buckets[i]
			cum[ub] = running
		}
		running += buckets[len(durationBuckets)]
		ch <- prometheus.MustNewConstHistogram(c.durDesc, running, float64(sum)/1e9, cum, name)
	}
}
