// Package shed protects upstreams and origins from more work than they can
// take: it admits, queues briefly, or refuses requests, and it stops calling
// targets that keep failing.
//
// Three parts compose:
//
//   - A Limiter bounds the fetches in flight to one target with an adaptive
//     concurrency limit (AIMD on observed latency, between MinLimit and
//     MaxInflight). A caller that finds the limit reached waits at most
//     QueueTimeout for a slot, FIFO, and is then refused with ErrOverloaded.
//   - A Rate applies token buckets: one global, one per client address, the
//     latter in a map bounded by MaxClients.
//   - A Breaker per upstream node or origin opens when the share of failures
//     in a rolling window reaches FailureRatio, refuses calls with ErrOpen for
//     Timeout, then lets HalfOpenRequests probes decide whether to close.
//
// Admission bundles a Limiter and a Rate under one Config. Reply turns any of
// their refusals into the RESP error text a client receives; its prefixes,
// SHED and BREAKER, are ones go-redis does not retry, so a shed request is not
// immediately sent again.
//
// Every type reads time through an injected clock.Clock, so limits, buckets
// and breaker transitions are tested deterministically with clock.Fake. The
// only real timer is the Limiter's bounded wait for a slot, because
// clock.Clock offers no timers.
//
// The breaker is a state machine of our own with gobreaker's semantics
// (rolling window buckets, a ReadyToTrip on failure ratio and minimum
// requests, half-open MaxRequests, open Timeout) rather than
// github.com/sony/gobreaker/v2: gobreaker v2.4.0 calls time.Now directly and
// has no clock hook, so its transitions could not be driven by a fake clock.
//
// All exported methods are safe for concurrent use.
package shed
