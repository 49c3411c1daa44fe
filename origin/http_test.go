package origin

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"corral/internal/clock"
)

// t0 is the fake clock's time in HTTP tests.
var t0 = time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)

// serve starts an httptest server for h, closed when the test ends.
func serve(t *testing.T, h http.Handler) *httptest.Server {
	t.Helper()
	ts := httptest.NewServer(h)
	t.Cleanup(ts.Close)
	return ts
}

// newTestOrigin builds an Origin for url with test defaults changed by edit,
// closed when the test ends.
func newTestOrigin(t *testing.T, url string, edit func(*Config)) *Origin {
	t.Helper()
	cfg := DefaultConfig()
	cfg.URL = url
	cfg.DefaultTTL = 42 * time.Second
	cfg.NegativeTTL = 7 * time.Second
	cfg.Clock = clock.NewFake(t0)
	if edit != nil {
		edit(&cfg)
	}
	o, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() {
		if err := o.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return o
}

func TestHTTPFound(t *testing.T) {
	httpDate := func(d time.Duration) string { return t0.Add(d).Format(http.TimeFormat) }
	tests := []struct {
		name    string
		headers map[string][]string // nil value: suppress the header (Date)
		ttl     time.Duration
		noStore bool
	}{
		{"no freshness headers: DefaultTTL", nil, 42 * time.Second, false},
		{"max-age", map[string][]string{"Cache-Control": {"public, max-age=120"}}, 120 * time.Second, false},
		{"s-maxage wins over max-age", map[string][]string{"Cache-Control": {"max-age=120, s-maxage=30"}}, 30 * time.Second, false},
		{"s-maxage wins even when longer", map[string][]string{"Cache-Control": {"s-maxage=300, max-age=120"}}, 300 * time.Second, false},
		{"Age is subtracted", map[string][]string{"Cache-Control": {"max-age=120"}, "Age": {"20"}}, 100 * time.Second, false},
		{"Age past max-age", map[string][]string{"Cache-Control": {"max-age=10"}, "Age": {"30"}}, 0, true},
		{"max-age wins over Expires", map[string][]string{"Cache-Control": {"max-age=10"}, "Date": {httpDate(0)}, "Expires": {httpDate(time.Hour)}}, 10 * time.Second, false},
		{"Expires minus Date", map[string][]string{"Date": {httpDate(-time.Hour)}, "Expires": {httpDate(-time.Hour + 90*time.Second)}}, 90 * time.Second, false},
		{"Expires minus Date minus Age", map[string][]string{"Date": {httpDate(0)}, "Expires": {httpDate(90 * time.Second)}, "Age": {"30"}}, 60 * time.Second, false},
		{"Expires minus now without Date", map[string][]string{"Date": nil, "Expires": {httpDate(45 * time.Second)}}, 45 * time.Second, false},
		{"Expires in the past", map[string][]string{"Date": {httpDate(0)}, "Expires": {httpDate(-time.Second)}}, 0, true},
		{"invalid Expires", map[string][]string{"Expires": {"0"}}, 0, true},
		{"no-store", map[string][]string{"Cache-Control": {"no-store"}}, 0, true},
		{"no-store beats max-age", map[string][]string{"Cache-Control": {"max-age=60, no-store"}}, 0, true},
		{"private", map[string][]string{"Cache-Control": {"private, max-age=60"}}, 0, true},
		{"no-cache", map[string][]string{"Cache-Control": {"no-cache"}}, 0, true},
		{"max-age=0", map[string][]string{"Cache-Control": {"max-age=0"}}, 0, true},
		{"case-insensitive, several lines", map[string][]string{"Cache-Control": {"Public", "MAX-AGE=7"}}, 7 * time.Second, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				for k, v := range tt.headers {
					w.Header()[k] = v
				}
				fmt.Fprint(w, "value of ", r.URL.Path)
			}))
			o := newTestOrigin(t, ts.URL+"/v/{key}", nil)
			res, err := o.Load(t.Context(), "k1")
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			want := Result{Value: []byte("value of /v/k1"), Found: true, TTL: tt.ttl, NoStore: tt.noStore}
			if string(res.Value) != string(want.Value) || res.Found != want.Found || res.TTL != want.TTL || res.NoStore != want.NoStore {
				t.Errorf("Load = {%q %v %v %v}, want {%q %v %v %v}",
					res.Value, res.Found, res.TTL, res.NoStore, want.Value, want.Found, want.TTL, want.NoStore)
			}
		})
	}
}

