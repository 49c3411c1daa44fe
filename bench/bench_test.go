package bench

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"corral/bench/load"
	"corral/bench/report"
	"corral/internal/testkit"
)

func TestParseMetrics(t *testing.T) {
	page := `# HELP corral_l1_hits_total GETs answered from the L1.
# TYPE corral_l1_hits_total counter
corral_l1_hits_total 1234
corral_l1_misses_total 5.5e+01
corral_stale_served_total{role="proxy",reason="error"} 3
corral_stale_served_total{role="store",reason="label with } brace"} 4
corral_l1_hits_total_other 99
go_goroutines 12
`
	got, err := parseMetrics(strings.NewReader(page), "corral_l1_hits_total", "corral_l1_misses_total", "corral_stale_served_total", "absent")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]float64{"corral_l1_hits_total": 1234, "corral_l1_misses_total": 55, "corral_stale_served_total": 7}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("parseMetrics = %v, want %v", got, want)
	}
}

func TestPlan(t *testing.T) {
	tests := []struct {
		name string
		mod  func(*Config)
		want []string
	}{
		{"stampede", func(c *Config) {}, []string{"naive", "corral"}},
		{"stampede", func(c *Config) { c.Addr = "h:1" }, []string{"corral"}},
		{"stampede", func(c *Config) { c.Addr, c.PlainAddr, c.Name = "h:1", "h:2", "prod" }, []string{"naive", "prod"}},
		{"recovery", func(c *Config) {}, []string{"naive", "corral"}},
		{"zipf", func(c *Config) {}, []string{"corral", "corral (L1 off)"}},
		{"zipf", func(c *Config) { c.Addr, c.Name = "h:1", "redis" }, []string{"redis"}},
		{"ablation", func(c *Config) {}, []string{"naive", "all defenses", "no collapse", "no xfetch", "no stale-while-revalidate",
			"no jitter", "no shedding", "no breakers", "no defenses"}},
	}
	for _, tt := range tests {
		cfg, err := DefaultConfig(tt.name)
		if err != nil {
			t.Fatal(err)
		}
		tt.mod(&cfg)
		var names []string
		for _, s := range plan(cfg) {
			names = append(names, s.name)
		}
		if !slices.Equal(names, tt.want) {
			t.Errorf("%s (addr %q): runs %q, want %q", tt.name, cfg.Addr, names, tt.want)
		}
	}
	cfg, _ := DefaultConfig("ablation")
	for _, s := range plan(cfg) {
		switch s.name {
		case "no collapse":
			if s.optional != "--collapse" || !slices.Equal(s.defenses, []string{"--collapse=false"}) {
				t.Errorf("no collapse: %+v", s)
			}
		case "no defenses":
			if slices.Contains(s.defenses, "--collapse=false") || !slices.Contains(s.defenses, "--breaker=false") {
				t.Errorf("no defenses switches %q", s.defenses)
			}
		}
	}
}

func TestConfigValidate(t *testing.T) {
	if _, err := DefaultConfig("thunder"); err == nil {
		t.Fatal("unknown scenario accepted")
	}
	for _, s := range Scenarios {
		cfg, _ := DefaultConfig(s)
		cfg.Launcher = fakeLauncher("", nil, "")
		if err := cfg.Validate(); err != nil {
			t.Errorf("default %s config: %v", s, err)
		}
	}
	cfg, _ := DefaultConfig("ablation")
	cfg.Clients, cfg.Pipeline, cfg.Rate, cfg.Addr = 0, 0, -1, "h:1"
	cfg.Workload.ReadRatio = 3
	err := cfg.Validate()
	for _, want := range []string{"--clients", "--pipeline", "--rate", "read ratio", "--addr"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v does not mention %s", err, want)
		}
	}
	cfg, _ = DefaultConfig("stampede")
	if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), "launcher") {
		t.Errorf("no launcher and no --addr: %v", err)
	}
}

func TestNotes(t *testing.T) {
	n := func(v int64) *int64 { return &v }
	cfg, _ := DefaultConfig("stampede")
	rep := &report.Report{Runs: []report.Run{
		{Name: "naive", Available: true, OriginLoads: n(2400), P99Ms: 1300, Errors: 5, Unfinished: 7},
		{Name: "corral", Available: true, OriginLoads: n(30), P99Ms: 8.5},
	}}
	got := strings.Join(notes(cfg, rep), "\n")
	for _, want := range []string{"corral 30, naive 2,400: 80x fewer", "corral 8.5ms, naive 1.3s", "naive 12"} {
		if !strings.Contains(got, want) {
			t.Errorf("notes %q lack %q", got, want)
		}
	}
	cfg, _ = DefaultConfig("ablation")
	rep.Runs[1].Name = "all defenses"
	rep.Runs = append(rep.Runs, report.Run{Name: "no xfetch", Available: true, OriginLoads: n(60), P99Ms: 20}, report.Run{Name: "no collapse"})
	got = strings.Join(notes(cfg, rep), "\n")
	if !strings.Contains(got, "no xfetch: 60 origin loads (2.0x those with every defense)") || strings.Contains(got, "no collapse") {
		t.Errorf("ablation notes %q", got)
	}
}

