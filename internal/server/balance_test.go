package server

import "testing"

func TestBalancer(t *testing.T) {
	steps := func(b *balancer, busy []float64, n int) (active int) {
		for range n {
			active = b.step(busy)
		}
		return active
	}
	b := &balancer{max: 3, active: 1}
	if got := steps(b, []float64{0.85}, 20); got != 1 {
		t.Fatalf("one loop 85%% busy: %d active, want 1 (not saturated)", got)
	}
	if got := b.step([]float64{0.95}); got != 1 {
		t.Fatalf("one saturated measurement: %d active, want 1 (needs %d)", got, hotIntervals)
	}
	if got := b.step([]float64{0.5}); got != 1 {
		t.Fatalf("%d active, want 1", got)
	}
	if got := steps(b, []float64{0.95}, hotIntervals); got != 2 {
		t.Fatalf("saturated for %d measurements: %d active, want 2", hotIntervals, got)
	}
	if got := steps(b, []float64{0.5, 0.99}, hotIntervals); got != 3 {
		t.Fatalf("one of two saturated: %d active, want 3", got)
	}
	if got := steps(b, []float64{0.99, 0.99, 0.99}, 10); got != 3 {
		t.Fatalf("all saturated: %d active, want the maximum 3", got)
	}
	// Three loops at 30%: 0.9 in all, more than two at 40% take; at 25%
	// each, two would do.
	if got := steps(b, []float64{0.3, 0.3, 0.3}, 20); got != 3 {
		t.Fatalf("three loops at 30%%: %d active, want 3", got)
	}
	if got := steps(b, []float64{0.25, 0.25, 0.25}, coldIntervals-1); got != 3 {
		t.Fatalf("%d active after %d cold measurements, want 3", got, coldIntervals-1)
	}
	if got := b.step([]float64{0.25, 0.25, 0.25}); got != 2 {
		t.Fatalf("%d active after %d cold measurements, want 2", got, coldIntervals)
	}
	if got := steps(b, []float64{0.25, 0.25}, 20); got != 2 {
		t.Fatalf("two loops at 25%%: %d active, want 2 (one would be at 50%%)", got)
	}
	if got := steps(b, []float64{0.1, 0.1}, coldIntervals); got != 1 {
		t.Fatalf("two idle loops: %d active, want 1", got)
	}
	if got := steps(b, []float64{0}, 20); got != 1 {
		t.Fatalf("%d active, want at least 1", got)
	}
}
