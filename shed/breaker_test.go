package shed

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"corral/internal/clock"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

func newBreaker(t testing.TB, cfg BreakerConfig) *Breaker {
	t.Helper()
	b, err := NewBreaker(cfg)
	if err != nil {
		t.Fatalf("NewBreaker: %v", err)
	}
	return b
}

var errUpstream = errors.New("upstream failed")

// TestBreakerTransitions runs scripts against a Breaker with MinRequests 10,
// FailureRatio 0.5, Window 10s, Timeout 5s and HalfOpenRequests 3. Each step
// advances the fake clock, then runs ops, one character each:
//
//	s f c  Allow, then done(nil), done(failure), done(context.Canceled)
//	a      Allow and keep done pending
//	S F C  finish the oldest pending call: success, failure, canceled
//	x      Allow must refuse with ErrOpen
//
// and then checks the state.
func TestBreakerTransitions(t *testing.T) {
	type step struct {
		advance time.Duration
		ops     string
		want    State
	}
	open10 := step{ops: "sssssfffff", want: Open} // 5 of 10 failed; trips on the last failure
	tests := []struct {
		name  string
		steps []step
	}{
		{"below min requests stays closed", []step{{ops: "fffffffff", want: Closed}}},
		{"ratio with min requests opens", []step{{ops: "sssssffff", want: Closed}, {ops: "f", want: Open}}},
		{"trips only on a failure", []step{{ops: "fffffsssss", want: Closed}, {ops: "f", want: Open}}},
		{"ratio below stays closed", []step{{ops: "ssssssffff", want: Closed}, {ops: "s", want: Closed}}},
		{"successes alone never open", []step{{ops: strings.Repeat("s", 50), want: Closed}}},
		{"old failures age out", []step{
			{ops: "fffffffff", want: Closed},
			{advance: 10 * time.Second, ops: "f", want: Closed},
		}},
		{"failures inside the window count", []step{
			{ops: "fffffffff", want: Closed},
			{advance: 9 * time.Second, ops: "f", want: Open},
		}},
		{"canceled calls count neither way", []step{
			{ops: "ccccccccccfffffffff", want: Closed},
			{ops: "c", want: Closed},
			{ops: "f", want: Open},
		}},
		{"open refuses at once", []step{open10, {ops: "xxx", want: Open}}},
		{"open turns half-open after Timeout", []step{
			open10,
			{advance: 5*time.Second - time.Nanosecond, ops: "x", want: Open},
			{advance: time.Nanosecond, want: HalfOpen},
		}},
		{"half-open admits only the probes", []step{
			open10, {advance: 5 * time.Second, ops: "aaaxx", want: HalfOpen},
		}},
		{"all probes succeed: closed", []step{
			open10, {advance: 5 * time.Second, ops: "aaaSS", want: HalfOpen},
			{ops: "S", want: Closed},
			{ops: "fffffffff", want: Closed}, // the window starts empty again
		}},
		{"one probe fails: open again", []step{
			open10, {advance: 5 * time.Second, ops: "aaaS", want: HalfOpen},
			{ops: "F", want: Open},
			{ops: "Sx", want: Open}, // the last probe's outcome is stale
			{advance: 5 * time.Second, ops: "sss", want: Closed},
		}},
		{"canceled probe frees its slot", []step{
			open10, {advance: 5 * time.Second, ops: "aaaxC", want: HalfOpen},
			{ops: "ax", want: HalfOpen},
			{ops: "SSS", want: Closed},
		}},
		{"sequential probes", []step{open10, {advance: 5 * time.Second, ops: "ss", want: HalfOpen}, {ops: "s", want: Closed}}},
		{"outcomes from before a change are ignored", []step{
			{ops: "a", want: Closed},
			open10,
			{advance: 5 * time.Second, ops: "F", want: HalfOpen},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clk := clock.NewFake(time.Unix(0, 0))
			b := newBreaker(t, BreakerConfig{Target: "origin", Clock: clk})
			var pending []func(error)
			for i, s := range tt.steps {
				clk.Advance(s.advance)
				for j, op := range s.ops {
					where := fmt.Sprintf("step %d op %d %q", i, j, op)
					switch op {
					case 's', 'f', 'c', 'a':
						done, err := b.Allow()
						if err != nil {
							t.Fatalf("%s: Allow: %v", where, err)
						}
						switch op {
						case 's':
							done(nil)
						case 'f':
							done(errUpstream)
						case 'c':
							done(fmt.Errorf("fetch: %w", context.Canceled))
						case 'a':
							pending = append(pending, done)
						}
					case 'S', 'F', 'C':
						done := pending[0]
						pending = pending[1:]
						done(map[rune]error{'S': nil, 'F': errUpstream, 'C': context.Canceled}[op])
					case 'x':
						done, err := b.Allow()
						var oe *OpenError
						if !errors.Is(err, ErrOpen) || !errors.As(err, &oe) || done != nil {
							t.Fatalf("%s: Allow = %v, %v; want ErrOpen", where, done != nil, err)
						}
						if oe.Target != "origin" || oe.State != b.State() {
							t.Fatalf("%s: OpenError %+v, state %v", where, oe, b.State())
						}
					}
				}
				if got := b.State(); got != s.want {
					t.Fatalf("after step %d: state %v, want %v", i, got, s.want)
				}
			}
		})
	}
}

