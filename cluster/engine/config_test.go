package engine

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		name  string
		tweak func(*Config)
		want  []string // substrings of the error; none means valid
	}{
		{"default", func(*Config) {}, nil},
		{"one partition", func(c *Config) { c.Partitions = 1 }, nil},
		{"zero partitions", func(c *Config) { c.Partitions = 0 }, []string{"Partitions 0"}},
		{"too many partitions", func(c *Config) { c.Partitions = MaxPartitions + 1 }, []string{"Partitions"}},
		{"zero interval", func(c *Config) { c.ExpiryInterval = 0 }, []string{"ExpiryInterval"}},
		{"zero budget", func(c *Config) { c.ExpiryBudget = 0 }, []string{"ExpiryBudget"}},
		{"sub-ms tombstone ttl", func(c *Config) { c.TombstoneTTL = time.Microsecond }, []string{"TombstoneTTL"}},
		{"zero value reports everything", func(c *Config) { *c = Config{} },
			[]string{"Partitions", "ExpiryInterval", "ExpiryBudget", "TombstoneTTL"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := DefaultConfig()
			tt.tweak(&cfg)
			err := cfg.Validate()
			if len(tt.want) == 0 {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				return
			}
			if !errors.Is(err, ErrInvalidConfig) {
				t.Fatalf("Validate = %v, want ErrInvalidConfig", err)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
			if _, nerr := New(cfg); !errors.Is(nerr, ErrInvalidConfig) {
				t.Errorf("New = %v, want ErrInvalidConfig", nerr)
			}
		})
	}
}

func TestNewDefaultsNilDependencies(t *testing.T) {
	e, err := New(DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	if e.Partitions() != 4096 {
		t.Fatalf("Partitions = %d", e.Partitions())
	}
	now := time.Now().UnixMilli()
	r := set(e, "k", "v", 0, now)
	if r.Version == 0 || r.Version.WallMs() < now-1000 {
		t.Fatalf("version %v not stamped from the real clock", r.Version)
	}
}
