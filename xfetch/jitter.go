package xfetch

import (
	"math"
	"time"
)

// Jitter spreads a TTL the tier chooses: ttl + ttl*frac*r for r in [0,1), so
// entries written together do not expire together. The result is never
// shorter than ttl, at most ttl*(1+frac), and saturates at the largest
// time.Duration instead of overflowing. frac <= 0 (or NaN) or ttl <= 0
// returns ttl unchanged. An r outside [0,1] is clamped into it (NaN counts
// as 0).
func Jitter(ttl time.Duration, frac, r float64) time.Duration {
	if ttl <= 0 || !(frac > 0) {
		return ttl
	}
	r = clampUnit(r)
	if r == 0 {
		return ttl // also keeps an infinite frac from making 0*Inf = NaN
	}
	extra := float64(ttl) * frac * r
	room := math.MaxInt64 - ttl
	if extra >= float64(room) {
		return math.MaxInt64
	}
	d := time.Duration(extra) // extra < 2^63, so the conversion is defined
	if d > room {
		return math.MaxInt64
	}
	return ttl + d
}

// Backoff is exponential backoff with full jitter (AWS Architecture Blog,
// "Exponential Backoff And Jitter"): r * min(max, base*2^attempt), with
// attempt counted from 0 and r in [0,1). It never overflows, however large
// attempt is. A negative attempt counts as 0; base <= 0 or max <= 0 returns
// 0; an r outside [0,1] is clamped into it (NaN counts as 0).
func Backoff(attempt int, base, max time.Duration, r float64) time.Duration {
	if base <= 0 || max <= 0 {
		return 0
	}
	if attempt < 0 {
		attempt = 0
	}
	ceiling := max
	// From attempt 63 on, base*2^attempt exceeds any Duration. Below it,
	// base <= max>>attempt means base<<attempt <= max: no overflow.
	if attempt < 63 && base <= max>>attempt {
		ceiling = base << attempt
	}
	f := float64(ceiling) * clampUnit(r)
	if f >= float64(ceiling) {
		return ceiling
	}
	return time.Duration(f)
}

// clampUnit maps r into [0,1], NaN to 0.
func clampUnit(r float64) float64 {
	switch {
	case r > 1:
		return 1
	case r >= 0:
		return r
	default: // negative or NaN
		return 0
	}
}
