package shed

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"corral/internal/clock"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

func newLimiter(t testing.TB, cfg LimiterConfig) *Limiter {
	t.Helper()
	l, err := NewLimiter(cfg)
	if err != nil {
		t.Fatalf("NewLimiter: %v", err)
	}
	return l
}

// TestLimiterAdapts drives the limit through rounds: each round admits
// Limit() tickets, advances the fake clock by latency and releases them all
// with outcome.
func TestLimiterAdapts(t *testing.T) {
	tests := []struct {
		name    string
		outcome Outcome
		latency time.Duration
		rounds  int
		want    []int // Limit() after each round, then the rest equal the last
	}{
		// Releasing a round one by one, only the first half of the
		// releases find the limit in use, so it grows by about half a
		// slot per round.
		{"fast successes grow to max", Success, time.Millisecond, 40,
			[]int{8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13, 14, 14, 15, 15, 16}},
		{"failures shrink once per round to min", Failure, time.Millisecond, 20,
			[]int{7, 6, 5, 5, 4, 4}},
		{"slow successes shrink to min", Success, time.Second, 20,
			[]int{7, 6, 5, 5, 4, 4}},
		{"ignored keeps the limit", Ignored, time.Second, 5, []int{8}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clk := clock.NewFake(time.Unix(0, 0))
			l := newLimiter(t, LimiterConfig{MaxInflight: 16, MinLimit: 4, InitialLimit: 8,
				SlowLatency: 100 * time.Millisecond, Clock: clk})
			for round := range tt.rounds {
				n := l.Limit()
				tickets := make([]Ticket, n)
				for i := range tickets {
					tk, err := l.Acquire(context.Background())
					if err != nil {
						t.Fatalf("round %d: Acquire %d of %d: %v", round, i+1, n, err)
					}
					tickets[i] = tk
				}
				clk.Advance(tt.latency)
				for _, tk := range tickets {
					tk.Release(tt.outcome)
				}
				got := l.Limit()
				want := tt.want[min(round, len(tt.want)-1)]
				if got != want {
					t.Fatalf("after round %d: Limit = %d, want %d", round, got, want)
				}
				if got < 4 || got > 16 {
					t.Fatalf("after round %d: Limit %d outside [4, 16]", round, got)
				}
			}
			if got := l.Inflight(); got != 0 {
				t.Fatalf("Inflight = %d after releasing everything", got)
			}
		})
	}
}

func TestLimiterAdmitsUpToLimit(t *testing.T) {
	reg := prometheus.NewRegistry()
	l := newLimiter(t, LimiterConfig{Name: "origin", MaxInflight: 8, MinLimit: 2, InitialLimit: 3, Registerer: reg})
	var tickets []Ticket
	for i := range 3 {
		tk, err := l.Acquire(context.Background())
		if err != nil {
			t.Fatalf("Acquire %d: %v", i, err)
		}
		tickets = append(tickets, tk)
	}
	_, err := l.Acquire(context.Background())
	var re *RejectError
	if !errors.Is(err, ErrOverloaded) || !errors.As(err, &re) || re.Reason != ReasonOverloaded {
		t.Fatalf("4th Acquire err = %v, want ErrOverloaded with reason %q", err, ReasonOverloaded)
	}
	want := `
# HELP corral_shed_inflight Fetches to a target admitted and not yet finished.
# TYPE corral_shed_inflight gauge
corral_shed_inflight{target="origin"} 3
# HELP corral_shed_limit Current adaptive concurrency limit of fetches to a target.
# TYPE corral_shed_limit gauge
corral_shed_limit{target="origin"} 3
# HELP corral_shed_total Requests refused by admission control, by reason (overloaded, queue_timeout, rate, client_rate).
# TYPE corral_shed_total counter
corral_shed_total{reason="overloaded"} 1
corral_shed_total{reason="queue_timeout"} 0
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want)); err != nil {
		t.Fatal(err)
	}
	for _, tk := range tickets {
		tk.Release(Ignored)
	}
	if got := testutil.ToFloat64(l.metrics.inflight); got != 0 || l.Inflight() != 0 {
		t.Fatalf("after release: inflight gauge %v, Inflight %d; want 0", got, l.Inflight())
	}
	var zero Ticket
	zero.Release(Failure) // a no-op
	if l.Inflight() != 0 || l.Limit() != 3 {
		t.Fatalf("zero Ticket release changed the Limiter: inflight %d limit %d", l.Inflight(), l.Limit())
	}
}

func TestLimiterDisabled(t *testing.T) {
	l := newLimiter(t, LimiterConfig{})
	canceled, cancel := context.WithCancel(context.Background())
	cancel()
	for range 1000 {
		tk, err := l.Acquire(canceled)
		if err != nil {
			t.Fatalf("disabled Acquire: %v", err)
		}
		tk.Release(Failure)
	}
	if l.Limit() != 0 || l.Inflight() != 0 || l.waiting() != 0 {
		t.Fatalf("Limit %d Inflight %d, want 0 and 0", l.Limit(), l.Inflight())
	}
}

func TestLimiterAllocs(t *testing.T) {
	if testing.Short() {
		t.Skip("allocation counts")
	}
	for _, max := range []int{0, 16} {
		l := newLimiter(t, LimiterConfig{MaxInflight: max})
		ctx := context.Background()
		allocs := testing.AllocsPerRun(100, func() {
			tk, err := l.Acquire(ctx)
			if err != nil {
				t.Fatal(err)
			}
			tk.Release(Success)
		})
		if allocs != 0 {
			t.Errorf("MaxInflight %d: Acquire+Release allocates %v times, want 0", max, allocs)
		}
	}
}

func TestOutcomeOf(t *testing.T) {
	tests := []struct {
		err  error
		want Outcome
	}{
		{nil, Success},
		{context.Canceled, Ignored},
		{errors.Join(errors.New("fetch"), context.Canceled), Ignored},
		{ErrOverloaded, Ignored},
		{ErrRateLimited, Ignored},
		{&OpenError{Target: "x"}, Ignored},
		{context.DeadlineExceeded, Failure},
		{errors.New("502 bad gateway"), Failure},
	}
	for _, tt := range tests {
		if got := OutcomeOf(tt.err); got != tt.want {
			t.Errorf("OutcomeOf(%v) = %v, want %v", tt.err, got, tt.want)
		}
	}
	if got := Outcome(9).String(); got != "Outcome(9)" {
		t.Errorf("String = %q", got)
	}
}
