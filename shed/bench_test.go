package shed

import (
	"context"
	"testing"
)

// BenchmarkAcquireRelease measures an uncontended Acquire and Release, with
// the Limiter disabled and enabled. Run with -benchmem: both allocate 0
// times per op.
func BenchmarkAcquireRelease(b *testing.B) {
	b.Run("disabled", func(b *testing.B) { benchmarkAcquireRelease(b, 0) })
	b.Run("enabled", func(b *testing.B) { benchmarkAcquireRelease(b, DefaultMaxInflight) })
}

func benchmarkAcquireRelease(b *testing.B, maxInflight int) {
	l := newLimiter(b, LimiterConfig{MaxInflight: maxInflight, QueueTimeout: DefaultQueueTimeout})
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		tk, err := l.Acquire(ctx)
		if err != nil {
			b.Fatal(err)
		}
		tk.Release(Success)
	}
}

// BenchmarkAcquireReleaseParallel measures Acquire and Release from
// GOMAXPROCS goroutines under a limit they do not reach.
func BenchmarkAcquireReleaseParallel(b *testing.B) {
	l := newLimiter(b, LimiterConfig{MaxInflight: 1 << 20, InitialLimit: 1 << 20})
	ctx := context.Background()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			tk, err := l.Acquire(ctx)
			if err != nil {
				b.Fatal(err)
			}
			tk.Release(Success)
		}
	})
}

// BenchmarkRateAllow measures Allow for a known client with both limits on.
func BenchmarkRateAllow(b *testing.B) {
	r := newRate(b, RateConfig{Rate: 1e12, PerClientRate: 1e12})
	b.ReportAllocs()
	for b.Loop() {
		if err := r.Allow("10.0.0.1"); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkBreakerAllow measures Allow and done on a closed Breaker.
func BenchmarkBreakerAllow(b *testing.B) {
	br, _ := NewBreaker(BreakerConfig{})
	b.ReportAllocs()
	for b.Loop() {
		done, err := br.Allow()
		if err != nil {
			b.Fatal(err)
		}
		done(nil)
	}
}
