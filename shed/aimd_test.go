package shed

import (
	"testing"
	"time"
)

func TestAIMDNext(t *testing.T) {
	p := aimd{min: 4, max: 16, slow: 100 * time.Millisecond, backoff: 0.5}
	tests := []struct {
		name         string
		limit        float64
		o            Outcome
		rtt          time.Duration
		inflight     int
		fresh        bool
		want         float64
		wantDecrease bool
	}{
		{"ignored changes nothing", 8, Ignored, time.Hour, 8, true, 8, false},
		{"fast success in use grows by 1/limit", 8, Success, time.Millisecond, 4, true, 8.125, false},
		{"fast success from an old round grows too", 8, Success, time.Millisecond, 8, false, 8.125, false},
		{"fast success underused keeps", 8, Success, time.Millisecond, 3, true, 8, false},
		{"growth capped at max", 16, Success, time.Millisecond, 16, true, 16, false},
		{"latency at threshold is fast", 8, Success, 100 * time.Millisecond, 8, true, 8.125, false},
		{"slow success shrinks", 12, Success, 101 * time.Millisecond, 8, true, 6, true},
		{"failure shrinks", 12, Failure, time.Millisecond, 8, true, 6, true},
		{"failure from an old round keeps", 12, Failure, time.Millisecond, 8, false, 12, false},
		{"slow from an old round keeps", 12, Success, time.Second, 8, false, 12, false},
		{"shrink floored at min", 5, Failure, time.Millisecond, 5, true, 4, true},
		{"failure at min stays", 4, Failure, time.Millisecond, 4, true, 4, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, dec := p.next(tt.limit, tt.o, tt.rtt, tt.inflight, tt.fresh)
			if got != tt.want || dec != tt.wantDecrease {
				t.Fatalf("next(%v, %v, %v, %d, %v) = %v, %v; want %v, %v",
					tt.limit, tt.o, tt.rtt, tt.inflight, tt.fresh, got, dec, tt.want, tt.wantDecrease)
			}
		})
	}
}
