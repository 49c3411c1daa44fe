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

func TestAdmission(t *testing.T) {
	reg := prometheus.NewRegistry()
	clk := clock.NewFake(time.Unix(0, 0))
	cfg := DefaultConfig()
	cfg.Name, cfg.Clock, cfg.Registerer = "origin", clk, reg
	cfg.Limiter = LimiterConfig{MaxInflight: 2, MinLimit: 1, InitialLimit: 1}
	cfg.Rate.PerClientRate, cfg.Rate.PerClientBurst = 1, 2
	a, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	tk, err := a.Admit(ctx, "10.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.Admit(ctx, "10.0.0.1"); !errors.Is(err, ErrOverloaded) {
		t.Fatalf("second Admit err = %v, want ErrOverloaded", err)
	}
	if _, err := a.Admit(ctx, "10.0.0.1"); !errors.Is(err, ErrRateLimited) {
		t.Fatalf("third Admit err = %v, want ErrRateLimited", err)
	}
	tk.Release(Success)
	if a.Limiter().Inflight() != 0 || a.Rate() == nil {
		t.Fatalf("Inflight = %d", a.Limiter().Inflight())
	}
	want := `
# HELP corral_shed_total Requests refused by admission control, by reason (overloaded, queue_timeout, rate, client_rate).
# TYPE corral_shed_total counter
corral_shed_total{reason="client_rate"} 1
corral_shed_total{reason="overloaded"} 1
corral_shed_total{reason="queue_timeout"} 0
corral_shed_total{reason="rate"} 0
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "corral_shed_total"); err != nil {
		t.Fatal(err)
	}
}
