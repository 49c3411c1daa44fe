package report_test

import (
	"os"

	"corral/bench/report"
)

func ExampleWriteTable() {
	loads := func(n int64) *int64 { return &n }
	r := &report.Report{
		Scenario:    "stampede",
		Description: "a hot set expiring together.",
		Runs: []report.Run{
			{Name: "naive", Available: true, Ops: 40000, OpsPerS: 10000, Errors: 3, OriginLoads: loads(2104), P50Ms: 1.06, P99Ms: 1310, P999Ms: 1500, MaxMs: 1560},
			{Name: "corral", Available: true, Ops: 40000, OpsPerS: 10000, OriginLoads: loads(26), P50Ms: 0.815, P99Ms: 6.68, P999Ms: 18.4, MaxMs: 42},
		},
	}
	_ = report.WriteTable(os.Stdout, r)
	// Output:
	// stampede: a hot set expiring together.
	//
	// run        ops   ops/s  errors  origin loads      p50     p99   p99.9    max  hit ratio
	// naive   40,000  10,000       3         2,104   1.06ms   1.31s    1.5s  1.56s          -
	// corral  40,000  10,000       0            26  0.815ms  6.68ms  18.4ms   42ms          -
}