func TestHitRatio(t *testing.T) {
	if r, src := hitRatio(map[string]float64{ctrL1Hits: 3, ctrL1Misses: 1}, load.Counts{Hits: 1}); *r != 0.75 || src != "l1" {
		t.Errorf("L1 counters: %v %s", *r, src)
	}
	if r, src := hitRatio(nil, load.Counts{Hits: 9, Misses: 1}); *r != 0.9 || src != "reads" {
		t.Errorf("reads: %v %s", *r, src)
	}
	if r, _ := hitRatio(map[string]float64{ctrL1Hits: 0}, load.Counts{}); r != nil {
		t.Errorf("nothing read: %v", *r)
	}
}

// fakeLauncher "starts" a role by handing out addr (a redis-server) and
// records the command lines; a line naming rejectFlag fails like a flag
// the role does not define.
func fakeLauncher(addr string, launched *[][]string, rejectFlag string) Launcher {
	var mu sync.Mutex
	return func(_ context.Context, args []string) (Target, error) {
		mu.Lock()
		defer mu.Unlock()
		if launched != nil {
			*launched = append(*launched, slices.Clone(args))
		}
		for _, a := range args {
			if rejectFlag != "" && strings.HasPrefix(a, rejectFlag) {
				return Target{}, fmt.Errorf("corral dev: flag provided but not defined: -%s", strings.TrimLeft(rejectFlag, "-"))
			}
		}
		return Target{Addr: addr, Stop: func() error { return nil }}, nil
	}
}

// TestScenariosRunEndToEnd runs short scenarios with a fake launcher
// standing in for corral (a redis-server: no read-through, so corral's
// runs just read what is there) to check the orchestration: which runs
// are made with which flags, the switch the ablation lacks, prefilling,
// and the report's figures.
func TestScenariosRunEndToEnd(t *testing.T) {
	addr := testkit.StartRedis(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	small := func(scenario string) Config {
		cfg, err := DefaultConfig(scenario)
		if err != nil {
			t.Fatal(err)
		}
		cfg.Clients, cfg.Rate, cfg.Interval = 4, 0, 50*time.Millisecond
		cfg.Origin.Latency = 0
		cfg.Workload.Keys = 4
		return cfg
	}

	t.Run("ablation", func(t *testing.T) {
		var launched [][]string
		cfg := small("ablation")
		cfg.Duration = 9 * 100 * time.Millisecond
		cfg.Launcher = fakeLauncher(addr, &launched, "--collapse")
		cfg.CorralFlags = []string{"--l1-max-age", "2s"}
		rep, err := Run(ctx, cfg)
		if err != nil {
			t.Fatal(err)
		}
		if len(rep.Runs) != 9 {
			t.Fatalf("%d runs, want 9", len(rep.Runs))
		}
		for _, run := range rep.Runs {
			if run.Name == "no collapse" {
				if run.Available || !strings.Contains(run.Note, "no --collapse switch") {
					t.Errorf("no collapse: available %v, note %q", run.Available, run.Note)
				}
				continue
			}
			if !run.Available || run.Ops == 0 || run.OriginLoads == nil || run.Errors != 0 {
				t.Errorf("%s: %+v", run.Name, run)
			}
			if len(rep.Series[run.Name]) == 0 {
				t.Errorf("%s: no series", run.Name)
			}
		}
		if len(launched) != 9 || launched[0][0] != "store" {
			t.Fatalf("launched %q", launched)
		}
		joined := strings.Join(launched[3], " ") // no xfetch
		for _, want := range []string{"dev --listen 127.0.0.1:0 --admin 127.0.0.1:0", "--origin http://127.0.0.1:", "/k/{key}", "--xfetch-beta 0", "--l1-max-age 2s"} {
			if !strings.Contains(joined, want) {
				t.Errorf("no-xfetch launch %q lacks %q", joined, want)
			}
		}
	})

	t.Run("zipf against an address", func(t *testing.T) {
		cfg := small("zipf")
		cfg.Duration, cfg.Addr, cfg.Name = 300*time.Millisecond, addr, "redis"
		cfg.Workload.Keys = 2000
		rep, err := Run(ctx, cfg)
		if err != nil {
			t.Fatal(err)
		}
		r := rep.Run("redis")
		if len(rep.Runs) != 1 || r == nil || r.Ops == 0 || r.HitRatio == nil || *r.HitRatio != 1 || r.OriginLoads != nil {
			t.Fatalf("zipf against redis after prefilling: %+v", rep.Runs)
		}
	})

	t.Run("launch failure", func(t *testing.T) {
		cfg := small("stampede")
		cfg.Duration = 200 * time.Millisecond
		cfg.Launcher = func(context.Context, []string) (Target, error) { return Target{}, errors.New("boom") }
		if _, err := Run(ctx, cfg); err == nil || !strings.Contains(err.Error(), "boom") {
			t.Fatalf("Run with a failing launcher: %v", err)
		}
	})
}
