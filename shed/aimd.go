package shed

import "time"

// aimd holds the parameters of the Limiter's adaptive limit, which follows
// additive increase, multiplicative decrease (AIMD), as TCP's congestion
// window does:
//
//   - A fetch that succeeds within SlowLatency while the limit is in use
//     (at least half of it admitted) raises the limit by 1/limit, so the
//     limit grows by about one per round of limit fetches.
//   - A fetch that fails, or succeeds slower than SlowLatency, multiplies the
//     limit by Backoff, at most once per round: only a fetch admitted since
//     the last decrease may decrease it again, so one burst of failures
//     shrinks the limit once, not once per failure.
//   - A fetch released as Ignored (the caller gave up) changes nothing.
//
// The limit stays within [min, max].
type aimd struct {
	min, max float64
	slow     time.Duration // latency above which a success is congestion
	backoff  float64       // factor of a decrease, in (0, 1)
}

// next returns the limit after one finished fetch, and whether the fetch
// signalled congestion (the caller then starts a new round). inflight counts
// the admitted fetches including this one; fresh reports whether this fetch
// was admitted after the last decrease.
func (p aimd) next(limit float64, o Outcome, rtt time.Duration, inflight int, fresh bool) (float64, bool) {
	switch {
	case o == Ignored:
		return limit, false
	case o == Failure || rtt > p.slow:
		if !fresh {
			return limit, false
		}
		return max(p.min, limit*p.backoff), true
	case float64(2*inflight) < limit:
		// Most of the limit is unused: a fast fetch says nothing about
		// whether a higher limit would be safe.
		return limit, false
	default:
		return min(p.max, limit+1/limit), false
	}
}
