package xfetch

import (
	"math"
	"strings"
	"testing"
	"time"
)

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		name  string
		edit  func(*Config)
		flags []string // each must be named in the error; none: valid
	}{
		{"default", func(*Config) {}, nil},
		{"all off", func(c *Config) { *c = Config{} }, nil},
		{"negative beta", func(c *Config) { c.Beta = -1 }, []string{"--xfetch-beta"}},
		{"NaN beta", func(c *Config) { c.Beta = math.NaN() }, []string{"--xfetch-beta"}},
		{"infinite beta", func(c *Config) { c.Beta = math.Inf(1) }, []string{"--xfetch-beta"}},
		{"negative jitter", func(c *Config) { c.Jitter = -0.1 }, []string{"--ttl-jitter"}},
		{"NaN jitter", func(c *Config) { c.Jitter = math.NaN() }, []string{"--ttl-jitter"}},
		{"negative stale-while-revalidate", func(c *Config) { c.StaleWhileRevalidate = -time.Second }, []string{"--stale-while-revalidate"}},
		{"negative stale-if-error", func(c *Config) { c.StaleIfError = -time.Second }, []string{"--stale-if-error"}},
		{"every problem at once", func(c *Config) { *c = Config{Beta: -1, Jitter: -1, StaleWhileRevalidate: -1, StaleIfError: -1} },
			[]string{"--xfetch-beta", "--ttl-jitter", "--stale-while-revalidate", "--stale-if-error"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := DefaultConfig()
			tt.edit(&c)
			err := c.Validate()
			if len(tt.flags) == 0 {
				if err != nil {
					t.Fatalf("Validate() = %v, want nil", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Validate() = nil, want an error naming %v", tt.flags)
			}
			for _, f := range tt.flags {
				if !strings.Contains(err.Error(), f) {
					t.Errorf("Validate() = %q, does not name %s", err, f)
				}
			}
			if !strings.HasPrefix(err.Error(), "xfetch: ") {
				t.Errorf("Validate() = %q, want the xfetch: prefix", err)
			}
		})
	}
}