func TestBreakerMetricsAndLogs(t *testing.T) {
	reg := prometheus.NewRegistry()
	var logs bytes.Buffer
	clk := clock.NewFake(time.Unix(0, 0))
	b := newBreaker(t, BreakerConfig{Target: "store 10.0.0.3:7379", MinRequests: 2, HalfOpenRequests: 1,
		Clock: clk, Registerer: reg, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	other := newBreaker(t, BreakerConfig{Target: "origin", Registerer: reg}) // shares the registry
	state := func() float64 { return testutil.ToFloat64(b.metrics.state) }
	fail := func() {
		done, err := b.Allow()
		if err != nil {
			t.Fatal(err)
		}
		done(errUpstream)
	}

	if got := state(); got != 0 {
		t.Fatalf("closed gauge = %v, want 0", got)
	}
	fail()
	fail()
	if got := state(); got != 2 {
		t.Fatalf("open gauge = %v, want 2", got)
	}
	clk.Advance(5 * time.Second)
	b.State()
	if got := state(); got != 1 {
		t.Fatalf("half-open gauge = %v, want 1", got)
	}
	fail()
	clk.Advance(5 * time.Second)
	done, err := b.Allow()
	if err != nil {
		t.Fatal(err)
	}
	done(nil)
	done(errUpstream) // a second call is ignored
	want := `
# HELP corral_breaker_state Circuit breaker state per target: 0 closed, 1 half-open, 2 open.
# TYPE corral_breaker_state gauge
corral_breaker_state{target="origin"} 0
corral_breaker_state{target="store 10.0.0.3:7379"} 0
# HELP corral_breaker_transitions_total Circuit breaker state changes per target, by from and to state.
# TYPE corral_breaker_transitions_total counter
corral_breaker_transitions_total{from="closed",target="store 10.0.0.3:7379",to="open"} 1
corral_breaker_transitions_total{from="half-open",target="store 10.0.0.3:7379",to="closed"} 1
corral_breaker_transitions_total{from="half-open",target="store 10.0.0.3:7379",to="open"} 1
corral_breaker_transitions_total{from="open",target="store 10.0.0.3:7379",to="half-open"} 2
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want)); err != nil {
		t.Fatal(err)
	}
	if other.State() != Closed {
		t.Fatal("the other breaker changed state")
	}
	for _, line := range []string{
		`level=WARN msg="shed: breaker state changed" component=shed.breaker target="store 10.0.0.3:7379" from=closed to=open`,
		`level=INFO msg="shed: breaker state changed" component=shed.breaker target="store 10.0.0.3:7379" from=half-open to=closed`,
	} {
		if !strings.Contains(logs.String(), line) {
			t.Errorf("logs lack %q:\n%s", line, logs.String())
		}
	}
}

func TestBreakerDisabled(t *testing.T) {
	b := newBreaker(t, BreakerConfig{Disabled: true, MinRequests: 1})
	for range 100 {
		done, err := b.Allow()
		if err != nil {
			t.Fatal(err)
		}
		done(errUpstream)
	}
	if b.State() != Closed {
		t.Fatalf("disabled breaker state %v", b.State())
	}
}

func TestStateString(t *testing.T) {
	for s, want := range map[State]string{Closed: "closed", HalfOpen: "half-open", Open: "open", 7: "State(7)"} {
		if got := s.String(); got != want {
			t.Errorf("State(%d).String() = %q, want %q", s, got, want)
		}
	}
}
