package xfetch

import (
	"math/rand/v2"
	"sync"
	"testing"
)

func TestRandOr(t *testing.T) {
	t.Run("nil is the global source", func(t *testing.T) {
		var r Rand
		got := r.Or()
		if got == nil {
			t.Fatal("Or returned nil")
		}
		var wg sync.WaitGroup
		for range 8 { // goroutine-safe: the race detector would object otherwise
			wg.Go(func() {
				for range 100 {
					if v := got(); v < 0 || v >= 1 {
						t.Errorf("Or()() = %v, outside [0,1)", v)
					}
				}
			})
		}
		wg.Wait()
	})
	t.Run("non-nil is kept", func(t *testing.T) {
		seeded := rand.New(rand.NewPCG(1, 1))
		want := rand.New(rand.NewPCG(1, 1)).Float64()
		if got := Rand(seeded.Float64).Or()(); got != want {
			t.Errorf("Or()() = %v, want the seeded source's %v", got, want)
		}
	})
}
