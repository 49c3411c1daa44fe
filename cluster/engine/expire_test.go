package engine

import (
	"context"
	"runtime"
	"strconv"
	"testing"
	"time"
)

func TestExpireTickBoundedByBudget(t *testing.T) {
	tests := []struct {
		name       string
		partitions int
		budget     int
		expiring   int // keys expiring at t0+10
		lasting    int // keys expiring at t0+1h
		plain      int // keys without a deadline
	}{
		{"all in one tick", 16, 2000, 500, 100, 100},
		{"many ticks", 16, 100, 1000, 100, 100},
		{"budget smaller than a lock chunk", 4, 7, 300, 10, 10},
		{"one partition", 1, 50, 777, 10, 10},
		{"budget of one", 8, 1, 40, 5, 5},
		{"more partitions than keys", 4096, 10, 25, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, _ := newTestEngine(t, func(c *Config) {
				c.Partitions = tt.partitions
				c.ExpiryBudget = tt.budget
			})
			for i := range tt.expiring {
				set(e, "e"+strconv.Itoa(i), "v", t0+10, t0)
			}
			for i := range tt.lasting {
				set(e, "l"+strconv.Itoa(i), "v", t0+3_600_000, t0)
			}
			for i := range tt.plain {
				set(e, "p"+strconv.Itoa(i), "v", 0, t0)
			}
			if n := e.ExpireTick(t0 + 9); n != 0 {
				t.Fatalf("tick before any deadline examined %d", n)
			}
			now := t0 + 10
			// A tick examines its whole budget unless nothing due is left,
			// and every record it examines is due except at most one per
			// partition it drains, which follows at least one due record.
			// So each tick expires at least half its budget.
			maxTicks := 2*((tt.expiring+tt.budget-1)/tt.budget) + 1
			ticks := 0
			for e.Stats().ExpiredTotal < int64(tt.expiring) {
				if ticks++; ticks > maxTicks {
					t.Fatalf("%d of %d expired after %d ticks", e.Stats().ExpiredTotal, tt.expiring, maxTicks)
				}
				if n := e.ExpireTick(now); n > tt.budget {
					t.Fatalf("tick %d examined %d records, budget %d", ticks, n, tt.budget)
				}
			}
			s := e.Stats()
			if s.Keys != tt.lasting+tt.plain || s.Expires != tt.lasting || s.Tombstones != tt.expiring {
				t.Fatalf("stats after expiry = %+v", s)
			}
			if n := e.ExpireTick(now); n != 0 {
				t.Fatalf("tick with nothing due examined %d", n)
			}
			checkInvariants(t, e)
		})
	}
}

func TestTombstonesHideAndAreCollected(t *testing.T) {
	e, fc := newTestEngine(t, func(c *Config) { c.TombstoneTTL = time.Minute })
	set(e, "deleted", "v", 0, t0)
	set(e, "expiring", "v", t0+1000, t0)
	set(e, "kept", "v", 0, t0)
	e.Delete([]byte("deleted"), t0)
	fc.Advance(time.Second)
	now := fc.Now().UnixMilli()
	e.ExpireTick(now)

	for _, k := range []string{"deleted", "expiring"} {
		if _, ok := get(e, k, now); ok {
			t.Errorf("%s visible", k)
		}
		var seen bool
		e.Scan(0, 100, now, func(key []byte, _ Record) { seen = seen || string(key) == k })
		if seen {
			t.Errorf("%s returned by Scan", k)
		}
	}
	if s := e.Stats(); s.Tombstones != 2 || s.Keys != 1 {
		t.Fatalf("stats = %+v, want 2 tombstones and 1 key", s)
	}

	steps := []struct {
		at    int64 // ms after t0
		tombs int
	}{
		{60_000 - 1, 2}, // the deleted key died at t0
		{60_000, 1},     // collected a minute after
		{61_000 - 1, 1}, // the expired key died at t0+1000
		{61_000, 0},     // collected a minute after its deadline
		{120_000, 0},
	}
	for _, s := range steps {
		e.ExpireTick(t0 + s.at)
		if got := e.Stats().Tombstones; got != s.tombs {
			t.Fatalf("at +%dms tombstones = %d, want %d", s.at, got, s.tombs)
		}
	}
	if v, ok := get(e, "kept", t0+120_000); !ok || v != "v" {
		t.Fatal("the key without deadline was touched")
	}
	checkInvariants(t, e)
}

func TestExpireTickResumesRoundRobin(t *testing.T) {
	// With a budget of one and one due record per partition, consecutive
	// ticks must walk the partitions instead of revisiting the first.
	e, _ := newTestEngine(t, func(c *Config) {
		c.Partitions = 8
		c.ExpiryBudget = 1
	})
	perPart := map[int]bool{}
	for i := 0; len(perPart) < 8; i++ {
		k := "k" + strconv.Itoa(i)
		if p := e.Partition([]byte(k)); !perPart[p] {
			perPart[p] = true
			set(e, k, "v", t0+1, t0)
		}
	}
	for tick := 1; tick <= 8; tick++ {
		e.ExpireTick(t0 + 1)
		if got := e.Stats().ExpiredTotal; got != int64(tick) {
			t.Fatalf("after tick %d expired %d", tick, got)
		}
	}
}

func TestRunExpiresWithInjectedClock(t *testing.T) {
	e, fc := newTestEngine(t, func(c *Config) { c.ExpiryInterval = time.Millisecond })
	set(e, "k", "v", t0+5000, t0)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- e.Run(ctx) }()

	fc.Advance(5 * time.Second)
	deadline := time.Now().Add(5 * time.Second)
	for e.Stats().ExpiredTotal == 0 {
		if time.Now().After(deadline) {
			t.Fatal("Run did not expire the key")
		}
		runtime.Gosched()
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Run = %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return after cancel")
	}
}
