package xfetch

import (
	"math"
	"math/rand/v2"
	"testing"
	"time"
)

var t0 = time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)

func TestShouldRefresh(t *testing.T) {
	tests := []struct {
		name  string
		gap   time.Duration // expiry - now
		delta time.Duration
		beta  float64
		r     float64
		want  bool
	}{
		{"expired", -time.Second, time.Second, 1, 1, true},
		{"exactly at expiry", 0, time.Second, 1, 1, true},
		{"expired, beta 0", -time.Second, time.Second, 0, minR, true},
		{"at expiry, delta 0", 0, 0, 1, minR, true},
		{"r 1 never early", time.Nanosecond, time.Hour, 1, 1, false},
		{"beta 0 never early", time.Nanosecond, time.Hour, 0, minR, false},
		{"negative beta never early", time.Nanosecond, time.Hour, -1, minR, false},
		{"NaN beta never early", time.Nanosecond, time.Hour, math.NaN(), minR, false},
		{"delta 0 never early", time.Nanosecond, 0, 1, minR, false},
		{"negative delta never early", time.Nanosecond, -time.Second, 1, minR, false},
		// -ln(1/e) = 1, so the reader refreshes exactly delta*beta early.
		{"at the boundary", time.Second, time.Second, 1, 1 / math.E, true},
		{"just outside the boundary", time.Second + time.Millisecond, time.Second, 1, 1 / math.E, false},
		{"beta scales the boundary", 2 * time.Second, time.Second, 2, 1 / math.E, true},
		{"beta scales the boundary, outside", 2*time.Second + time.Millisecond, time.Second, 2, 1 / math.E, false},
		{"smallest r reaches far", 36 * time.Second, time.Second, 1, minR, true},
		{"smallest r has a limit", 37 * time.Second, time.Second, 1, minR, false},
		{"r 0 clamps to 2^-53", 36 * time.Second, time.Second, 1, 0, true},
		{"r 0 is bounded too", 37 * time.Second, time.Second, 1, 0, false},
		{"negative r clamps", 37 * time.Second, time.Second, 1, -1, false},
		{"NaN r clamps", 37 * time.Second, time.Second, 1, math.NaN(), false},
		{"r above 1 clamps to 1", time.Nanosecond, time.Hour, 1, 2, false},
		{"far future expiry", math.MaxInt64, time.Hour, 1, minR, false},
		{"huge delta and beta", time.Hour, math.MaxInt64, math.MaxFloat64, 0.5, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := ShouldRefresh(t0, t0.Add(tt.gap), tt.delta, tt.beta, tt.r)
			if got != tt.want {
				t.Errorf("ShouldRefresh(gap %v, delta %v, beta %v, r %v) = %v, want %v",
					tt.gap, tt.delta, tt.beta, tt.r, got, tt.want)
			}
		})
	}
}

// refreshRate draws n seeded values of r and returns the fraction of readers
// that refresh early.
func refreshRate(gap, delta time.Duration, beta float64, n int) float64 {
	rng := rand.New(rand.NewPCG(1, 2))
	hits := 0
	for range n {
		if ShouldRefresh(t0, t0.Add(gap), delta, beta, 1-rng.Float64()) {
			hits++
		}
	}
	return float64(hits) / float64(n)
}

func TestShouldRefreshProbability(t *testing.T) {
	const n = 10000
	const tol = 0.02 // four standard deviations of a proportion at n = 10,000
	tests := []struct {
		name  string
		delta time.Duration
		beta  float64
		gaps  []time.Duration // decreasing: expiry nears
	}{
		{"delta 100ms", 100 * time.Millisecond, 1,
			[]time.Duration{time.Second, 500 * time.Millisecond, 200 * time.Millisecond, 100 * time.Millisecond, 50 * time.Millisecond, 10 * time.Millisecond}},
		{"delta 1s", time.Second, 1,
			[]time.Duration{4 * time.Second, 2 * time.Second, time.Second, 500 * time.Millisecond, 100 * time.Millisecond}},
		{"delta 1s beta 2", time.Second, 2,
			[]time.Duration{8 * time.Second, 4 * time.Second, 2 * time.Second, time.Second, 100 * time.Millisecond}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			prev := -1.0
			for _, gap := range tt.gaps {
				got := refreshRate(gap, tt.delta, tt.beta, n)
				want := math.Exp(-float64(gap) / (float64(tt.delta) * tt.beta))
				if math.Abs(got-want) > tol {
					t.Errorf("gap %v: early refresh rate %.4f, want exp(-gap/(delta*beta)) = %.4f ± %v", gap, got, want, tol)
				}
				if got <= prev {
					t.Errorf("gap %v: rate %.4f did not rise from %.4f as expiry neared", gap, got, prev)
				}
				prev = got
			}
		})
	}
}

