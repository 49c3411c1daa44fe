package hist

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

// exactQuantile is the nearest-rank quantile of sorted values.
func exactQuantile(sorted []int64, q float64) int64 {
	rank := max(int(math.Ceil(q*float64(len(sorted)))), 1)
	return sorted[rank-1]
}

func TestQuantilesMatchExactWithinBound(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	datasets := []struct {
		name string
		gen  func(i int) int64
		n    int
	}{
		{"1 to 10000", func(i int) int64 { return int64(i + 1) }, 10000},
		{"small exact values", func(i int) int64 { return int64(i % 200) }, 5000},
		{"uniform microseconds to seconds", func(int) int64 { return 1000 + r.Int64N(int64(time.Second)) }, 20000},
		{"lognormal latencies", func(int) int64 { return int64(math.Exp(r.NormFloat64()*1.5+14)) + 1 }, 50000},
		{"bimodal 1ms and 2s", func(i int) int64 {
			if i%100 == 0 {
				return int64(2*time.Second) + r.Int64N(int64(time.Millisecond))
			}
			return int64(time.Millisecond) + r.Int64N(1000)
		}, 30000},
	}
	qs := []float64{0, 0.001, 0.1, 0.5, 0.9, 0.99, 0.999, 0.9999, 1}
	for _, ds := range datasets {
		t.Run(ds.name, func(t *testing.T) {
			h := New()
			vals := make([]int64, ds.n)
			for i := range vals {
				vals[i] = ds.gen(i)
				h.Record(vals[i])
			}
			slices.Sort(vals)
			if h.Count() != uint64(ds.n) {
				t.Fatalf("Count = %d, want %d", h.Count(), ds.n)
			}
			if h.Min() != vals[0] || h.Max() != vals[len(vals)-1] {
				t.Fatalf("Min, Max = %d, %d; want %d, %d", h.Min(), h.Max(), vals[0], vals[len(vals)-1])
			}
			for _, q := range qs {
				want := exactQuantile(vals, q)
				got := h.Quantile(q)
				if got < want || float64(got-want) > RelativeError*float64(want) {
					t.Errorf("Quantile(%v) = %d, exact %d: want within [exact, exact*(1+%v)]", q, got, want, RelativeError)
				}
			}
		})
	}
}

func TestExactBelowSubBucketRange(t *testing.T) {
	h := New()
	for v := int64(0); v < 1<<subBits; v++ {
		h.Record(v)
	}
	for v := int64(1); v < 1<<subBits; v++ {
		q := float64(v+1) / float64(1<<subBits)
		if got := h.Quantile(q); got != v {
			t.Fatalf("Quantile(%v) = %d, want exactly %d", q, got, v)
		}
	}
}

func TestBucketsAreContiguous(t *testing.T) {
	// Every bucket's top is one below the next bucket's first value.
	for i := 0; i < numBuckets-1; i++ {
		top := upper(i)
		if index(top) != i || index(top+1) != i+1 {
			t.Fatalf("bucket %d: top %d maps to %d, top+1 to %d", i, top, index(top), index(top+1))
		}
	}
	if got := index(math.MaxInt64); got != numBuckets-1 {
		t.Fatalf("index(MaxInt64) = %d, want the top bucket %d", got, numBuckets-1)
	}
}

func TestMergeEqualsRecordingTogether(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	a, b, all := New(), New(), New()
	for i := range 10000 {
		v := r.Int64N(int64(10 * time.Second))
		all.Record(v)
		if i%3 == 0 {
			a.Record(v)
		} else {
			b.Record(v)
		}
	}
	a.Merge(b)
	for _, q := range []float64{0, 0.5, 0.99, 1} {
		if a.Quantile(q) != all.Quantile(q) {
			t.Errorf("merged Quantile(%v) = %d, want %d", q, a.Quantile(q), all.Quantile(q))
		}
	}
	if a.Count() != all.Count() || a.Min() != all.Min() || a.Max() != all.Max() || math.Abs(a.Mean()-all.Mean()) > 1e-6*all.Mean() {
		t.Errorf("merged summary differs: %d %d %d %v vs %d %d %d %v", a.Count(), a.Min(), a.Max(), a.Mean(), all.Count(), all.Min(), all.Max(), all.Mean())
	}
}

func TestEmptyResetAndNegative(t *testing.T) {
	h := New()
	if h.Quantile(0.5) != 0 || h.Min() != 0 || h.Max() != 0 || h.Mean() != 0 {
		t.Fatal("empty histogram should report zeros")
	}
	h.Record(-5)
	if h.Min() != 0 || h.Count() != 1 {
		t.Fatalf("negative value: Min %d Count %d, want 0 and 1", h.Min(), h.Count())
	}
	h.RecordDuration(3 * time.Second)
	h.Reset()
	if h.Count() != 0 || h.Max() != 0 || h.Quantile(1) != 0 {
		t.Fatal("Reset left values behind")
	}
	h.RecordN(100, 3)
	if h.Count() != 3 || h.Mean() != 100 {
		t.Fatalf("RecordN: Count %d Mean %v", h.Count(), h.Mean())
	}
}

func BenchmarkRecord(b *testing.B) {
	h := New()
	for i := range b.N {
		h.Record(int64(i) * 7919)
	}
}

func ExampleHistogram() {
	h := New()
	for ms := 1; ms <= 100; ms++ {
		h.RecordDuration(time.Duration(ms) * time.Millisecond)
	}
	fmt.Println(h.Count(), h.QuantileDuration(0.5).Round(time.Millisecond), h.QuantileDuration(0.99).Round(time.Millisecond), time.Duration(h.Max()))
	// Output: 100 50ms 99ms 100ms
}
