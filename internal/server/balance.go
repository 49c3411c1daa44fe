package server

import "time"

// The balancer starts with one event loop taking clients and adds loops,
// up to Config.IOLoops, while the loops taking clients are saturated; it
// gives loops up again once the load fits in fewer. Like Redis's I/O
// threads, which only work when the main thread cannot keep up, this
// keeps a lightly loaded server on one thread, where it answers fastest,
// and lets a loaded one use the cores it has.
const (
	// balanceEvery is how often the balancer measures the loops.
	balanceEvery = 250 * time.Millisecond
	// busyHigh is the busy share (time not waiting in epoll_wait) above
	// which a loop is saturated; hotIntervals consecutive measurements
	// with a saturated loop add one.
	busyHigh     = 0.9
	hotIntervals = 2
	// busyLow is the busy share, per loop left, under which the active
	// loops' total must stay for coldIntervals measurements before one is
	// given up: two loops at 20% each become one at 40% or a little more
	// (a loop with more clients gets more done per wake-up), well below
	// busyHigh, so the balancer does not swing back. Loops kept busy by
	// round trips rather than work, as at pipeline depth 1, do not halve
	// their busy share when split: the margin keeps them split.
	busyLow       = 0.4
	coldIntervals = 8
)

// balancer decides how many loops take clients from their busy shares.
type balancer struct {
	max, active int
	hot, cold   int // consecutive measurements past busyHigh, under busyLow
}

// step takes the busy share, 0 to 1, of each active loop over the last
// interval and returns how many loops should be active.
func (b *balancer) step(busy []float64) int {
	var sum, top float64
	for _, v := range busy {
		sum += v
		top = max(top, v)
	}
	switch {
	case top >= busyHigh && b.active < b.max:
		b.hot++
		b.cold = 0
		if b.hot >= hotIntervals {
			b.active++
			b.hot = 0
		}
	case b.active > 1 && sum <= busyLow*float64(b.active-1):
		b.cold++
		b.hot = 0
		if b.cold >= coldIntervals {
			b.active--
			b.cold = 0
		}
	default:
		b.hot, b.cold = 0, 0
	}
	return b.active
}
