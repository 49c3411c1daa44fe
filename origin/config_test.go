package origin

import (
	"net/http"
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
		{"http", func(c *Config) { c.URL = "http://127.0.0.1:8080/v/{key}" }, nil},
		{"https", func(c *Config) { c.URL = "https://origin.example/v/{key}.json" }, nil},
		{"upper-case scheme", func(c *Config) { c.URL = "HTTP://origin.example/v/{key}" }, nil},
		{"key in the query", func(c *Config) { c.URL = "http://origin.example/get?id={key}&v=2" }, nil},
		{"key twice", func(c *Config) { c.URL = "http://origin.example/{key}/{key}" }, nil},
		{"http with password", func(c *Config) { c.URL = "http://u:p@origin.example/v/{key}" }, nil},
		{"redis", func(c *Config) { c.URL = "redis://127.0.0.1:6379" }, nil},
		{"redis with db and password", func(c *Config) { c.URL = "redis://user:secret@127.0.0.1:6379/3" }, nil},
		{"rediss", func(c *Config) { c.URL = "rediss://cache.example:6380/0" }, nil},
		{"zero TTLs", func(c *Config) { c.URL = "redis://h:1"; c.DefaultTTL, c.NegativeTTL = 0, 0 }, nil},
		{"HTTPClient for http", func(c *Config) { c.URL = "http://h/{key}"; c.HTTPClient = &http.Client{} }, nil},

		{"default: no URL", func(*Config) {}, []string{"--origin: required"}},
		{"bad scheme", func(c *Config) { c.URL = "ftp://h/{key}" }, []string{"--origin", `scheme "ftp"`}},
		{"no scheme", func(c *Config) { c.URL = "h:6379" }, []string{"--origin", "scheme"}},
		{"no scheme, no port", func(c *Config) { c.URL = "origin.example/{key}" }, []string{"--origin", "no scheme"}},
		{"missing {key}", func(c *Config) { c.URL = "http://h/v/key" }, []string{"--origin", "no {key} placeholder"}},
		{"{key} only in the fragment", func(c *Config) { c.URL = "http://h/v#{key}" }, []string{"--origin", "no {key} placeholder"}},
		{"{key} in the host", func(c *Config) { c.URL = "http://{key}.h/v/{key}" }, []string{"--origin", "not the host"}},
		{"no host", func(c *Config) { c.URL = "http:///v/{key}" }, []string{"--origin", "no host"}},
		{"unparsable", func(c *Config) { c.URL = "http://h:port/{key}" }, []string{"--origin", "not a valid URL"}},
		{"bad redis db", func(c *Config) { c.URL = "redis://h:6379/abc" }, []string{"--origin", "database"}},
		{"HTTPClient for redis", func(c *Config) { c.URL = "redis://h:6379"; c.HTTPClient = &http.Client{} }, []string{"HTTPClient", "--origin"}},
		{"negative DefaultTTL", func(c *Config) { c.URL = "redis://h:1"; c.DefaultTTL = -time.Second }, []string{"--origin-ttl"}},
		{"negative NegativeTTL", func(c *Config) { c.URL = "redis://h:1"; c.NegativeTTL = -time.Second }, []string{"--negative-ttl"}},
		{"zero Timeout", func(c *Config) { c.URL = "redis://h:1"; c.Timeout = 0 }, []string{"--origin-timeout"}},
		{"negative Timeout", func(c *Config) { c.URL = "redis://h:1"; c.Timeout = -1 }, []string{"--origin-timeout"}},
		{"zero MaxBytes", func(c *Config) { c.URL = "redis://h:1"; c.MaxBytes = 0 }, []string{"--origin-max-bytes"}},
		{"negative MaxBytes", func(c *Config) { c.URL = "redis://h:1"; c.MaxBytes = -1 }, []string{"--origin-max-bytes"}},
		{"every problem at once", func(c *Config) { *c = Config{URL: "gopher://h", DefaultTTL: -1, NegativeTTL: -1} },
			[]string{"--origin ", "--origin-ttl", "--negative-ttl", "--origin-timeout", "--origin-max-bytes"}},
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
				if _, err := New(c); err != nil {
					t.Fatalf("New() = %v, want nil", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Validate() = nil, want an error naming %q", tt.flags)
			}
			for _, f := range tt.flags {
				if !strings.Contains(err.Error(), f) {
					t.Errorf("Validate() = %q, does not say %q", err, f)
				}
			}
			for _, line := range strings.Split(err.Error(), "\n") {
				if !strings.HasPrefix(line, "origin: ") {
					t.Errorf("Validate() line %q lacks the origin: prefix", line)
				}
			}
			if o, nerr := New(c); o != nil || nerr == nil || nerr.Error() != err.Error() {
				t.Errorf("New() = %v, %v; want nil and the Validate error", o, nerr)
			}
		})
	}
}

func TestConfigValidateHidesPasswords(t *testing.T) {
	for _, url := range []string{
		"ftp://user:hunter2@h/{key}",
		"http://user:hunter2@h/v/key",
		"http://user:hunter2@h:port/{key}",
		"http://user:hunter2@/v/{key}",
		"redis://user:hunter2@h:6379/abc",
		"redis://:hunter2@h:6379/0?dial_timeout=abc",
	} {
		t.Run(url, func(t *testing.T) {
			c := DefaultConfig()
			c.URL = url
			err := c.Validate()
			if err == nil {
				t.Fatal("Validate() = nil, want an error")
			}
			if strings.Contains(err.Error(), "hunter2") {
				t.Errorf("Validate() = %q, shows the password", err)
			}
		})
	}
}

func TestDefaultConfig(t *testing.T) {
	c := DefaultConfig()
	if c.DefaultTTL != 60*time.Second || c.NegativeTTL != 5*time.Second || c.Timeout != 2*time.Second || c.MaxBytes != 16<<20 {
		t.Errorf("DefaultConfig() = %+v", c)
	}
}
