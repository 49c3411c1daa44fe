package workload

import (
	"fmt"
	"math"
	"math/rand/v2"
)

// Zipf draws ranks in [0, n) with P(rank k) proportional to 1/(k+1)^s, by
// rejection-inversion (Hörmann and Derflinger, 1996): constant memory and
// time for any n, and any skew s >= 0 (0 is uniform; YCSB's default is
// 0.99). math/rand/v2's Zipf needs s > 1, which rules out the skews
// caching benchmarks use.
//
// A Zipf holds only parameters; it is safe for concurrent use as long as
// each goroutine passes its own *rand.Rand.
type Zipf struct {
	n, s            float64
	hN, hX1, spread float64 // H(n+0.5), H(1.5)-1 and the acceptance shortcut
}

// NewZipf returns a Zipf over n >= 1 ranks with skew s >= 0.
func NewZipf(n uint64, s float64) (*Zipf, error) {
	if n < 1 {
		return nil, fmt.Errorf("workload: zipf over %d keys: need at least 1", n)
	}
	if !(s >= 0) || math.IsInf(s, 1) {
		return nil, fmt.Errorf("workload: zipf skew %v: must be a finite number >= 0", s)
	}
	z := &Zipf{n: float64(n), s: s}
	z.hN = z.bigH(z.n + 0.5)
	z.hX1 = z.bigH(1.5) - 1
	z.spread = 2 - z.bigHInv(z.bigH(2.5)-z.h(2))
	return z, nil
}

// Next returns a rank in [0, n): 0 is the most frequent.
func (z *Zipf) Next(r *rand.Rand) uint64 {
	for {
		u := z.hN + r.Float64()*(z.hX1-z.hN)
		x := z.bigHInv(u)
		k := math.Floor(x + 0.5)
		k = min(max(k, 1), z.n)
		if k-x <= z.spread || u >= z.bigH(k+0.5)-z.h(k) {
			return uint64(k) - 1
		}
	}
}

// Prob returns the exact probability of rank k (0-based); it sums the
// normalising constant, so it costs O(n): for tests and small n.
func (z *Zipf) Prob(k uint64) float64 {
	var norm float64
	for i := 1.0; i <= z.n; i++ {
		norm += z.h(i)
	}
	return z.h(float64(k+1)) / norm
}

// h is the unnormalised weight of rank x (1-based): x^-s.
func (z *Zipf) h(x float64) float64 { return math.Exp(-z.s * math.Log(x)) }

// bigH is an antiderivative of h: (x^(1-s) - 1)/(1-s), or log x at s = 1,
// computed stably near s = 1.
func (z *Zipf) bigH(x float64) float64 {
	lx := math.Log(x)
	return expm1Over((1-z.s)*lx) * lx
}

// bigHInv inverts bigH.
func (z *Zipf) bigHInv(y float64) float64 {
	t := max(y*(1-z.s), -1)
	return math.Exp(log1pOver(t) * y)
}

// expm1Over returns (e^x - 1)/x, 1 at x = 0.
func expm1Over(x float64) float64 {
	if math.Abs(x) > 1e-8 {
		return math.Expm1(x) / x
	}
	return 1 + x/2*(1+x/3*(1+x/4))
}

// log1pOver returns log(1+x)/x, 1 at x = 0.
func log1pOver(x float64) float64 {
	if math.Abs(x) > 1e-8 {
		return math.Log1p(x) / x
	}
	return 1 - x*(0.5-x*(1.0/3-x/4))
}
