package shed

import (
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"corral/internal/clock"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

func newRate(t testing.TB, cfg RateConfig) *Rate {
	t.Helper()
	r, err := NewRate(cfg)
	if err != nil {
		t.Fatalf("NewRate: %v", err)
	}
	return r
}

// reasonOf returns "" for nil and the RejectError's Reason otherwise.
func reasonOf(t *testing.T, err error) string {
	t.Helper()
	if err == nil {
		return ""
	}
	var re *RejectError
	if !errors.As(err, &re) || !errors.Is(err, ErrRateLimited) {
		t.Fatalf("err %v is not a RejectError matching ErrRateLimited", err)
	}
	return re.Reason
}

func TestRateAllow(t *testing.T) {
	type step struct {
		advance time.Duration
		client  string
		want    string // "" admitted, else the Reason
	}
	ok := func(client string) step { return step{client: client} }
	no := func(client, reason string) step { return step{client: client, want: reason} }
	after := func(d time.Duration, client, reason string) step { return step{d, client, reason} }
	tests := []struct {
		name  string
		cfg   RateConfig
		steps []step
	}{
		{"disabled admits everything", RateConfig{},
			[]step{ok("a"), ok("a"), ok("a"), ok("a"), ok("a")}},
		{"global burst then refill", RateConfig{Rate: 1, Burst: 3}, []step{
			ok("a"), ok("b"), ok("c"), no("d", ReasonRate),
			after(999*time.Millisecond, "a", ReasonRate),
			after(time.Millisecond, "a", ""), no("a", ReasonRate),
			after(time.Hour, "a", ""), ok("a"), ok("a"), no("a", ReasonRate), // refill capped at the burst
		}},
		{"global burst defaults to one second", RateConfig{Rate: 2.5}, []step{
			ok("a"), ok("a"), ok("a"), no("a", ReasonRate),
		}},
		{"fractional rate", RateConfig{Rate: 0.5}, []step{
			ok("a"), no("a", ReasonRate), after(time.Second, "a", ReasonRate), after(time.Second, "a", ""),
		}},
		{"clients have their own buckets", RateConfig{PerClientRate: 2, PerClientBurst: 2}, []step{
			ok("a"), ok("a"), no("a", ReasonClientRate), ok("b"), ok("b"), no("b", ReasonClientRate),
			after(250*time.Millisecond, "a", ReasonClientRate),
			after(250*time.Millisecond, "a", ""), no("a", ReasonClientRate), ok("b"),
		}},
		{"refusals take no token from the other bucket",
			RateConfig{Rate: 1, Burst: 2, PerClientRate: 1, PerClientBurst: 1}, []step{
				ok("a"), no("a", ReasonClientRate), no("a", ReasonClientRate), // the global bucket keeps 1
				ok("b"), no("c", ReasonRate), // c's bucket stays full
				after(time.Second, "c", ""), // one global token back; c's own still there
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clk := clock.NewFake(time.Unix(0, 0))
			tt.cfg.Clock = clk
			r := newRate(t, tt.cfg)
			for i, s := range tt.steps {
				clk.Advance(s.advance)
				if got := reasonOf(t, r.Allow(s.client)); got != s.want {
					t.Fatalf("step %d (%+v): reason %q, want %q", i, s, got, s.want)
				}
			}
		})
	}
}

func TestRateErrorsAndMetrics(t *testing.T) {
	reg := prometheus.NewRegistry()
	clk := clock.NewFake(time.Unix(0, 0))
	r := newRate(t, RateConfig{Rate: 1000, Burst: 1, PerClientRate: 50, PerClientBurst: 1, Clock: clk, Registerer: reg})
	if err := r.Allow("a"); err != nil {
		t.Fatal(err)
	}
	errClient := r.Allow("a")
	errGlobal := r.Allow("b")
	if got, want := errClient.Error(), "shed: rate limited: client over 50 requests/s"; got != want {
		t.Errorf("client error %q, want %q", got, want)
	}
	if got, want := errGlobal.Error(), "shed: rate limited: over 1000 requests/s"; got != want {
		t.Errorf("global error %q, want %q", got, want)
	}
	want := `
# HELP corral_shed_total Requests refused by admission control, by reason (overloaded, queue_timeout, rate, client_rate).
# TYPE corral_shed_total counter
corral_shed_total{reason="client_rate"} 1
corral_shed_total{reason="rate"} 1
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want)); err != nil {
		t.Fatal(err)
	}
	if n := testing.AllocsPerRun(100, func() { _ = r.Allow("a") }); n != 0 {
		t.Errorf("Allow for a known client allocates %v times, want 0", n)
	}
}

func TestRateClientBound(t *testing.T) {
	clk := clock.NewFake(time.Unix(0, 0))
	r := newRate(t, RateConfig{PerClientRate: 1, PerClientBurst: 2, MaxClients: 3, Clock: clk})
	for _, c := range []string{"a", "b", "c"} {
		if err := r.Allow(c); err != nil {
			t.Fatalf("Allow(%s): %v", c, err)
		}
	}
	if err := r.Allow("a"); err != nil { // a is now the most recently seen
		t.Fatal(err)
	}
	if err := r.Allow("a"); err == nil {
		t.Fatal("a's bucket should be empty")
	}
	if err := r.Allow("d"); err != nil { // evicts b, the least recently seen
		t.Fatal(err)
	}
	if n := r.clientCount(); n != 3 {
		t.Fatalf("%d clients kept, want 3", n)
	}
	if err := r.Allow("a"); err == nil {
		t.Fatal("a was evicted, but it was the most recently seen")
	}

	// Buckets that refilled to their burst are swept, two per Allow, never
	// the caller's own.
	clk.Advance(10 * time.Second)
	for i, want := range []int{2, 1} { // c and a swept, e added; then d swept
		if err := r.Allow("e"); err != nil {
			t.Fatalf("Allow(e) %d: %v", i, err)
		}
		if n := r.clientCount(); n != want {
			t.Fatalf("after Allow(e) %d: %d clients kept, want %d", i, n, want)
		}
	}

	// A crowd of addresses cannot grow the map past MaxClients.
	for i := range 10000 {
		_ = r.Allow("10.0." + strconv.Itoa(i/256) + "." + strconv.Itoa(i%256))
		if n := r.clientCount(); n > 3 {
			t.Fatalf("%d clients kept, want at most 3", n)
		}
	}
}
