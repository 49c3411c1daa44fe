// Package stampede holds corral's end-to-end acceptance tests of the
// stampede defenses, with real parts over loopback: a slow HTTP origin
// (an httptest server whose handler takes 300ms per load and counts the
// loads of each key), an origin.Origin pointed at it, a cluster.Store
// reading through to it, and a proxy.Proxy in front of the store, wired as
// `corral dev` wires them, with one fresh Prometheus registry shared by
// both. Clients are go-redis v9.
//
// The clock is real. The tests wait on conditions with deadlines
// (testkit.Eventually, or a loop until a deadline), never with sleeps;
// the only sleep is the origin handler's, which stands for a slow origin.
// Bounds carry wide margins so that the tests hold on a loaded two-core
// machine under -race:
//
//   - TestColdKeyCollapsesToOneLoad: 500 concurrent readers of a cold key
//     cause exactly one origin load.
//   - TestHotKeyRefreshesWithoutWaiting: 16 readers hammer a key cached
//     with max-age=2 for 7s; the origin sees about one load per TTL and no
//     read after the first load waits for it.
//   - TestMissingKeyLoadsOncePerNegativeTTL: 200 reads of a key the origin
//     answers 404 cause one load per negative TTL.
//   - TestDeadOriginServesStale: with the origin gone, reads get the old
//     value until stale-if-error runs out, then an ORIGIN or BREAKER error.
//   - TestBreakerOpensAndRecoveryTrickles: while the origin fails, the
//     store's breaker opens and reads stay fast and stale; when it
//     recovers, the origin sees a trickle of loads, not a retry storm.
//   - TestShedBoundsOriginConcurrency: 2,000 readers of 2,000 cold keys
//     never put more than 8 loads in flight at the origin; the rest are
//     shed fast, and PING stays fast throughout.
//
// The package has no non-test code. The figures the tests log (loads,
// latencies, per-100ms counts) come from
//
//	go test -race -count=1 -v ./test/stampede/
package stampede
