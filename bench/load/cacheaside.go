package load

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// CacheAsideConfig configures a cache-aside executor.
type CacheAsideConfig struct {
	// Store is the plain cache the clients read and fill.
	Store RESPConfig
	// Origin is the origin URL with a {key} placeholder:
	// http://host:port/k/{key}. Required.
	Origin string
	// Retries is how many times a failed origin load is retried at once,
	// with no backoff, as a naive client does. Default 0.
	Retries int
	// Timeout bounds one origin load. Default 2s.
	Timeout time.Duration
	// DefaultTTL is the TTL of a loaded value when the origin sends no
	// Cache-Control max-age. Default 60s.
	DefaultTTL time.Duration
}

// CacheAside is what applications do without corral: GET from a plain
// cache; on a miss, load the value from the origin and SET it with the
// origin's max-age. Every client that misses loads, so when a hot key
// expires, all of them go to the origin at once.
type CacheAside struct {
	cfg   CacheAsideConfig
	store *RESP
	http  *http.Client
}

// NewCacheAside returns a cache-aside executor; Close releases its
// connections.
func NewCacheAside(cfg CacheAsideConfig) (*CacheAside, error) {
	if !strings.Contains(cfg.Origin, "{key}") {
		return nil, fmt.Errorf("load: cache-aside origin %q lacks the {key} placeholder", cfg.Origin)
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 2 * time.Second
	}
	if cfg.DefaultTTL <= 0 {
		cfg.DefaultTTL = time.Minute
	}
	store := NewRESP(cfg.Store)
	tr := &http.Transport{
		MaxIdleConns:        0,
		MaxIdleConnsPerHost: store.cfg.Conns,
		IdleConnTimeout:     30 * time.Second,
	}
	return &CacheAside{cfg: cfg, store: store, http: &http.Client{Transport: tr}}, nil
}

// Client returns the plain store's client.
func (e *CacheAside) Client() *redis.Client { return e.store.Client() }

// Close closes every connection.
func (e *CacheAside) Close() error {
	e.http.CloseIdleConnections()
	return e.store.Close()
}

// Session returns worker's connection to the plain store.
func (e *CacheAside) Session(ctx context.Context, worker int) (Session, error) {
	s, err := e.store.Session(ctx, worker)
	if err != nil {
		return nil, err
	}
	return &asideSession{e: e, store: s.(*respSession)}, nil
}

type asideSession struct {
	e     *CacheAside
	store *respSession
}

func (s *asideSession) Close() error { return s.store.Close() }

func (s *asideSession) Do(ctx context.Context, ops []Op) {
	s.store.Do(ctx, ops)
	for i := range ops {
		if op := &ops[i]; !op.Write && op.Miss && op.Err == nil {
			op.Err = s.e.Fill(ctx, s.store.conn, op.Key)
		}
	}
}

// Fill loads key from the origin, retrying as configured, and SETs it in
// the store with the origin's max-age. A 404 leaves the store alone.
func (e *CacheAside) Fill(ctx context.Context, store redis.Cmdable, key string) error {
	var err error
	for range e.cfg.Retries + 1 {
		var val []byte
		var ttl time.Duration
		var found bool
		val, ttl, found, err = e.load(ctx, key)
		if err == nil {
			if !found {
				return nil
			}
			return store.Set(ctx, key, val, ttl).Err()
		}
		if ctx.Err() != nil {
			break
		}
	}
	return err
}

// load fetches key from the origin: its value and TTL, or found false on
// 404 or 410.
func (e *CacheAside) load(ctx context.Context, key string) (val []byte, ttl time.Duration, found bool, err error) {
	ctx, cancel := context.WithTimeout(ctx, e.cfg.Timeout)
	defer cancel()
	u := strings.ReplaceAll(e.cfg.Origin, "{key}", url.PathEscape(key))
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, 0, false, err
	}
	resp, err := e.http.Do(req)
	if err != nil {
		return nil, 0, false, fmt.Errorf("origin load: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	switch {
	case resp.StatusCode == http.StatusNotFound || resp.StatusCode == http.StatusGone:
		return nil, 0, false, nil
	case resp.StatusCode != http.StatusOK:
		return nil, 0, false, fmt.Errorf("origin load: status %d", resp.StatusCode)
	case err != nil:
		return nil, 0, false, fmt.Errorf("origin load: %w", err)
	}
	ttl = e.cfg.DefaultTTL
	if s, ok := MaxAge(resp.Header.Get("Cache-Control")); ok {
		ttl = s
	}
	return body, ttl, true, nil
}

// MaxAge returns the max-age directive of a Cache-Control header.
func MaxAge(cc string) (time.Duration, bool) {
	for d := range strings.SplitSeq(cc, ",") {
		name, val, ok := strings.Cut(strings.TrimSpace(d), "=")
		if !ok || !strings.EqualFold(name, "max-age") {
			continue
		}
		n, err := strconv.ParseInt(strings.Trim(val, `"`), 10, 64)
		if err != nil || n <= 0 {
			return 0, false
		}
		return time.Duration(n) * time.Second, true
	}
	return 0, false
}
