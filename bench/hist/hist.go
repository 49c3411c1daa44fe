// Package hist records latencies in an HDR-style histogram: log-linear
// buckets whose width is a fixed fraction of their values, so that any
// quantile is reported within a bounded relative error while recording
// stays a few instructions and memory stays fixed.
package hist

import (
	"math"
	"math/bits"
	"time"
)

// subBits is the number of significant bits kept for a value. Values below
// 1<<subBits are recorded exactly; above, each power-of-two range is split
// into 1<<(subBits-1) equal buckets, so a bucket's width is at most
// 1/(1<<(subBits-1)) of the values it holds.
const subBits = 8

// half is the number of buckets per power-of-two range above the exact
// region.
const half = 1 << (subBits - 1)

// maxShift bounds the recordable range: values up to 1<<(maxShift+subBits)-1
// (in nanoseconds, about 18 minutes) have their own bucket; larger values
// share the top bucket, though Max stays exact.
const maxShift = 32

// numBuckets is the number of buckets of every Histogram.
const numBuckets = maxShift*half + (1 << subBits)

// RelativeError is the largest relative error of a quantile the histogram
// reports, against the exact quantile of the recorded values (within the
// recordable range).
const RelativeError = 1.0 / half

// Histogram counts int64 values (nanoseconds, by convention) in log-linear
// buckets. The zero value is not usable; call New. A Histogram is not safe
// for concurrent use: give each goroutine its own and Merge them.
type Histogram struct {
	counts   []uint64
	total    uint64
	min, max int64
	sum      float64
}

// New returns an empty Histogram. It holds about 35 KB.
func New() *Histogram {
	return &Histogram{counts: make([]uint64, numBuckets), min: math.MaxInt64}
}

// index returns the bucket of v >= 0.
func index(v int64) int {
	u := uint64(v)
	shift := bits.Len64(u) - subBits
	if shift <= 0 {
		return int(u)
	}
	if shift > maxShift {
		return numBuckets - 1
	}
	return shift*half + int(u>>uint(shift))
}

// upper returns the largest value bucket i holds.
func upper(i int) int64 {
	if i < 1<<subBits {
		return int64(i)
	}
	shift := i/half - 1
	mant := int64(i - shift*half)
	return (mant+1)<<uint(shift) - 1
}

// Record counts one value; negative values count as 0.
func (h *Histogram) Record(v int64) { h.RecordN(v, 1) }

// RecordDuration counts one duration in nanoseconds.
func (h *Histogram) RecordDuration(d time.Duration) { h.RecordN(int64(d), 1) }

// RecordN counts n occurrences of v; negative values count as 0.
func (h *Histogram) RecordN(v int64, n uint64) {
	if n == 0 {
		return
	}
	v = max(v, 0)
	h.counts[index(v)] += n
	h.total += n
	h.min = min(h.min, v)
	h.max = max(h.max, v)
	h.sum += float64(v) * float64(n)
}

// Merge adds every value counted in o to h. o is unchanged.
func (h *Histogram) Merge(o *Histogram) {
	if o.total == 0 {
		return
	}
	for i, c := range o.counts {
		h.counts[i] += c
	}
	h.total += o.total
	h.min = min(h.min, o.min)
	h.max = max(h.max, o.max)
	h.sum += o.sum
}

// Reset empties h, keeping its memory.
func (h *Histogram) Reset() {
	clear(h.counts)
	h.total, h.min, h.max, h.sum = 0, math.MaxInt64, 0, 0
}

// Count returns the number of values recorded.
func (h *Histogram) Count() uint64 { return h.total }

// Min returns the smallest value recorded, exactly; 0 when empty.
func (h *Histogram) Min() int64 {
	if h.total == 0 {
		return 0
	}
	return h.min
}

// Max returns the largest value recorded, exactly; 0 when empty.
func (h *Histogram) Max() int64 { return h.max }

// Mean returns the mean of the values recorded; 0 when empty.
func (h *Histogram) Mean() float64 {
	if h.total == 0 {
		return 0
	}
	return h.sum / float64(h.total)
}

// Quantile returns the value at quantile q in [0, 1] by the nearest-rank
// definition (the smallest recorded value v such that at least q of the
// values are <= v), rounded up to the top of its bucket, so it is never
// below the exact quantile and exceeds it by at most RelativeError. The
// result is clamped to [Min, Max]; 0 when empty.
func (h *Histogram) Quantile(q float64) int64 {
	if h.total == 0 {
		return 0
	}
	q = min(max(q, 0), 1)
	rank := uint64(math.Ceil(q * float64(h.total)))
	rank = max(rank, 1)
	var seen uint64
	for i, c := range h.counts {
		seen += c
		if seen >= rank {
			return min(max(upper(i), h.min), h.max)
		}
	}
	return h.max
}

// QuantileDuration is Quantile as a time.Duration.
func (h *Histogram) QuantileDuration(q float64) time.Duration {
	return time.Duration(h.Quantile(q))
}
