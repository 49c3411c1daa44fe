package hlc

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"corral/internal/clock"
)

var epoch = time.UnixMilli(1_700_000_000_000)

// countHandler counts the records logged at Warn or above.
type countHandler struct{ warns *atomic.Int64 }

func (h countHandler) Enabled(context.Context, slog.Level) bool { return true }
func (h countHandler) Handle(_ context.Context, r slog.Record) error {
	if r.Level >= slog.LevelWarn {
		h.warns.Add(1)
	}
	return nil
}
func (h countHandler) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h countHandler) WithGroup(string) slog.Handler      { return h }

func TestTimestampParts(t *testing.T) {
	tests := []struct {
		name    string
		ts      Timestamp
		wall    int64
		logical uint16
		str     string
	}{
		{"zero", 0, 0, 0, "0.0"},
		{"wall only", FromWall(1_700_000_000_000, 0), 1_700_000_000_000, 0, "1700000000000.0"},
		{"with counter", FromWall(1_700_000_000_000, 3), 1_700_000_000_000, 3, "1700000000000.3"},
		{"negative wall clamps to zero", FromWall(-5, 1), 0, 1, "0.1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.ts.WallMs(); got != tt.wall {
				t.Errorf("WallMs = %d, want %d", got, tt.wall)
			}
			if got := tt.ts.Logical(); got != tt.logical {
				t.Errorf("Logical = %d, want %d", got, tt.logical)
			}
			if got := tt.ts.String(); got != tt.str {
				t.Errorf("String = %q, want %q", got, tt.str)
			}
		})
	}
	if !(FromWall(10, 65535) < FromWall(11, 0)) {
		t.Error("a later wall time must compare greater than any counter")
	}
}

// step is one action against a Clock: move the fake wall clock by advance,
// then call Now (remote == 0) or Update(remote), and expect want.
type step struct {
	advance time.Duration
	remote  Timestamp
	want    Timestamp
}

func TestClock(t *testing.T) {
	ms := epoch.UnixMilli()
	tests := []struct {
		name  string
		steps []step
	}{
		{"now follows the wall clock", []step{
			{0, 0, FromWall(ms, 0)},
			{time.Millisecond, 0, FromWall(ms+1, 0)},
			{time.Second, 0, FromWall(ms+1001, 0)},
		}},
		{"same millisecond bumps the counter", []step{
			{0, 0, FromWall(ms, 0)},
			{0, 0, FromWall(ms, 1)},
			{0, 0, FromWall(ms, 2)},
		}},
		{"monotonic when the wall clock goes backwards", []step{
			{0, 0, FromWall(ms, 0)},
			{-time.Minute, 0, FromWall(ms, 1)},
			{-time.Hour, 0, FromWall(ms, 2)},
			{time.Hour + time.Minute + time.Millisecond, 0, FromWall(ms+1, 0)},
		}},
		{"receive moves past a remote ahead of us", []step{
			{0, 0, FromWall(ms, 0)},
			{0, FromWall(ms+2000, 7), FromWall(ms+2000, 8)},
			{0, 0, FromWall(ms+2000, 9)},
		}},
		{"receive of an older remote still ticks", []step{
			{0, 0, FromWall(ms, 0)},
			{0, FromWall(ms-5000, 0), FromWall(ms, 1)},
		}},
		{"receive never lags the wall clock", []step{
			{0, 0, FromWall(ms, 0)},
			{time.Second, FromWall(ms-5000, 0), FromWall(ms+1000, 0)},
		}},
		{"remote within drift is kept", []step{
			{0, FromWall(ms+5000, 0), FromWall(ms+5000, 1)},
		}},
		{"remote beyond drift is clamped", []step{
			{0, FromWall(ms+60_000, 9), FromWall(ms+5000, 1)},
			{0, 0, FromWall(ms+5000, 2)},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fc := clock.NewFake(epoch)
			h := New(fc, nil)
			for i, s := range tt.steps {
				fc.Advance(s.advance)
				var got Timestamp
				if s.remote == 0 {
					got = h.Now()
				} else {
					got = h.Update(s.remote)
				}
				if got != s.want {
					t.Fatalf("step %d: got %v, want %v", i, got, s.want)
				}
			}
		})
	}
}

func TestClampWarnsRateLimited(t *testing.T) {
	var warns atomic.Int64
	fc := clock.NewFake(epoch)
	h := New(fc, slog.New(countHandler{&warns}))
	far := FromWall(epoch.UnixMilli()+time.Hour.Milliseconds(), 0)
	for range 10 {
		h.Update(far)
	}
	if got := warns.Load(); got != 1 {
		t.Fatalf("warnings after a burst = %d, want 1", got)
	}
	fc.Advance(warnEvery)
	h.Update(far)
	if got := warns.Load(); got != 2 {
		t.Fatalf("warnings after %v = %d, want 2", warnEvery, got)
	}
	if got := h.Clamped(); got != 11 {
		t.Fatalf("Clamped = %d, want 11", got)
	}
}

func TestConcurrentUnique(t *testing.T) {
	h := New(clock.NewFake(epoch), nil)
	const workers, each = 8, 1000
	out := make([][]Timestamp, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := range each {
				var ts Timestamp
				if i%3 == 0 {
					ts = h.Update(FromWall(epoch.UnixMilli(), uint16(i)))
				} else {
					ts = h.Now()
				}
				if n := len(out[w]); n > 0 && ts <= out[w][n-1] {
					t.Errorf("worker %d: %v after %v", w, ts, out[w][n-1])
				}
				out[w] = append(out[w], ts)
			}
		})
	}
	wg.Wait()
	seen := make(map[Timestamp]bool, workers*each)
	for _, l := range out {
		for _, ts := range l {
			if seen[ts] {
				t.Fatalf("timestamp %v issued twice", ts)
			}
			seen[ts] = true
		}
	}
}

func BenchmarkNow(b *testing.B) {
	h := New(nil, nil)
	b.ReportAllocs()
	for b.Loop() {
		h.Now()
	}
}
