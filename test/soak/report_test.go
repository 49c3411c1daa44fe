//go:build soak

package soak

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"
)

// report renders the soak's figures as plain text.
func report(seed uint64, dur, elapsed time.Duration, fc *faultCounts, tot *tally, res ledgerResult, div divergence, base, end memSample, flog *faultLog) string {
	var b strings.Builder
	p := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }
	reqs, errs := sum(tot.requests), sum(tot.errors)
	p("")
	p("=== corral soak report ===")
	p("seed %d, load %v (ran %v), 3 store nodes (RF %d, %d partitions), 1 proxy (L1 %v), origin simulator", seed, dur, elapsed.Round(time.Second), replicas, partitions, l1MaxAge)
	p("faults: %d kills+restarts, %d cuts, %d origin slow, %d origin failing", fc.kills, fc.cuts, fc.slow, fc.failing)
	p("")
	p("requests   %d (%.0f/s)", reqs, float64(reqs)/elapsed.Seconds())
	for _, c := range slices.Sorted(maps.Keys(tot.requests)) {
		p("  %-8s %d", c, tot.requests[c])
	}
	p("errors     %d, error rate %.3f%% (limit %.0f%%); not the origin's: %d, %.3f%% (limit %.0f%%)", errs, 100*float64(errs)/float64(max(reqs, 1)), 100*maxErrorRate,
		clusterErrors(tot), 100*float64(clusterErrors(tot))/float64(max(reqs, 1)), 100*maxClusterErrorRate)
	for _, k := range []string{kindShed, kindBreaker, kindBreakerOrigin, kindUnacked, kindUpTimeout, kindUpDown, kindNoOwner, kindOrigin, kindClientTimout, kindOther} {
		p("  %-22s %d", k, tot.errors[k])
	}
	p("errors by phase (phase: errors / requests):")
	for _, ph := range slices.Sorted(maps.Keys(tot.phaseReq)) {
		var kinds []string
		for _, k := range slices.Sorted(maps.Keys(tot.kinds[ph])) {
			kinds = append(kinds, fmt.Sprintf("%s %d", k, tot.kinds[ph][k]))
		}
		p("  %-28s %6d / %-7d (%5.2f%%) %s", ph, tot.phaseErr[ph], tot.phaseReq[ph], 100*float64(tot.phaseErr[ph])/float64(max(tot.phaseReq[ph], 1)), strings.Join(kinds, ", "))
	}
	for _, k := range slices.Sorted(maps.Keys(tot.samples)) {
		for _, s := range tot.samples[k] {
			p("  e.g. %s: %s", k, oneLine(s))
		}
	}
	p("latency    p50 %v, p99 %v, max %v", tot.lat.QuantileDuration(0.5).Round(time.Microsecond), tot.lat.QuantileDuration(0.99).Round(time.Microsecond), time.Duration(tot.lat.Max()).Round(time.Millisecond))
	p("")
	p("ledger     %d string keys, %d counters, %d acknowledged writes", res.strKeys, res.ctrKeys, res.acked)
	p("lost writes %d (read back through the proxy after the L1 bound)", res.lost)
	p("late writes %d (an unacknowledged older write landed after a newer acknowledged one)", res.late)
	p("online anomalies %d (INCR/DEL/EXPIRE replies showing a lost write), reads of values nobody wrote %d", len(tot.anomalies), len(tot.badReads))
	for _, s := range res.details {
		p("  %s", s)
	}
	for _, s := range tot.anomalies[:min(len(tot.anomalies), 20)] {
		p("  %s", s)
	}
	for _, s := range tot.badReads {
		p("  %s", s)
	}
	p("replicas   %d keys differed between owners right after convergence, %d still after a minute", div.first, div.remaining)
	for _, s := range div.examples {
		p("  %s", s)
	}
	p("")
	p("memory     before (after warmup): %v", base)
	p("           after (settled):       %v", end)
	for _, g := range growth(base, end) {
		p("  goroutines %s", g)
	}
	p("")
	p("fault log:")
	p("%s", flog)
	p("=== end of report ===")
	return b.String()
}

func oneLine(s string) string {
	s = strings.ReplaceAll(s, "\n", " ")
	if len(s) > 160 {
		s = s[:160] + "..."
	}
	return s
}
