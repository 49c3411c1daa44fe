package workload

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

// checkFrequencies draws samples from z and requires each of the first
// ranks ranks' frequencies to lie within 5 standard deviations of its
// exact probability, and a chi-square over those ranks (plus the rest
// lumped together) to stay below a generous bound.
func checkFrequencies(t *testing.T, z *Zipf, n uint64, ranks int, samples int, seed uint64) {
	t.Helper()
	r := rand.New(rand.NewPCG(seed, seed+1))
	counts := make([]int, ranks+1) // the last holds every rank >= ranks
	for range samples {
		k := z.Next(r)
		if k >= n {
			t.Fatalf("rank %d out of [0, %d)", k, n)
		}
		counts[min(k, uint64(ranks))]++
	}
	probs := exactProbs(n, z.s, ranks)
	var chi2, restP float64 = 0, 1
	for k := range ranks {
		p := probs[k]
		restP -= p
		exp := p * float64(samples)
		sd := math.Sqrt(exp * (1 - p))
		if d := math.Abs(float64(counts[k]) - exp); d > 5*sd+1 {
			t.Errorf("rank %d: %d draws, expected %.1f (sd %.1f)", k, counts[k], exp, sd)
		}
		if exp > 0 {
			chi2 += (float64(counts[k]) - exp) * (float64(counts[k]) - exp) / exp
		}
	}
	if exp := restP * float64(samples); exp > 5 {
		chi2 += (float64(counts[ranks]) - exp) * (float64(counts[ranks]) - exp) / exp
	}
	// Degrees of freedom ~ ranks; the mean of chi2 is ranks and its sd
	// sqrt(2*ranks): allow 6 sds.
	if bound := float64(ranks) + 6*math.Sqrt(2*float64(ranks)); chi2 > bound {
		t.Errorf("chi-square %.1f over %d ranks, want below %.1f", chi2, ranks, bound)
	}
}

// exactProbs returns the zipf probabilities of the first ranks ranks of
// n with skew s, summing the normalising constant once.
func exactProbs(n uint64, s float64, ranks int) []float64 {
	var norm float64
	for i := n; i >= 1; i-- { // smallest terms first, for accuracy
		norm += math.Pow(float64(i), -s)
	}
	out := make([]float64, ranks)
	for k := range out {
		out[k] = math.Pow(float64(k+1), -s) / norm
	}
	return out
}

func TestZipfProbMatchesTheFormula(t *testing.T) {
	z, _ := NewZipf(1000, 0.99)
	want := exactProbs(1000, 0.99, 3)
	for k, p := range want {
		if got := z.Prob(uint64(k)); math.Abs(got-p) > 1e-12 {
			t.Errorf("Prob(%d) = %v, want %v", k, got, p)
		}
	}
}

func TestZipfDistribution(t *testing.T) {
	tests := []struct {
		n     uint64
		s     float64
		ranks int
	}{
		{100, 0, 100},
		{100, 0.5, 100},
		{100, 0.99, 100},
		{100, 1, 100},
		{100, 1.2, 100},
		{1000, 2, 50},
		{1, 0.99, 1},
		{100000, 0.99, 100},
	}
	for i, tt := range tests {
		t.Run(fmt.Sprintf("n=%d s=%v", tt.n, tt.s), func(t *testing.T) {
			z, err := NewZipf(tt.n, tt.s)
			if err != nil {
				t.Fatal(err)
			}
			checkFrequencies(t, z, tt.n, tt.ranks, 200000, uint64(i+1))
		})
	}
}

func TestZipfIsDeterministicForASeed(t *testing.T) {
	z, _ := NewZipf(1000, 0.99)
	a, b := rand.New(rand.NewPCG(7, 7)), rand.New(rand.NewPCG(7, 7))
	for range 1000 {
		if x, y := z.Next(a), z.Next(b); x != y {
			t.Fatalf("same seed drew %d and %d", x, y)
		}
	}
}

func TestZipfRejectsBadParameters(t *testing.T) {
	for _, tt := range []struct {
		n uint64
		s float64
	}{{0, 1}, {10, -0.5}, {10, math.NaN()}, {10, math.Inf(1)}} {
		if _, err := NewZipf(tt.n, tt.s); err == nil {
			t.Errorf("NewZipf(%d, %v) accepted", tt.n, tt.s)
		}
	}
}

func TestWorkloadDraws(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 1))
	t.Run("hot set", func(t *testing.T) {
		c := DefaultConfig()
		c.Dist, c.Keys = HotSet, 4
		w, err := New(c)
		if err != nil {
			t.Fatal(err)
		}
		seen := map[string]int{}
		for range 4000 {
			k, write := w.Next(r)
			if write {
				t.Fatal("read ratio 1 drew a write")
			}
			seen[k]++
		}
		if len(seen) != 4 {
			t.Fatalf("drew %d distinct keys, want 4: %v", len(seen), seen)
		}
		for k, n := range seen {
			if !strings.HasPrefix(k, "key:") || n < 850 || n > 1150 {
				t.Errorf("key %q drawn %d times of 4000, want about 1000", k, n)
			}
		}
	})
	t.Run("read ratio", func(t *testing.T) {
		c := DefaultConfig()
		c.ReadRatio, c.ValueSize = 0.9, 7
		w, _ := New(c)
		writes := 0
		for range 10000 {
			if _, write := w.Next(r); write {
				writes++
			}
		}
		if writes < 900 || writes > 1100 {
			t.Errorf("%d writes of 10000 at read ratio 0.9, want about 1000", writes)
		}
		if len(w.Value()) != 7 {
			t.Errorf("value of %d bytes, want 7", len(w.Value()))
		}
	})
}

func TestConfigValidate(t *testing.T) {
	c := Config{Dist: "pareto", Keys: 0, Skew: -1, ReadRatio: 2, ValueSize: -1}
	err := c.Validate()
	if err == nil {
		t.Fatal("bad config accepted")
	}
	for _, want := range []string{"pareto", "keys", "skew", "read ratio", "value size"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %s", err, want)
		}
	}
	if err := DefaultConfig().Validate(); err != nil {
		t.Fatal(err)
	}
}

func ExampleZipf() {
	z, _ := NewZipf(1000, 0.99)
	r := rand.New(rand.NewPCG(1, 2))
	hot := 0
	for range 10000 {
		if z.Next(r) < 10 {
			hot++
		}
	}
	fmt.Printf("P(rank < 10) exact %.2f, drawn about %.1f\n", sum(z, 10), float64(hot)/10000)
	// Output: P(rank < 10) exact 0.38, drawn about 0.4
}

func sum(z *Zipf, k uint64) float64 {
	var p float64
	for i := range k {
		p += z.Prob(i)
	}
	return p
}
