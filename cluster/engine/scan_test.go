package engine

import (
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// fullScan runs a whole SCAN iteration and returns how often each key came
// back, checking that every call but the last honours the count hint.
func fullScan(t *testing.T, e *Engine, count int, nowMs int64) map[string]int {
	t.Helper()
	seen := map[string]int{}
	cursor := uint64(0)
	for calls := 0; ; calls++ {
		if calls > 1_000_000 {
			t.Fatal("scan does not terminate")
		}
		n := 0
		cursor = e.Scan(cursor, count, nowMs, func(k []byte, r Record) {
			if r.Tombstone || r.expired(nowMs) {
				t.Errorf("Scan returned dead key %q", k)
			}
			seen[string(k)]++
			n++
		})
		if cursor == 0 {
			return seen
		}
		if n < count {
			t.Errorf("call %d returned %d keys, count %d, cursor %d", calls, n, count, cursor)
		}
	}
}

func TestScanReturnsEveryKeyOnce(t *testing.T) {
	tests := []struct {
		partitions, keys, count int
	}{
		{1, 0, 10},
		{1, 5000, 1}, // one big partition: split by position
		{1, 5000, 300},
		{3, 2000, 7},
		{16, 3000, 10},
		{16, 3000, 100_000},
		{4096, 1000, 10}, // mostly empty partitions
		{4096, 20, 0},    // default count
	}
	for _, tt := range tests {
		t.Run("p"+strconv.Itoa(tt.partitions)+"_k"+strconv.Itoa(tt.keys)+"_c"+strconv.Itoa(tt.count), func(t *testing.T) {
			e, _ := newTestEngine(t, func(c *Config) { c.Partitions = tt.partitions })
			for i := range tt.keys {
				set(e, "key:"+strconv.Itoa(i), strconv.Itoa(i), 0, t0)
			}
			// Dead keys are skipped.
			set(e, "expired", "x", t0, t0-1)
			set(e, "deleted", "x", 0, t0)
			e.Delete([]byte("deleted"), t0)

			seen := fullScan(t, e, max(tt.count, 1), t0)
			if len(seen) != tt.keys {
				t.Fatalf("saw %d distinct keys, want %d", len(seen), tt.keys)
			}
			for k, n := range seen {
				if n != 1 {
					t.Errorf("key %q returned %d times", k, n)
				}
			}
		})
	}
}

func TestScanInvalidCursorEnds(t *testing.T) {
	e, _ := newTestEngine(t, func(c *Config) { c.Partitions = 3 })
	set(e, "k", "v", 0, t0)
	if got := e.Scan(^uint64(0), 10, t0, func([]byte, Record) {}); got != 0 {
		t.Fatalf("Scan(invalid) = %d, want 0", got)
	}
}

func TestScanKeysMayBeKept(t *testing.T) {
	e, _ := newTestEngine(t, func(c *Config) { c.Partitions = 1 })
	for i := range 100 {
		set(e, "key:"+strconv.Itoa(i), "v", 0, t0)
	}
	var kept [][]byte
	e.Scan(0, 1000, t0, func(k []byte, _ Record) { kept = append(kept, k) })
	seen := map[string]bool{}
	for _, k := range kept {
		seen[string(k)] = true
	}
	if len(seen) != 100 {
		t.Fatalf("kept keys were overwritten: %d distinct of 100", len(seen))
	}
}

// TestScanUnderConcurrentWrites checks the SCAN guarantee: keys present for
// the whole iteration are returned while other keys are inserted, deleted and
// overwritten concurrently.
func TestScanUnderConcurrentWrites(t *testing.T) {
	for _, parts := range []int{1, 16} {
		t.Run("partitions="+strconv.Itoa(parts), func(t *testing.T) {
			e, _ := newTestEngine(t, func(c *Config) { c.Partitions = parts })
			const stable = 3000
			for i := range stable {
				set(e, "stable:"+strconv.Itoa(i), "v", 0, t0)
			}
			var stop atomic.Bool
			var wg sync.WaitGroup
			for w := range 4 {
				wg.Go(func() {
					for i := 0; !stop.Load(); i++ {
						k := "churn:" + strconv.Itoa(w) + ":" + strconv.Itoa(i%500)
						if i%3 == 2 {
							e.Delete([]byte(k), t0)
						} else {
							set(e, k, strconv.Itoa(i), 0, t0)
						}
						if i%7 == 0 { // overwrite stable keys: they stay present
							set(e, "stable:"+strconv.Itoa(i%stable), strconv.Itoa(i), 0, t0)
						}
					}
				})
			}
			for round := range 5 {
				seen := fullScan(t, e, 1+round*50, t0)
				for i := range stable {
					if seen["stable:"+strconv.Itoa(i)] == 0 {
						t.Fatalf("round %d: stable:%d missing", round, i)
					}
				}
			}
			stop.Store(true)
			wg.Wait()
			checkInvariants(t, e)
		})
	}
}

func TestPartitionRecords(t *testing.T) {
	e, fc := newTestEngine(t, func(c *Config) { c.Partitions = 1 })
	set(e, "live", "v", 0, t0)
	set(e, "expires", "v", t0+10, t0)
	set(e, "gone", "v", 0, t0)
	e.Delete([]byte("gone"), t0)

	tests := []struct {
		name string
		now  int64
		want map[string]bool // key -> tombstone
	}{
		{"before deadline", t0, map[string]bool{"live": false, "expires": false, "gone": true}},
		{"after deadline", t0 + 10, map[string]bool{"live": false, "expires": true, "gone": true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fc.Set(time.UnixMilli(tt.now))
			got := map[string]bool{}
			e.PartitionRecords(0, func(k []byte, r Record) bool {
				got[string(k)] = r.Tombstone
				if r.Tombstone && r.Value != nil {
					t.Errorf("tombstone %q carries a value", k)
				}
				return true
			})
			if len(got) != len(tt.want) {
				t.Fatalf("got %v, want %v", got, tt.want)
			}
			for k, tomb := range tt.want {
				if g, ok := got[k]; !ok || g != tomb {
					t.Errorf("%s: tombstone=%v present=%v, want tombstone=%v", k, g, ok, tomb)
				}
			}
		})
	}

	calls := 0
	e.PartitionRecords(0, func([]byte, Record) bool { calls++; return false })
	if calls != 1 {
		t.Fatalf("fn called %d times after returning false", calls)
	}
	e.PartitionRecords(1, func([]byte, Record) bool { t.Fatal("out of range partition"); return true })
	e.PartitionRecords(-1, func([]byte, Record) bool { t.Fatal("negative partition"); return true })
}
