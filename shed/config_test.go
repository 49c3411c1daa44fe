package shed

import (
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	"corral/internal/clock"

	"github.com/prometheus/client_golang/prometheus"
)

func TestLimiterConfigValidate(t *testing.T) {
	tests := []struct {
		name string
		cfg  LimiterConfig
		want []string // substrings of the error; none for valid
	}{
		{"default", DefaultLimiterConfig(), nil},
		{"zero disables", LimiterConfig{}, nil},
		{"small max", LimiterConfig{MaxInflight: 2}, nil},
		{"negatives", LimiterConfig{MaxInflight: -1, MinLimit: -1, InitialLimit: -1, QueueTimeout: -1, SlowLatency: -1},
			[]string{"MaxInflight -1", "MinLimit -1", "InitialLimit -1", "QueueTimeout -1ns", "SlowLatency -1ns"}},
		{"backoff", LimiterConfig{MaxInflight: 8, Backoff: 1}, []string{"Backoff 1 is not in (0, 1)"}},
		{"backoff NaN", LimiterConfig{MaxInflight: 8, Backoff: math.NaN()}, []string{"Backoff NaN"}},
		{"min above max", LimiterConfig{MaxInflight: 8, MinLimit: 9}, []string{"MinLimit 9 exceeds MaxInflight 8"}},
		{"initial outside", LimiterConfig{MaxInflight: 8, MinLimit: 4, InitialLimit: 2}, []string{"InitialLimit 2 is below MinLimit 4"}},
		{"initial above max", LimiterConfig{MaxInflight: 8, InitialLimit: 9}, []string{"InitialLimit 9 exceeds"}},
		{"bad name", LimiterConfig{Name: "\xff"}, []string{"Name"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkValidate(t, tt.cfg.Validate(), tt.want)
			_, err := NewLimiter(tt.cfg)
			if (err == nil) != (tt.want == nil) {
				t.Fatalf("NewLimiter err = %v, want error: %v", err, tt.want != nil)
			}
		})
	}
}

func TestLimiterDefaults(t *testing.T) {
	tests := []struct {
		cfg       LimiterConfig
		wantLimit int
		wantMin   float64
	}{
		{DefaultLimiterConfig(), 64, 4},
		{LimiterConfig{MaxInflight: 8}, 4, 4},
		{LimiterConfig{MaxInflight: 2}, 2, 2},
		{LimiterConfig{MaxInflight: 100, MinLimit: 30}, 30, 30},
	}
	for _, tt := range tests {
		l := newLimiter(t, tt.cfg)
		if l.Limit() != tt.wantLimit || l.aimd.min != tt.wantMin {
			t.Errorf("%+v: limit %d min %v, want %d and %v", tt.cfg, l.Limit(), l.aimd.min, tt.wantLimit, tt.wantMin)
		}
	}
}

func TestRateConfigValidate(t *testing.T) {
	tests := []struct {
		name string
		cfg  RateConfig
		want []string
	}{
		{"default", DefaultRateConfig(), nil},
		{"burst without rate is ignored", RateConfig{Burst: 5}, nil},
		{"negatives", RateConfig{Rate: -1, Burst: -1, PerClientRate: -1, PerClientBurst: -1, MaxClients: -1},
			[]string{"Rate -1", "Burst -1", "PerClientRate -1", "PerClientBurst -1", "MaxClients -1"}},
		{"not numbers", RateConfig{Rate: math.Inf(1), PerClientRate: math.NaN()}, []string{"Rate +Inf", "PerClientRate NaN"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkValidate(t, tt.cfg.Validate(), tt.want)
		})
	}
}

func TestBreakerConfigValidate(t *testing.T) {
	tests := []struct {
		name string
		cfg  BreakerConfig
		want []string
	}{
		{"default", DefaultBreakerConfig(), nil},
		{"zero", BreakerConfig{}, nil},
		{"ratio", BreakerConfig{FailureRatio: 1.5}, []string{"FailureRatio 1.5"}},
		{"negatives", BreakerConfig{FailureRatio: -0.1, Window: -1, Timeout: -1}, []string{"FailureRatio -0.1", "Window -1ns", "Timeout -1ns"}},
		{"bad target", BreakerConfig{Target: "\xff"}, []string{"Target"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkValidate(t, tt.cfg.Validate(), tt.want)
		})
	}
}

func TestConfigMerges(t *testing.T) {
	reg := prometheus.NewRegistry()
	clk := clock.NewFake(time.Unix(0, 0))
	own := clock.NewFake(time.Unix(100, 0))
	cfg := DefaultConfig()
	cfg.Name, cfg.Clock, cfg.Registerer = "origin", clk, reg
	cfg.Rate.Clock = own
	m := cfg.merged()
	if m.Limiter.Name != "origin" || m.Limiter.Clock != clk || m.Limiter.Registerer != reg {
		t.Errorf("limiter not filled: %+v", m.Limiter)
	}
	if m.Rate.Clock != own || m.Rate.Registerer != reg {
		t.Errorf("rate: clock %v (want its own), registerer %v", m.Rate.Clock, m.Rate.Registerer)
	}
	bad := Config{Limiter: LimiterConfig{MaxInflight: -1}, Rate: RateConfig{Rate: -1}}
	checkValidate(t, bad.Validate(), []string{"limiter: MaxInflight", "rate: Rate"})
	if _, err := New(bad); err == nil {
		t.Fatal("New accepted an invalid Config")
	}
}

// checkValidate checks that err is nil when want is empty, and otherwise
// matches ErrInvalidConfig and mentions every string in want.
func checkValidate(t *testing.T, err error, want []string) {
	t.Helper()
	if len(want) == 0 {
		if err != nil {
			t.Fatalf("Validate = %v, want nil", err)
		}
		return
	}
	if !errors.Is(err, ErrInvalidConfig) {
		t.Fatalf("Validate = %v, want ErrInvalidConfig", err)
	}
	for _, w := range want {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("Validate = %q, lacks %q", err, w)
		}
	}
}