func TestHTTPNegative(t *testing.T) {
	for _, status := range []int{http.StatusNotFound, http.StatusGone} {
		t.Run(http.StatusText(status), func(t *testing.T) {
			ts := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Cache-Control", "max-age=600")
				http.Error(w, "no such key", status)
			}))
			o := newTestOrigin(t, ts.URL+"/v/{key}", nil)
			res, err := o.Load(t.Context(), "gone")
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			if res.Found || res.Value != nil || res.TTL != 7*time.Second || res.NoStore {
				t.Errorf("Load = %+v, want a negative answer with NegativeTTL 7s", res)
			}
		})
	}
	t.Run("NegativeTTL 0 is not stored", func(t *testing.T) {
		ts := serve(t, http.NotFoundHandler())
		o := newTestOrigin(t, ts.URL+"/v/{key}", func(c *Config) { c.NegativeTTL = 0 })
		res, err := o.Load(t.Context(), "gone")
		if err != nil || res.Found || res.TTL != 0 || !res.NoStore {
			t.Errorf("Load = %+v, %v; want a negative answer with NoStore", res, err)
		}
	})
}

func TestHTTPStatusErrors(t *testing.T) {
	for _, status := range []int{http.StatusInternalServerError, http.StatusServiceUnavailable, http.StatusTooManyRequests, http.StatusNoContent, http.StatusForbidden} {
		t.Run(http.StatusText(status), func(t *testing.T) {
			ts := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(status)
			}))
			o := newTestOrigin(t, ts.URL+"/v/{key}", nil)
			_, err := o.Load(t.Context(), "k")
			want := fmt.Sprintf("origin: GET %s/v/k: status %d %s", ts.URL, status, http.StatusText(status))
			if err == nil || err.Error() != want {
				t.Errorf("Load error %v, want %q", err, want)
			}
		})
	}
}

func TestHTTPTooLarge(t *testing.T) {
	tests := []struct {
		name    string
		body    string
		chunked bool
		wantErr bool
	}{
		{"at the limit", "0123456789", false, false},
		{"at the limit, chunked", "0123456789", true, false},
		{"one byte over", "0123456789a", false, true},
		{"one byte over, chunked", "0123456789a", true, true},
		{"far over, chunked", strings.Repeat("x", 1<<20), true, true},
		{"empty", "", false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if tt.chunked {
					w.(http.Flusher).Flush() // headers out before the body: no Content-Length
				}
				fmt.Fprint(w, tt.body)
			}))
			o := newTestOrigin(t, ts.URL+"/v/{key}", func(c *Config) { c.MaxBytes = 10 })
			res, err := o.Load(t.Context(), "big")
			if !tt.wantErr {
				if err != nil || string(res.Value) != tt.body {
					t.Fatalf("Load = %q, %v; want %q", res.Value, err, tt.body)
				}
				return
			}
			if !errors.Is(err, ErrTooLarge) {
				t.Fatalf("Load error %v, want ErrTooLarge", err)
			}
			if !strings.Contains(err.Error(), ts.URL+"/v/big") {
				t.Errorf("Load error %q does not name the origin", err)
			}
		})
	}
}

func TestHTTPTimeout(t *testing.T) {
	tests := []struct {
		name     string
		timeout  time.Duration // Config.Timeout
		ctx      time.Duration // the caller's deadline; 0 for none
		midBody  bool          // block after sending part of the body
		canceled bool          // the caller cancels instead
	}{
		{"Config.Timeout, awaiting headers", 50 * time.Millisecond, 0, false, false},
		{"Config.Timeout, reading the body", 50 * time.Millisecond, 0, true, false},
		{"caller's deadline first", time.Minute, 50 * time.Millisecond, false, false},
		{"caller's deadline first, reading the body", time.Minute, 50 * time.Millisecond, true, false},
		{"caller cancels", time.Minute, 0, false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			arrived := make(chan struct{}, 1)
			ts := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if tt.midBody {
					w.Header().Set("Content-Length", "100")
					fmt.Fprint(w, "partial")
					w.(http.Flusher).Flush()
				}
				arrived <- struct{}{}
				<-r.Context().Done() // until the client gives up
			}))
			o := newTestOrigin(t, ts.URL+"/v/{key}", func(c *Config) { c.Timeout = tt.timeout })
			ctx := t.Context()
			if tt.ctx > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, tt.ctx)
				defer cancel()
			}
			if tt.canceled {
				var cancel context.CancelFunc
				ctx, cancel = context.WithCancel(ctx)
				go func() {
					<-arrived
					cancel()
				}()
			}
			start := time.Now()
			_, err := o.Load(ctx, "slow")
			want := context.DeadlineExceeded
			if tt.canceled {
				want = context.Canceled
			}
			if !errors.Is(err, want) {
				t.Fatalf("Load error %v, want %v", err, want)
			}
			if !strings.HasPrefix(err.Error(), "origin: GET "+ts.URL+"/v/slow: ") {
				t.Errorf("Load error %q does not name the origin", err)
			}
			if took := time.Since(start); took > 10*time.Second {
				t.Errorf("Load took %v to give up", took)
			}
		})
	}
}

