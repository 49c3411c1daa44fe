package bench

import (
	"time"

	"corral/bench/load"
	"corral/bench/report"
)

// ms converts a duration to float milliseconds.
func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// summarize turns a load result into the report's run and series.
func summarize(spec runSpec, res *load.Result, each time.Duration, originKnown bool) (report.Run, []report.Point) {
	run := report.Run{
		Name:        spec.name,
		Description: spec.description,
		Available:   true,
		DurationS:   res.Elapsed.Seconds(),
		Ops:         res.Ops,
		OpsPerS:     float64(res.Ops) / each.Seconds(),
		Errors:      res.Errors,
		Unfinished:  res.Unfinished,
		P50Ms:       ms(res.Hist.QuantileDuration(0.5)),
		P99Ms:       ms(res.Hist.QuantileDuration(0.99)),
		P999Ms:      ms(res.Hist.QuantileDuration(0.999)),
		MaxMs:       ms(time.Duration(res.Hist.Max())),
		MeanMs:      res.Hist.Mean() / float64(time.Millisecond),
		ErrorKinds:  res.ErrorKinds,
	}
	if originKnown {
		l, f := int64(res.Counters[ctrOriginLoads]), int64(res.Counters[ctrOriginFailed])
		run.OriginLoads, run.OriginFailed = &l, &f
	}
	run.HitRatio, run.HitSource = hitRatio(res.Counters, res.Counts)
	var series []report.Point
	for _, p := range res.Series {
		pt := report.Point{
			TS:         p.At.Seconds(),
			OpsPerS:    p.PerSecond(float64(p.Ops)),
			P50Ms:      ms(p.P50),
			P99Ms:      ms(p.P99),
			P999Ms:     ms(p.P999),
			MaxMs:      ms(p.Max),
			Errors:     p.Errors,
			Unfinished: p.Unfinished,
		}
		if originKnown {
			v := p.PerSecond(p.Counters[ctrOriginLoads])
			pt.OriginLoads = &v
		}
		pt.HitRatio, _ = hitRatio(p.Counters, p.Counts)
		series = append(series, pt)
	}
	return run, series
}

// hitRatio prefers the target's L1 counters and falls back to the share of
// reads that found a value.
func hitRatio(ctr map[string]float64, c load.Counts) (*float64, string) {
	if h, m := ctr[ctrL1Hits], ctr[ctrL1Misses]; h+m > 0 {
		v := h / (h + m)
		return &v, "l1"
	}
	if c.Hits+c.Misses > 0 {
		v := float64(c.Hits) / float64(c.Hits+c.Misses)
		return &v, "reads"
	}
	return nil, ""
}
