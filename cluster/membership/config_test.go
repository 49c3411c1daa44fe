package membership

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestConfigValidate(t *testing.T) {
	valid := DefaultConfig()
	valid.NodeID = "0"
	tests := []struct {
		name  string
		tweak func(*Config)
		text  []string // each must appear in the error; nil means valid
	}{
		{"default with node id", func(*Config) {}, nil},
		{"zero durations and profile mean defaults", func(c *Config) {
			c.JoinBackoff, c.RejoinInterval, c.LeaveTimeout, c.UpdateTimeout, c.Profile, c.Bind = Backoff{}, 0, 0, 0, "", ""
		}, nil},
		{"test node", func(c *Config) {
			c.Bind, c.Advertise, c.Profile = "127.0.0.1:0", "auto", ProfileLocal
			c.Seeds = []string{"10.0.0.1", "10.0.0.2:7000", "corral-store.corral.svc", "store:7946", "::1", "[fd00::2]", "[fd00::3]:7946"}
		}, nil},
		{"advertise forms", func(c *Config) { c.Advertise = "10.1.2.3:8000" }, nil},
		{"advertise ip", func(c *Config) { c.Advertise = "10.1.2.3" }, nil},
		{"ipv6 bind with advertise", func(c *Config) { c.Bind, c.Advertise = "[::]:7946", "fd00::1" }, nil},
		{"no node id", func(c *Config) { c.NodeID = "" }, []string{"node id is empty"}},
		{"bind without port", func(c *Config) { c.Bind = "127.0.0.1" }, []string{`bind "127.0.0.1"`}},
		{"bind host name", func(c *Config) { c.Bind = "localhost:7946" }, []string{`host "localhost" is not an IP`}},
		{"bind port out of range", func(c *Config) { c.Bind = ":70000" }, []string{"port \"70000\""}},
		{"ipv6 any without advertise", func(c *Config) { c.Bind = "[::]:7946" }, []string{"needs an explicit advertise"}},
		{"advertise host name", func(c *Config) { c.Advertise = "node-0:7946" }, []string{`advertise "node-0:7946"`}},
		{"advertise port 0", func(c *Config) { c.Advertise = "10.0.0.1:0" }, []string{`advertise "10.0.0.1:0"`}},
		{"empty seed", func(c *Config) { c.Seeds = []string{""} }, []string{`seed "": empty`}},
		{"seed port 0", func(c *Config) { c.Seeds = []string{"a:0"} }, []string{`seed "a:0"`}},
		{"seed no host", func(c *Config) { c.Seeds = []string{":7946"} }, []string{`seed ":7946": empty host`}},
		{"bad meta", func(c *Config) { c.Meta.Partitions = 0 }, []string{"meta:", "partitions 0"}},
		{"meta too large", func(c *Config) { c.Meta.RESP = strings.Repeat("h", 600) + ":1" }, []string{"node meta too large"}},
		{"unknown profile", func(c *Config) { c.Profile = "wan" }, []string{`unknown profile "wan"`}},
		{"negative durations", func(c *Config) {
			c.JoinBackoff, c.RejoinInterval, c.LeaveTimeout, c.UpdateTimeout = Backoff{-1, -1}, -1, -1, -1
		}, []string{"join backoff base", "join backoff max", "rejoin interval", "leave timeout", "update timeout"}},
		{"backoff max below base", func(c *Config) { c.JoinBackoff = Backoff{time.Second, time.Millisecond} },
			[]string{"join backoff max 1ms is below its base 1s"}},
		{"every problem at once", func(c *Config) { c.NodeID, c.Profile, c.Seeds = "", "x", []string{""} },
			[]string{"node id", "profile", "seed"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := valid
			tt.tweak(&c)
			err := c.Validate()
			if tt.text == nil {
				if err != nil {
					t.Fatalf("Validate = %v, want nil", err)
				}
				return
			}
			if !errors.Is(err, ErrInvalidConfig) {
				t.Fatalf("Validate = %v, want ErrInvalidConfig", err)
			}
			for _, s := range tt.text {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("Validate = %v, want it to mention %q", err, s)
				}
			}
			if _, nerr := New(c); nerr == nil {
				t.Error("New accepted an invalid Config")
			}
		})
	}
}

func TestWithDefaults(t *testing.T) {
	c := Config{Advertise: "auto", JoinBackoff: Backoff{Base: 20 * time.Second}}.withDefaults()
	if c.Bind != DefaultBind || c.Advertise != "" || c.Profile != ProfileLAN ||
		c.RejoinInterval != DefaultRejoinInterval || c.LeaveTimeout != DefaultLeaveTimeout ||
		c.UpdateTimeout != DefaultUpdateTimeout {
		t.Errorf("withDefaults = %+v", c)
	}
	if c.JoinBackoff != (Backoff{20 * time.Second, 20 * time.Second}) {
		t.Errorf("JoinBackoff = %+v, want max raised to the base", c.JoinBackoff)
	}
}

func TestSplitSeed(t *testing.T) {
	tests := []struct {
		seed string
		host string
		port int
		bad  bool
	}{
		{seed: "10.0.0.1", host: "10.0.0.1", port: 7946},
		{seed: "10.0.0.1:8000", host: "10.0.0.1", port: 8000},
		{seed: "corral-store", host: "corral-store", port: 7946},
		{seed: "corral-store.ns.svc.cluster.local:7946", host: "corral-store.ns.svc.cluster.local", port: 7946},
		{seed: "fd00::1", host: "fd00::1", port: 7946},
		{seed: "[fd00::1]", host: "fd00::1", port: 7946},
		{seed: "[fd00::1]:9000", host: "fd00::1", port: 9000},
		{seed: "", bad: true},
		{seed: "host:", bad: true},
		{seed: "host:x", bad: true},
		{seed: "a:b:c", bad: true},
	}
	for _, tt := range tests {
		t.Run(tt.seed, func(t *testing.T) {
			host, port, err := splitSeed(tt.seed)
			if tt.bad {
				if err == nil {
					t.Fatalf("splitSeed(%q) = %q, %d; want an error", tt.seed, host, port)
				}
				return
			}
			if err != nil || host != tt.host || port != tt.port {
				t.Errorf("splitSeed(%q) = %q, %d, %v; want %q, %d", tt.seed, host, port, err, tt.host, tt.port)
			}
		})
	}
}
