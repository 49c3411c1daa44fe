package xfetch

import (
	"math"
	"time"
)

// minR is the smallest nonzero value of 1-rand.Float64(): Float64 returns
// multiples of 2^-53 in [0,1).
const minR = 0x1p-53

// ShouldRefresh implements XFetch (Vattani, Chierichetti, Lowenstein, VLDB
// 2015): it reports whether a reader at now should refresh early an entry
// that expires at expiry and whose last load took delta:
//
//	now - delta*beta*ln(r) >= expiry
//
// r must be in (0,1]; callers pass 1-rand.Float64(). An r outside that range
// is clamped to [2^-53, 1] (NaN counts as 2^-53), so Horizon stays a bound.
// beta <= 0 (or NaN) or delta <= 0 disables early refresh: then ShouldRefresh
// reports only now >= expiry. beta = 1 is the paper's optimum; larger values
// refresh earlier.
//
// For r uniform in (0,1], the probability of an early refresh is
// exp(-(expiry-now)/(delta*beta)).
func ShouldRefresh(now, expiry time.Time, delta time.Duration, beta, r float64) bool {
	gap := expiry.Sub(now) // saturates instead of overflowing
	if gap <= 0 {
		return true
	}
	if !(beta > 0) || delta <= 0 {
		return false
	}
	return earlyBy(delta, beta, clampR(r)) >= float64(gap)
}

// Horizon returns how long before expiry a refresh can possibly fire for this
// delta and beta, given that r >= 2^-53 (the smallest nonzero value of
// 1-rand.Float64()): delta*beta*(-ln 2^-53), about 36.74*delta*beta, rounded
// up to the nanosecond and saturated at the largest time.Duration. It is 0 when
// beta <= 0 or delta <= 0.
//
// Callers skip drawing a random number when expiry-now > Horizon: ShouldRefresh
// is then false whatever r is, so hits far from expiry cost no random draw.
func Horizon(delta time.Duration, beta float64) time.Duration {
	if !(beta > 0) || delta <= 0 {
		return 0
	}
	h := math.Ceil(earlyBy(delta, beta, minR))
	if h >= float64(math.MaxInt64) {
		return math.MaxInt64
	}
	return time.Duration(h)
}

// earlyBy is -delta*beta*ln(r) in nanoseconds: how long before expiry a
// reader drawing r refreshes. ShouldRefresh and Horizon share it so that the
// bound holds to the last bit of floating point.
func earlyBy(delta time.Duration, beta, r float64) float64 {
	return float64(delta) * beta * -math.Log(r)
}

// clampR maps r into [minR, 1].
func clampR(r float64) float64 {
	switch {
	case r > 1:
		return 1
	case r >= minR:
		return r
	default: // below minR, zero, negative or NaN
		return minR
	}
}
