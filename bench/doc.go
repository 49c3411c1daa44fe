// Package bench is corral's load tester: scenarios that show, on the
// user's own hardware, what a caching tier does when thousands of clients
// ask for the same thing at once.
//
// A scenario is a list of runs. Each run starts what it needs in-process
// (an origin simulator, and a corral store or proxy through the injected
// Launcher, the same code path as `corral dev`) or uses targets already
// running (Config.Addr), drives load with package load, and samples the
// origin's load count and the target's /metrics as it goes:
//
//   - stampede: a hot set expiring together, first with clients doing
//     cache-aside against a plain store ("naive"), then through corral.
//   - recovery: the origin fails for a while and comes back: a naive retry
//     storm against corral's breakers and stale serving.
//   - zipf: steady read-heavy zipfian traffic: throughput, latency, hit
//     ratio, with corral's L1 on and off (or against any RESP target).
//   - ablation: the stampede once per defense switched off.
//
// The results become a report.Report, written as a table, JSON and HTML.
// bench never imports the proxy or cluster packages; cmd/corral supplies
// the Launcher.
package bench
