package collapse

import (
	"context"
	"runtime"
	"strconv"
	"sync/atomic"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

func BenchmarkDoUncontended(b *testing.B) {
	g := New[int](Config{Registerer: prometheus.NewRegistry(), Name: "bench"})
	ctx := context.Background()
	fn := func(context.Context) (int, error) { return 1, nil }
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := g.Do(ctx, "k", fn); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDoContended1(b *testing.B)    { benchmarkDoContended(b, 1) }
func BenchmarkDoContended16(b *testing.B)   { benchmarkDoContended(b, 16) }
func BenchmarkDoContended1024(b *testing.B) { benchmarkDoContended(b, 1024) }

// benchmarkDoContended runs Do from GOMAXPROCS goroutines over keys distinct
// keys, with a function that yields once so that flights overlap.
func benchmarkDoContended(b *testing.B, keys int) {
	reg := prometheus.NewRegistry()
	g := New[int](Config{Registerer: reg, Name: "bench"})
	names := make([]string, keys)
	for i := range names {
		names[i] = "key:" + strconv.Itoa(i)
	}
	fn := func(context.Context) (int, error) { runtime.Gosched(); return 1, nil }
	var next atomic.Uint64
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		ctx := context.Background()
		i := next.Add(1)
		for pb.Next() {
			i++
			if _, _, err := g.Do(ctx, names[i%uint64(keys)], fn); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(gather(b, reg, "corral_collapsed_total", "bench")/float64(b.N), "collapsed/op")
}