func TestShouldRefreshRisesWithDelta(t *testing.T) {
	const gap = time.Second
	prev := -1.0
	for _, delta := range []time.Duration{50 * time.Millisecond, 200 * time.Millisecond, 500 * time.Millisecond, time.Second, 3 * time.Second} {
		got := refreshRate(gap, delta, 1, 10000)
		if got <= prev {
			t.Errorf("delta %v: rate %.4f did not rise from %.4f", delta, got, prev)
		}
		prev = got
	}
}

func TestShouldRefreshBetaZeroNeverEarly(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for i := range 10000 {
		gap := time.Duration(rng.Int64N(int64(time.Second))) + 1
		if ShouldRefresh(t0, t0.Add(gap), time.Hour, 0, 1-rng.Float64()) {
			t.Fatalf("draw %d: beta 0 refreshed %v before expiry", i, gap)
		}
	}
}

func TestHorizon(t *testing.T) {
	tests := []struct {
		name  string
		delta time.Duration
		beta  float64
		want  time.Duration // 0: only check the bound
	}{
		{"beta 0", time.Second, 0, 0},
		{"negative beta", time.Second, -1, 0},
		{"NaN beta", time.Second, math.NaN(), 0},
		{"delta 0", 0, 1, 0},
		{"negative delta", -time.Second, 1, 0},
		{"1ns", 1, 1, 37},
		{"1ms", time.Millisecond, 1, 0},
		{"1s", time.Second, 1, 0},
		{"1s beta 0.5", time.Second, 0.5, 0},
		{"1s beta 3", time.Second, 3, 0},
		{"7.3s beta 1.7", 7300 * time.Millisecond, 1.7, 0},
		{"1h", time.Hour, 1, 0},
		{"saturates", math.MaxInt64, 2, math.MaxInt64},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := Horizon(tt.delta, tt.beta)
			if tt.want != 0 && h != tt.want {
				t.Errorf("Horizon(%v, %v) = %v, want %v", tt.delta, tt.beta, h, tt.want)
			}
			if !(tt.beta > 0) || tt.delta <= 0 {
				if h != 0 {
					t.Errorf("Horizon(%v, %v) = %v, want 0", tt.delta, tt.beta, h)
				}
				return
			}
			if approx := 36.7368 * float64(tt.delta) * tt.beta; h < math.MaxInt64 && math.Abs(float64(h)-approx) > approx*1e-5+1 {
				t.Errorf("Horizon(%v, %v) = %v, want about 36.74*delta*beta = %v", tt.delta, tt.beta, h, time.Duration(approx))
			}
			if h == math.MaxInt64 {
				return
			}
			// Beyond the horizon not even the smallest r refreshes...
			for _, past := range []time.Duration{1, 2, time.Millisecond, time.Hour} {
				if ShouldRefresh(t0, t0.Add(h+past), tt.delta, tt.beta, minR) {
					t.Errorf("refresh fired %v beyond Horizon %v", past, h)
				}
			}
			// ...and just inside it, the smallest r does: the bound is tight.
			if !ShouldRefresh(t0, t0.Add(h-1), tt.delta, tt.beta, minR) {
				t.Errorf("no refresh 1ns inside Horizon %v with r = 2^-53", h)
			}
		})
	}
}

func TestHorizonBoundsRandomDraws(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for i := range 10000 {
		delta := time.Duration(rng.Int64N(int64(10*time.Second))) + 1
		beta := rng.Float64() * 4
		h := Horizon(delta, beta)
		gap := h + time.Duration(rng.Int64N(int64(time.Second))) + 1
		if ShouldRefresh(t0, t0.Add(gap), delta, beta, 1-rng.Float64()) {
			t.Fatalf("draw %d: refresh at %v before expiry, beyond Horizon(%v, %v) = %v", i, gap, delta, beta, h)
		}
	}
}

func BenchmarkShouldRefresh(b *testing.B) {
	rng := rand.New(rand.NewPCG(7, 8))
	expiry := t0.Add(time.Second)
	for b.Loop() {
		ShouldRefresh(t0, expiry, 100*time.Millisecond, 1, 1-rng.Float64())
	}
}

func BenchmarkHorizonSkip(b *testing.B) {
	expiry := t0.Add(time.Hour)
	h := Horizon(100*time.Millisecond, 1)
	for b.Loop() {
		if expiry.Sub(t0) <= h {
			b.Fatal("inside the horizon")
		}
	}
}
