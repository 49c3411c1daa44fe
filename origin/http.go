package origin

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"strings"
	"time"

	"corral/internal/clock"
)

// HTTP client tuning for a client New builds.
const (
	maxIdleConnsPerHost = 256      // the store loads many keys from one host at once
	maxDrain            = 64 << 10 // bytes read from an unwanted body to keep its connection
	userAgent           = "corral"
)

// httpLoader loads keys with GET from an HTTP(S) URL template.
type httpLoader struct {
	client    *http.Client
	transport *http.Transport // the client's, when New built it; nil otherwise
	url       template        // where to send requests
	shown     template        // the same with any password redacted, for errors
	maxBytes  int64
	defTTL    time.Duration
	negTTL    time.Duration
	clock     clock.Clock
}

// template is an origin URL split at its first '?', so the key can be
// escaped for where it lands.
type template struct{ path, query string }

// newTemplate splits raw.
func newTemplate(raw string) template {
	path, query, ok := strings.Cut(raw, "?")
	if ok {
		query = "?" + query
	}
	return template{path: path, query: query}
}

// expand puts key in place of each {key}: path-escaped in the path, so it
// stays one segment, and query-escaped in the query. The dot segments "."
// and ".." are escaped too, since servers would otherwise resolve them.
func (t template) expand(key string) string {
	seg := url.PathEscape(key)
	switch seg {
	case ".":
		seg = "%2E"
	case "..":
		seg = "%2E%2E"
	}
	return strings.ReplaceAll(t.path, placeholder, seg) +
		strings.ReplaceAll(t.query, placeholder, url.QueryEscape(key))
}

// newHTTPLoader builds the loader for a validated Config.
func newHTTPLoader(cfg Config, clk clock.Clock) *httpLoader {
	l := &httpLoader{
		client:   cfg.HTTPClient,
		url:      newTemplate(cfg.URL),
		shown:    newTemplate(redact(cfg.URL)),
		maxBytes: cfg.MaxBytes,
		defTTL:   cfg.DefaultTTL,
		negTTL:   cfg.NegativeTTL,
		clock:    clk,
	}
	if l.client == nil {
		t := http.DefaultTransport.(*http.Transport).Clone()
		t.MaxIdleConns = 4 * maxIdleConnsPerHost
		t.MaxIdleConnsPerHost = maxIdleConnsPerHost
		l.transport = t
		l.client = &http.Client{Transport: t, Timeout: cfg.Timeout}
	}
	return l
}

// load GETs key. 200 is a value, 404 and 410 a negative answer, anything
// else an error.
func (l *httpLoader) load(ctx context.Context, key string) (Result, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, l.url.expand(key), nil)
	if err != nil {
		return Result{}, l.fail(key, err)
	}
	req.Header.Set("User-Agent", userAgent)
	resp, err := l.client.Do(req)
	if err != nil {
		return Result{}, l.fail(key, err)
	}
	defer resp.Body.Close()
	switch resp.StatusCode {
	case http.StatusOK:
		v, err := l.read(resp)
		if err != nil {
			return Result{}, l.fail(key, err)
		}
		ttl, noStore := freshness(resp.Header, l.clock.Now(), l.defTTL)
		return Result{Value: v, Found: true, TTL: ttl, NoStore: noStore}, nil
	case http.StatusNotFound, http.StatusGone:
		drain(resp.Body)
		return Result{TTL: l.negTTL, NoStore: l.negTTL <= 0}, nil
	default:
		drain(resp.Body)
		return Result{}, fmt.Errorf("origin: GET %s: status %s", l.shown.expand(key), resp.Status)
	}
}

// read returns a 200 response's body, or ErrTooLarge itself when it holds
// more than maxBytes.
func (l *httpLoader) read(resp *http.Response) ([]byte, error) {
	if resp.ContentLength > l.maxBytes {
		return nil, ErrTooLarge
	}
	if n := resp.ContentLength; n >= 0 {
		// The transport stops the body at Content-Length.
		v := make([]byte, n)
		if _, err := io.ReadFull(resp.Body, v); err != nil {
			return nil, fmt.Errorf("read body: %w", err)
		}
		return v, nil
	}
	limit := l.maxBytes
	if limit < math.MaxInt64 {
		limit++ // one byte more tells a body that is too large
	}
	v, err := io.ReadAll(io.LimitReader(resp.Body, limit))
	if err != nil {
		return nil, fmt.Errorf("read body: %w", err)
	}
	if int64(len(v)) > l.maxBytes {
		return nil, ErrTooLarge
	}
	return v, nil
}

// fail names the request in err. net/http's *url.Error repeats the URL, so
// only its cause is kept.
func (l *httpLoader) fail(key string, err error) error {
	if err == ErrTooLarge {
		return fmt.Errorf("%w: GET %s: more than %d bytes", ErrTooLarge, l.shown.expand(key), l.maxBytes)
	}
	var uerr *url.Error
	if errors.As(err, &uerr) {
		err = uerr.Err
	}
	return fmt.Errorf("origin: GET %s: %w", l.shown.expand(key), err)
}

// drain reads what is left of a small unwanted body so its connection can
// carry the next request. Close, deferred by the caller, follows.
func drain(body io.Reader) {
	_, _ = io.Copy(io.Discard, io.LimitReader(body, maxDrain))
}

// close drops the idle connections of a client New built.
func (l *httpLoader) close() error {
	if l.transport != nil {
		l.transport.CloseIdleConnections()
	}
	return nil
}
