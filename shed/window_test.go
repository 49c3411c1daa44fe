package shed

import (
	"testing"
	"time"
)

func TestReadyToTrip(t *testing.T) {
	tests := []struct {
		name  string
		c     counts
		min   uint32
		ratio float64
		want  bool
	}{
		{"empty", counts{}, 0, 0.5, false},
		{"below min requests", counts{successes: 0, failures: 9}, 10, 0.5, false},
		{"ratio reached at min", counts{successes: 5, failures: 5}, 10, 0.5, true},
		{"ratio below", counts{successes: 6, failures: 4}, 10, 0.5, false},
		{"ratio 0.3 exact", counts{successes: 7, failures: 3}, 10, 0.3, true},
		{"ratio 1 needs all failed", counts{successes: 1, failures: 99}, 10, 1, false},
		{"ratio 1 all failed", counts{failures: 10}, 10, 1, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := readyToTrip(tt.c, tt.min, tt.ratio); got != tt.want {
				t.Fatalf("readyToTrip(%+v, %d, %v) = %v, want %v", tt.c, tt.min, tt.ratio, got, tt.want)
			}
		})
	}
}

func TestWindowRolls(t *testing.T) {
	start := time.Unix(0, 0)
	at := func(d time.Duration) time.Time { return start.Add(d) }
	type rec struct {
		at     time.Duration
		failed bool
	}
	tests := []struct {
		name    string
		records []rec
		check   time.Duration
		want    counts
	}{
		{"same bucket", []rec{{0, true}, {500 * time.Millisecond, false}}, 999 * time.Millisecond, counts{1, 1}},
		{"still inside the window", []rec{{0, true}, {5 * time.Second, true}}, 9999 * time.Millisecond, counts{0, 2}},
		{"oldest bucket ages out", []rec{{0, true}, {5 * time.Second, true}}, 10 * time.Second, counts{0, 1}},
		{"everything ages out", []rec{{0, true}, {5 * time.Second, false}}, time.Hour, counts{}},
		{"clock going back keeps counts", []rec{{5 * time.Second, true}, {time.Second, false}}, 5 * time.Second, counts{1, 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWindow(10*time.Second, start)
			for _, r := range tt.records {
				w.record(at(r.at), r.failed)
			}
			w.advance(at(tt.check))
			if w.total != tt.want {
				t.Fatalf("total = %+v, want %+v", w.total, tt.want)
			}
			var sum counts
			for _, b := range w.buckets {
				sum.successes += b.successes
				sum.failures += b.failures
			}
			if sum != w.total {
				t.Fatalf("buckets sum to %+v, total says %+v", sum, w.total)
			}
		})
	}
}