func TestHTTPKeyEscaping(t *testing.T) {
	keys := []string{
		"plain",
		"with space",
		"a/b/c",
		"what?x=1&y=2#frag",
		"ünïcødé 鍵 🔑",
		"100%",
		"+plus+",
		`"quotes'` + "\\",
		".",
		"..",
		"...",
		"semi;colon,comma",
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v/{key}", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, r.PathValue("key"))
	})
	mux.HandleFunc("GET /q", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, r.URL.Query().Get("k"), "|", r.URL.Query().Get("x"))
	})
	ts := serve(t, mux)
	inPath := newTestOrigin(t, ts.URL+"/v/{key}", nil)
	inQuery := newTestOrigin(t, ts.URL+"/q?k={key}&x=1", nil)
	for _, key := range keys {
		t.Run(key, func(t *testing.T) {
			res, err := inPath.Load(t.Context(), key)
			if err != nil || string(res.Value) != key {
				t.Errorf("in the path: Load = %q, %v; want %q", res.Value, err, key)
			}
			res, err = inQuery.Load(t.Context(), key)
			if want := key + "|1"; err != nil || string(res.Value) != want {
				t.Errorf("in the query: Load = %q, %v; want %q", res.Value, err, want)
			}
		})
	}
}

func TestHTTPConnectionRefused(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	o := newTestOrigin(t, "http://"+addr+"/v/{key}", nil)
	start := time.Now()
	_, err = o.Load(t.Context(), "k")
	if err == nil {
		t.Fatal("Load succeeded against a closed port")
	}
	if errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Load error %v: a refused connection is not a timeout", err)
	}
	var opErr *net.OpError
	if !errors.As(err, &opErr) {
		t.Errorf("Load error %v does not wrap the *net.OpError", err)
	}
	if prefix := "origin: GET http://" + addr + "/v/k: "; !strings.HasPrefix(err.Error(), prefix) {
		t.Errorf("Load error %q, want prefix %q", err, prefix)
	}
	if strings.Count(err.Error(), addr+"/v/k") != 1 {
		t.Errorf("Load error %q repeats the URL", err)
	}
	if took := time.Since(start); took > 10*time.Second {
		t.Errorf("Load took %v to fail", took)
	}
}

func TestHTTPReusesConnections(t *testing.T) {
	var conns atomic.Int32
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v/ok", func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "value") })
	mux.HandleFunc("GET /v/missing", func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, strings.Repeat("not found ", 100), http.StatusNotFound)
	})
	mux.HandleFunc("GET /v/broken", func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, strings.Repeat("broken ", 100), http.StatusInternalServerError)
	})
	ts := httptest.NewUnstartedServer(mux)
	ts.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	ts.Start()
	t.Cleanup(ts.Close)
	o := newTestOrigin(t, ts.URL+"/v/{key}", nil)
	const loads = 60
	for i := range loads {
		key := []string{"ok", "missing", "broken"}[i%3]
		if _, err := o.Load(t.Context(), key); err != nil && key != "broken" {
			t.Fatalf("Load(%q): %v", key, err)
		}
	}
	// Sequential loads share one connection when bodies are drained; a
	// handful more allows for the transport returning a connection to its
	// pool just after the next request started dialing.
	if n := conns.Load(); n > 5 {
		t.Errorf("%d sequential loads opened %d connections, want them reused", loads, n)
	}
}

func TestHTTPConcurrentLoads(t *testing.T) {
	var hits atomic.Int32
	ts := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.Header().Set("Cache-Control", "max-age=5")
		fmt.Fprint(w, strings.TrimPrefix(r.URL.Path, "/v/"))
	}))
	o := newTestOrigin(t, ts.URL+"/v/{key}", nil)
	var wg sync.WaitGroup
	for i := range 64 {
		wg.Go(func() {
			key := fmt.Sprint("key-", i)
			res, err := o.Load(t.Context(), key)
			if err != nil || string(res.Value) != key || res.TTL != 5*time.Second {
				t.Errorf("Load(%q) = %+v, %v", key, res, err)
			}
		})
	}
	wg.Wait()
	if n := hits.Load(); n != 64 {
		t.Errorf("origin served %d requests, want 64", n)
	}
}

func TestHTTPInjectedClient(t *testing.T) {
	var sawAgent atomic.Value
	ts := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sawAgent.Store(r.UserAgent())
		fmt.Fprint(w, "v")
	}))
	o := newTestOrigin(t, ts.URL+"/v/{key}", func(c *Config) { c.HTTPClient = ts.Client() })
	if res, err := o.Load(t.Context(), "k"); err != nil || string(res.Value) != "v" {
		t.Fatalf("Load = %+v, %v", res, err)
	}
	if got := sawAgent.Load(); got != "corral" {
		t.Errorf("User-Agent %q, want corral", got)
	}
}
