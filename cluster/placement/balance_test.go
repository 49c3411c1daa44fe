package placement

import (
	"math"
	"testing"
)

// TestBalance checks how evenly HRW spreads P=4096 partitions over n = 3..20
// nodes, counting every owner slot and, separately, primaries. Each node's
// count is Binomial(P, q) with q = RF/n (q = 1/n for primaries) when Score is
// well mixed, so the test bounds every count to within maxSigma standard
// deviations of the mean: a biased or correlated hash fails it.
//
// A max/min ratio within 10% is not a bound pure HRW can meet at P=4096:
// the binomial spread alone gives ratios of about 1.3 for primaries at
// n=20 (SHA-256 as Score does no better). The measured ratios are logged;
// see them with: go test -run TestBalance -v ./cluster/placement/
func TestBalance(t *testing.T) {
	const (
		partitions = 4096
		maxSigma   = 5.0
	)
	for _, rf := range []int{1, 2, 3} {
		for n := 3; n <= 20; n++ {
			tb := mustNew(t, partitions, rf, ids(n))
			all := make(map[string]int, n)
			primary := make(map[string]int, n)
			for p := range partitions {
				for _, o := range tb.Owners(p) {
					all[o]++
				}
				primary[tb.Primary(p)]++
			}
			allRatio := checkBinomial(t, "owner slots", rf, n, all, partitions, float64(rf)/float64(n), maxSigma)
			primRatio := checkBinomial(t, "primaries", rf, n, primary, partitions, 1/float64(n), maxSigma)
			t.Logf("rf=%d n=%2d  max/min owner slots %.3f  primaries %.3f", rf, n, allRatio, primRatio)
		}
	}
}

// checkBinomial fails t if a node's count is more than maxSigma standard
// deviations from the mean of Binomial(trials, q), and returns max/min.
func checkBinomial(t *testing.T, what string, rf, n int, counts map[string]int, trials int, q, maxSigma float64) float64 {
	t.Helper()
	mean := float64(trials) * q
	sigma := math.Sqrt(mean * (1 - q))
	lo, hi := math.MaxInt, 0
	for _, id := range ids(n) {
		c := counts[id]
		lo, hi = min(lo, c), max(hi, c)
		if z := (float64(c) - mean) / sigma; math.Abs(z) > maxSigma {
			t.Errorf("rf=%d n=%d: node %s has %d %s, %.1f sigma from the mean %.1f", rf, n, id, c, what, z, mean)
		}
	}
	return float64(hi) / float64(lo)
}
