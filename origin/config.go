package origin

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"corral/internal/clock"
)

// Config configures an Origin.
type Config struct {
	// URL is the origin, required (--origin). Either an HTTP(S) URL template
	// holding the placeholder {key}, such as http://host:port/path/{key} or
	// https://host/get?k={key}, or a Redis URL,
	// redis://[user:pass@]host:port[/db] (rediss:// for TLS). In the path
	// the key is escaped with url.PathEscape, in the query with
	// url.QueryEscape, so any key arrives intact as one path segment or one
	// query value.
	URL string

	// DefaultTTL is how long a value may be cached when the origin gives no
	// TTL: no Cache-Control max-age or Expires over HTTP, no expiry in Redis.
	// 0 caches such values not at all. Default 60s (--origin-ttl).
	DefaultTTL time.Duration

	// NegativeTTL is how long a negative answer (HTTP 404 or 410, a missing
	// Redis key) may be cached. 0 caches negative answers not at all.
	// Default 5s (--negative-ttl).
	NegativeTTL time.Duration

	// Timeout bounds one load, including connecting and reading the body.
	// Must be positive. Default 2s (--origin-timeout).
	Timeout time.Duration

	// MaxBytes is the largest value accepted, in bytes; a larger one fails
	// the load with ErrTooLarge. Must be positive. Default 16mb, 16777216
	// (--origin-max-bytes).
	MaxBytes int64

	// Clock reads the time for Expires arithmetic. Nil means clock.Real.
	Clock clock.Clock

	// Logger receives debug logs. Nil discards them.
	Logger *slog.Logger

	// HTTPClient, when set, makes the requests to an HTTP origin; New then
	// does not own it and Close leaves it alone. Nil builds a client with a
	// pool of up to 256 idle connections to the origin and Timeout as its
	// deadline. It must be nil for a Redis origin.
	HTTPClient *http.Client
}

// Defaults, as DefaultConfig returns them.
const (
	defaultTTL         = 60 * time.Second
	defaultNegativeTTL = 5 * time.Second
	defaultTimeout     = 2 * time.Second
	defaultMaxBytes    = 16 << 20
)

// DefaultConfig returns a Config with DefaultTTL 60s, NegativeTTL 5s,
// Timeout 2s, MaxBytes 16mb, and no URL: the caller must set one.
func DefaultConfig() Config {
	return Config{
		DefaultTTL:  defaultTTL,
		NegativeTTL: defaultNegativeTTL,
		Timeout:     defaultTimeout,
		MaxBytes:    defaultMaxBytes,
	}
}

// placeholder marks where the key goes in an HTTP origin's URL.
const placeholder = "{key}"

// kind is the sort of origin a URL names.
type kind int

const (
	kindHTTP kind = iota + 1
	kindRedis
)

// Validate reports every problem with c at once, joined with errors.Join;
// each names the flag that sets the field. No error quotes a password.
func (c Config) Validate() error {
	var errs []error
	k, _, err := parseURL(c.URL)
	if err != nil {
		errs = append(errs, err)
	}
	if k == kindRedis && c.HTTPClient != nil {
		errs = append(errs, errors.New("origin: HTTPClient is set but --origin is a Redis URL"))
	}
	if c.DefaultTTL < 0 {
		errs = append(errs, fmt.Errorf("origin: --origin-ttl %v: must not be negative", c.DefaultTTL))
	}
	if c.NegativeTTL < 0 {
		errs = append(errs, fmt.Errorf("origin: --negative-ttl %v: must not be negative", c.NegativeTTL))
	}
	if c.Timeout <= 0 {
		errs = append(errs, fmt.Errorf("origin: --origin-timeout %v: must be positive", c.Timeout))
	}
	if c.MaxBytes <= 0 {
		errs = append(errs, fmt.Errorf("origin: --origin-max-bytes %d: must be positive", c.MaxBytes))
	}
	return errors.Join(errs...)
}

// parseURL checks an origin URL and tells which kind of origin it names. For
// a Redis URL it also returns go-redis's options.
func parseURL(raw string) (kind, *redis.Options, error) {
	if raw == "" {
		return 0, nil, errors.New("origin: --origin: required")
	}
	shown := redact(raw)
	bad := func(format string, args ...any) error {
		return fmt.Errorf("origin: --origin %s: "+format, append([]any{shown}, args...)...)
	}
	// Parse with the placeholder filled in: url.Parse accepts braces, but
	// the checks below are about the URL the origin will see.
	u, err := url.Parse(strings.ReplaceAll(raw, placeholder, "k"))
	if err != nil {
		var uerr *url.Error
		if errors.As(err, &uerr) && !strings.Contains(raw, "@") {
			return 0, nil, bad("not a valid URL: %v", uerr.Err)
		}
		return 0, nil, bad("not a valid URL") // the detail might quote a password
	}
	switch strings.ToLower(u.Scheme) {
	case "http", "https":
		if u.Host == "" {
			return 0, nil, bad("no host")
		}
		if strings.Contains(authority(raw), placeholder) {
			return 0, nil, bad("the %s placeholder must be in the path or the query, not the host", placeholder)
		}
		path, query, _ := strings.Cut(raw, "?")
		query, _, _ = strings.Cut(query, "#")
		path, _, _ = strings.Cut(path, "#")
		if !strings.Contains(path, placeholder) && !strings.Contains(query, placeholder) {
			return 0, nil, bad("no %s placeholder in the path or the query", placeholder)
		}
		return kindHTTP, nil, nil
	case "redis", "rediss":
		opt, err := redis.ParseURL(raw)
		if err != nil {
			return 0, nil, bad("%v", err) // url.Parse succeeded, so err quotes no password
		}
		return kindRedis, opt, nil
	case "":
		return 0, nil, bad("no scheme: want http://, https://, redis:// or rediss://")
	default:
		return 0, nil, bad("scheme %q: want http, https, redis or rediss", u.Scheme)
	}
}

// authority returns the host part of a URL, with any userinfo: what follows
// "scheme://" up to the first '/', '?' or '#'. It is "" when raw has no
// "://".
func authority(raw string) string {
	_, rest, ok := strings.Cut(raw, "://")
	if !ok {
		return ""
	}
	if i := strings.IndexAny(rest, "/?#"); i >= 0 {
		rest = rest[:i]
	}
	return rest
}

// redact returns raw with the password in its userinfo, if any, replaced by
// "xxxxx", as url.URL.Redacted does, and the rest of raw untouched (the
// {key} placeholder stays unescaped).
func redact(raw string) string {
	scheme, rest, ok := strings.Cut(raw, "://")
	if !ok {
		return raw
	}
	auth := authority(raw)
	at := strings.LastIndex(auth, "@")
	if at < 0 {
		return raw
	}
	user, _, hasPassword := strings.Cut(auth[:at], ":")
	if !hasPassword {
		return raw
	}
	return scheme + "://" + user + ":xxxxx" + rest[at:]
}
