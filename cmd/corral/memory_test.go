package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"corral/cluster"
	"corral/cluster/engine"
)

func TestMaxmemoryFlagErrorsExit2(t *testing.T) {
	tests := []struct {
		name string
		args []string
		env  func(string) string
		want string
	}{
		{"unknown policy", []string{"store", "--maxmemory-policy", "allkeys-lfu"}, env(), "--maxmemory-policy"},
		{"unknown policy env", []string{"dev"}, env("CORRAL_MAXMEMORY_POLICY", "lru"), "volatile-ttl"},
		{"bad samples", []string{"store", "--maxmemory-samples", "0"}, env(), "--maxmemory-samples"},
		{"bad size", []string{"store", "--maxmemory", "1tb"}, env(), "maxmemory"},
		{"bad size env", []string{"dev"}, env("CORRAL_MAXMEMORY", "lots"), "CORRAL_MAXMEMORY"},
		{"proxy cap under the L1 minimum", []string{"proxy", "--upstream", "redis://127.0.0.1:1", "--maxmemory", "100kb"}, env(), "--l1-max-age 0"},
		{"proxy takes no policy", []string{"proxy", "--upstream", "redis://127.0.0.1:1", "--maxmemory-policy", "noeviction"}, env(), "maxmemory-policy"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := run(context.Background(), tt.args, tt.env, &bytes.Buffer{}, &bytes.Buffer{})
			var msg bytes.Buffer
			if code := exitCode(err, &msg); code != 2 {
				t.Fatalf("exit code %d (err %v), want 2", code, err)
			}
			if !strings.Contains(msg.String(), tt.want) {
				t.Fatalf("message %q does not mention %q", msg.String(), tt.want)
			}
		})
	}
}

// TestMaxmemoryReachesTheEngine: --maxmemory and the policy flags (or
// their variables) become the engine's limit, policy and samples; the
// default policy is allkeys-lru and the default limit none.
func TestMaxmemoryReachesTheEngine(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		env     func(string) string
		max     int64
		policy  engine.Policy
		samples int
	}{
		{"defaults", nil, env(), 0, engine.AllKeysLRU, 5},
		{"flags", []string{"--maxmemory", "512mb", "--maxmemory-policy", "noeviction", "--maxmemory-samples", "10"}, env(), 512 << 20, engine.NoEviction, 10},
		{"env", nil, env("CORRAL_MAXMEMORY", "1gb", "CORRAL_MAXMEMORY_POLICY", "volatile-ttl"), 1 << 30, engine.VolatileTTL, 5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var c commonFlags
			var s storeFlags
			f := newFlags("store", "", &bytes.Buffer{})
			f.common(&c, ":7379")
			f.memoryKnobs(&s)
			if err := f.parse(tt.args, tt.env); err != nil {
				t.Fatal(err)
			}
			cfg := cluster.DefaultConfig()
			if err := s.memory(&cfg, c.maxmemory); err != nil {
				t.Fatal(err)
			}
			if cfg.Engine.MaxMemory != tt.max || cfg.Engine.Policy != tt.policy || cfg.Engine.EvictionSamples != tt.samples {
				t.Errorf("engine limit %d policy %v samples %d; want %d %v %d", cfg.Engine.MaxMemory, cfg.Engine.Policy, cfg.Engine.EvictionSamples, tt.max, tt.policy, tt.samples)
			}
		})
	}
}

// TestMaxmemoryCapsProxyL1: a proxy's --maxmemory caps its L1 and never
// grows it.
func TestMaxmemoryCapsProxyL1(t *testing.T) {
	tests := []struct {
		maxmemory, l1, want int64
	}{
		{0, 128 << 20, 128 << 20},
		{64 << 20, 128 << 20, 64 << 20},
		{1 << 30, 128 << 20, 128 << 20},
	}
	for _, tt := range tests {
		c := commonFlags{maxmemory: tt.maxmemory}
		p := proxyFlags{l1MaxBytes: tt.l1, l1MaxAge: 1}
		cfg, err := p.config(&c, nil, nil)
		if err != nil || cfg.L1MaxBytes != tt.want {
			t.Errorf("--maxmemory %d --l1-max-bytes %d: L1 %d, %v; want %d", tt.maxmemory, tt.l1, cfg.L1MaxBytes, err, tt.want)
		}
	}
}
