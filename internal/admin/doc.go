// Package admin serves the admin HTTP endpoints that both corral roles run:
//
//	/metrics        Prometheus text exposition of Config.Gatherer
//	/ready          200 "ready\n" or 503 "not ready\n" (Kubernetes readiness)
//	/alive          200 "alive\n" or 503 "not alive\n" (Kubernetes liveness)
//	/drain          GET or POST: start draining once, 200 "draining\n" (preStop hook)
//	/status         a human-readable text page written by the role
//	/debug/pprof/   the net/http/pprof handlers
//
// The server uses its own http.ServeMux, never http.DefaultServeMux. Importing
// net/http/pprof still registers its handlers on the default mux as a side
// effect of that package; corral never serves the default mux, so they are
// unreachable.
package admin
