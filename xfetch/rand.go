package xfetch

import "math/rand/v2"

// Rand returns pseudo-random numbers in [0,1), as math/rand/v2's Float64
// does. Callers inject one so that tests can use a seeded source; a Rand that
// is shared between goroutines must be safe for concurrent use (a
// *rand.Rand's Float64 is not; the package-level rand.Float64 is).
//
// ShouldRefresh wants r in (0,1]: pass 1-r(). Jitter and Backoff take r() as
// is.
type Rand func() float64

// Or returns r, or math/rand/v2's package-level Float64 (safe for concurrent
// use) when r is nil. Constructors use it for optional Config fields, as
// clock.Or does for clocks.
func (r Rand) Or() Rand {
	if r == nil {
		return rand.Float64
	}
	return r
}
