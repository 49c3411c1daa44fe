package shed

import "time"

// windowBuckets is the number of buckets a Breaker's rolling window is cut
// into: outcomes age out one bucket, Window/windowBuckets, at a time.
const windowBuckets = 10

// counts are the outcomes recorded in a span of time.
type counts struct {
	successes uint32
	failures  uint32
}

// readyToTrip reports whether c holds at least minRequests outcomes of
// which at least ratio failed: gobreaker's ReadyToTrip on a failure ratio.
func readyToTrip(c counts, minRequests uint32, ratio float64) bool {
	n := c.successes + c.failures
	return n > 0 && n >= minRequests && float64(c.failures)/float64(n) >= ratio
}

// window is a rolling window of outcomes: windowBuckets buckets of period
// each, the newest being the one now falls in. It is not safe for
// concurrent use.
type window struct {
	period  time.Duration
	start   time.Time // beginning of the bucket numbered 0
	head    int64     // number of the newest bucket, counted from start
	buckets [windowBuckets]counts
	total   counts // sum of buckets
}

// newWindow returns an empty window spanning span, starting at now.
func newWindow(span time.Duration, now time.Time) window {
	return window{period: max(span/windowBuckets, 1), start: now}
}

// reset empties w and restarts it at now.
func (w *window) reset(now time.Time) {
	*w = newWindow(w.period*windowBuckets, now)
}

// advance rolls w forward so that its newest bucket holds now, dropping the
// buckets that fall out of the window. A clock that went backwards leaves w
// as it is.
func (w *window) advance(now time.Time) {
	idx := int64(now.Sub(w.start) / w.period)
	switch {
	case idx <= w.head:
		return
	case idx-w.head >= windowBuckets:
		w.buckets = [windowBuckets]counts{}
		w.total = counts{}
	default:
		for h := w.head + 1; h <= idx; h++ {
			b := &w.buckets[h%windowBuckets]
			w.total.successes -= b.successes
			w.total.failures -= b.failures
			*b = counts{}
		}
	}
	w.head = idx
}

// record adds one outcome at now.
func (w *window) record(now time.Time, failed bool) {
	w.advance(now)
	b := &w.buckets[w.head%windowBuckets]
	if failed {
		b.failures++
		w.total.failures++
	} else {
		b.successes++
		w.total.successes++
	}
}
