// Package origin loads values from the application's origin, the service the
// store tier reads through to on a miss: an HTTP service
// (http://host/path/{key}) or a Redis server (redis://host:port/db).
//
// An Origin answers Load with a Result: the value and how long the tier may
// cache it, or a negative answer (HTTP 404 or 410, a missing Redis key) that
// the tier caches for the negative TTL so that a stampede of misses for an
// absent key does not reach the origin either. HTTP responses are cached as
// their Cache-Control (s-maxage, max-age, Age) or Expires and Date headers
// say, and not at all when they say no-store, no-cache or private; Redis
// values keep the TTL they have at the origin.
//
// Every load is bounded by Config.Timeout and by the caller's context; a
// load that runs out of time fails with an error for which
// errors.Is(err, context.DeadlineExceeded) holds. Errors name the origin with
// any password redacted, as Origin.String does.
//
// Load does no collapsing, caching or retrying: callers put collapse, the
// store and a breaker in front of it.
package origin
