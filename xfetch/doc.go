// Package xfetch decides when a cached entry should be refreshed before it
// expires, and spreads the TTLs and retry delays the tier chooses so that
// expiries and retries never line up.
//
// ShouldRefresh implements XFetch (Vattani, Chierichetti, Lowenstein,
// "Optimal Probabilistic Cache Stampede Prevention", VLDB 2015): each reader
// of an entry that expires at expiry, and whose last load took delta,
// refreshes it early with probability exp(-(expiry-now)/(delta*beta)). The
// probability rises as expiry nears and with the cost of the load, so one
// reader of a hot entry usually refreshes it in the background shortly before
// it expires while the others keep reading the current value.
//
// Horizon bounds how early a refresh can fire, so callers can skip drawing a
// random number for entries far from expiry. Jitter spreads TTLs; Backoff
// spaces retries with exponential backoff and full jitter.
//
// Everything here is a pure function of its arguments: the current time and
// the random numbers are passed in, so callers read their clock.Clock once and
// draw from an injected Rand, and tests are deterministic. All functions are
// safe for concurrent use.
package xfetch
