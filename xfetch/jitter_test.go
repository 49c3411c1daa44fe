package xfetch

import (
	"math"
	"math/rand/v2"
	"testing"
	"time"
)

func TestJitter(t *testing.T) {
	tests := []struct {
		name string
		ttl  time.Duration
		frac float64
		r    float64
		want time.Duration
	}{
		{"frac 0 exact", time.Minute, 0, 0.99, time.Minute},
		{"negative frac exact", time.Minute, -0.5, 0.99, time.Minute},
		{"NaN frac exact", time.Minute, math.NaN(), 0.99, time.Minute},
		{"ttl 0 unchanged", 0, 0.1, 0.5, 0},
		{"negative ttl unchanged", -time.Second, 0.1, 0.5, -time.Second},
		{"r 0 exact", time.Minute, 0.1, 0, time.Minute},
		{"half", time.Minute, 0.1, 0.5, time.Minute + 3*time.Second},
		{"frac 1", 10 * time.Second, 1, 0.25, 12500 * time.Millisecond},
		{"r near 1", 10 * time.Second, 0.1, 0.999, 10999 * time.Millisecond},
		{"r above 1 clamps", 10 * time.Second, 0.1, 5, 11 * time.Second},
		{"negative r clamps", 10 * time.Second, 0.1, -5, 10 * time.Second},
		{"NaN r clamps", 10 * time.Second, 0.1, math.NaN(), 10 * time.Second},
		{"infinite frac, r 0", time.Second, math.Inf(1), 0, time.Second},
		{"infinite frac saturates", time.Second, math.Inf(1), 0.5, math.MaxInt64},
		{"huge ttl saturates", math.MaxInt64 - 10, 0.5, 0.5, math.MaxInt64},
		{"max ttl stays", math.MaxInt64, 0.5, 0.5, math.MaxInt64},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Jitter(tt.ttl, tt.frac, tt.r); got != tt.want {
				t.Errorf("Jitter(%v, %v, %v) = %v, want %v", tt.ttl, tt.frac, tt.r, got, tt.want)
			}
		})
	}
}

func TestJitterBounds(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	fracs := []float64{0.01, 0.1, 0.5, 1, 3}
	ttls := []time.Duration{1, time.Millisecond, time.Second, time.Hour, 365 * 24 * time.Hour}
	for i := range 10000 {
		ttl, frac := ttls[i%len(ttls)], fracs[i%len(fracs)]
		got := Jitter(ttl, frac, rng.Float64())
		if got < ttl {
			t.Fatalf("Jitter(%v, %v) = %v, shorter than the TTL", ttl, frac, got)
		}
		if float64(got) > float64(ttl)*(1+frac) {
			t.Fatalf("Jitter(%v, %v) = %v, longer than (1+frac)*ttl", ttl, frac, got)
		}
	}
}

func TestJitterSpreads(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	seen := map[time.Duration]bool{}
	for range 100 {
		seen[Jitter(time.Minute, 0.1, rng.Float64())] = true
	}
	if len(seen) < 90 {
		t.Errorf("100 jittered TTLs took only %d distinct values", len(seen))
	}
}

func TestBackoff(t *testing.T) {
	tests := []struct {
		name    string
		attempt int
		base    time.Duration
		max     time.Duration
		r       float64
		want    time.Duration
	}{
		{"attempt 0", 0, 100 * time.Millisecond, 10 * time.Second, 0.5, 50 * time.Millisecond},
		{"attempt 1", 1, 100 * time.Millisecond, 10 * time.Second, 0.5, 100 * time.Millisecond},
		{"attempt 3", 3, 100 * time.Millisecond, 10 * time.Second, 0.5, 400 * time.Millisecond},
		{"capped", 10, 100 * time.Millisecond, 10 * time.Second, 0.5, 5 * time.Second},
		{"r 0", 5, 100 * time.Millisecond, 10 * time.Second, 0, 0},
		{"r near 1", 0, time.Second, 10 * time.Second, 0.999, 999 * time.Millisecond},
		{"r above 1 clamps", 0, time.Second, 10 * time.Second, 7, time.Second},
		{"negative r clamps", 0, time.Second, 10 * time.Second, -7, 0},
		{"NaN r clamps", 0, time.Second, 10 * time.Second, math.NaN(), 0},
		{"negative attempt", -3, time.Second, 10 * time.Second, 0.5, 500 * time.Millisecond},
		{"max below base", 0, time.Second, 100 * time.Millisecond, 0.5, 50 * time.Millisecond},
		{"base 0", 3, 0, time.Second, 0.5, 0},
		{"max 0", 3, time.Second, 0, 0.5, 0},
		{"attempt 62", 62, 1, math.MaxInt64, 0.5, 1 << 61},
		{"attempt 63", 63, 1, math.MaxInt64, 0.5, math.MaxInt64 / 2},
		{"attempt 100", 100, 100 * time.Millisecond, 30 * time.Second, 0.5, 15 * time.Second},
		{"attempt 100 unbounded max", 100, time.Second, math.MaxInt64, 0.5, math.MaxInt64 / 2},
		{"max attempt", math.MaxInt, time.Second, time.Minute, 0.5, 30 * time.Second},
		{"max duration r 1", 100, time.Second, math.MaxInt64, 1, math.MaxInt64},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Backoff(tt.attempt, tt.base, tt.max, tt.r)
			// float64 has 53 bits: allow its rounding on huge values.
			if diff := math.Abs(float64(got) - float64(tt.want)); diff > float64(tt.want)*1e-15 {
				t.Errorf("Backoff(%d, %v, %v, %v) = %v, want %v", tt.attempt, tt.base, tt.max, tt.r, got, tt.want)
			}
		})
	}
}

func TestBackoffBounds(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 14))
	const base, max = 10 * time.Millisecond, 5 * time.Second
	for attempt := range 101 {
		ceiling := max
		if attempt < 30 {
			ceiling = min(max, base<<attempt)
		}
		for range 100 {
			got := Backoff(attempt, base, max, rng.Float64())
			if got < 0 || got >= ceiling {
				t.Fatalf("Backoff(%d) = %v, outside [0, %v)", attempt, got, ceiling)
			}
		}
	}
}
