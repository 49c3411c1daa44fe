package admin

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"corral/internal/testkit"
)

const waitFor = 10 * time.Second

func newServer(t *testing.T, cfg Config) *Server {
	t.Helper()
	s, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return s
}

// get serves one request through s.Handler and returns the recorder.
func get(t *testing.T, s *Server, method, target string) *httptest.ResponseRecorder {
	t.Helper()
	rec := httptest.NewRecorder()
	s.Handler().ServeHTTP(rec, httptest.NewRequest(method, target, nil))
	return rec
}

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		name    string
		cfg     Config
		wantErr []string
	}{
		{name: "default", cfg: DefaultConfig()},
		{name: "disabled", cfg: Config{}},
		{name: "loopback any port", cfg: Config{Addr: "127.0.0.1:0"}},
		{name: "no port", cfg: Config{Addr: "localhost"}, wantErr: []string{`addr "localhost"`}},
		{name: "bad port", cfg: Config{Addr: ":99999"}, wantErr: []string{"bad port"}},
		{name: "everything wrong", cfg: Config{Addr: "x", ShutdownTimeout: -1, ReadHeaderTimeout: -1},
			wantErr: []string{`addr "x"`, "shutdown timeout -1ns", "read header timeout -1ns"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.cfg.Validate()
			if len(tt.wantErr) == 0 {
				if err != nil {
					t.Fatalf("Validate = %v, want nil", err)
				}
				return
			}
			if !errors.Is(err, ErrInvalidConfig) {
				t.Fatalf("Validate = %v, want ErrInvalidConfig", err)
			}
			for _, want := range tt.wantErr {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("Validate = %q, missing %q", err, want)
				}
			}
			if _, err := New(tt.cfg); !errors.Is(err, ErrInvalidConfig) {
				t.Errorf("New = %v, want ErrInvalidConfig", err)
			}
		})
	}
}

func TestEndpoints(t *testing.T) {
	no := func() bool { return false }
	reg := prometheus.NewRegistry()
	counter := prometheus.NewCounter(prometheus.CounterOpts{Name: "corral_admin_test_total", Help: "A test counter."})
	reg.MustRegister(counter)
	counter.Add(3)

	tests := []struct {
		name     string
		cfg      Config
		method   string
		target   string
		wantCode int
		wantBody string // exact, or with a trailing "..." a substring
	}{
		{"index", Config{}, "GET", "/", 200, "corral admin\n/metrics /ready /alive /drain /status /debug/pprof/\n"},
		{"unknown path", Config{}, "GET", "/nope", 404, "404 page not found..."},
		{"metrics", Config{Gatherer: reg}, "GET", "/metrics", 200, "corral_admin_test_total 3\n..."},
		{"metrics help", Config{Gatherer: reg}, "GET", "/metrics", 200, "# HELP corral_admin_test_total A test counter.\n..."},
		{"metrics unset", Config{}, "GET", "/metrics", 501, "metrics not configured\n"},
		{"ready nil", Config{}, "GET", "/ready", 200, "ready\n"},
		{"ready true", Config{Ready: func() bool { return true }}, "GET", "/ready", 200, "ready\n"},
		{"ready false", Config{Ready: no}, "GET", "/ready", 503, "not ready\n"},
		{"ready head", Config{Ready: no}, "HEAD", "/ready", 503, "not ready\n"},
		{"ready post", Config{}, "POST", "/ready", 405, "..."},
		{"alive nil", Config{}, "GET", "/alive", 200, "alive\n"},
		{"alive false", Config{Alive: no}, "GET", "/alive", 503, "not alive\n"},
		{"drain get", Config{Drain: func() {}}, "GET", "/drain", 200, "draining\n"},
		{"drain post", Config{Drain: func() {}}, "POST", "/drain", 200, "draining\n"},
		{"drain put", Config{Drain: func() {}}, "PUT", "/drain", 405, "..."},
		{"drain unset", Config{}, "POST", "/drain", 501, "drain not supported\n"},
		{"status custom", Config{Status: func(w io.Writer) { io.WriteString(w, "members: 3\n") }}, "GET", "/status", 200, "members: 3\n"},
		{"status minimal", Config{Ready: no}, "GET", "/status", 200,
			"corral\nready: false\nalive: true\ndraining: false\nendpoints: /metrics /ready /alive /drain /status /debug/pprof/\n"},
		{"pprof index", Config{}, "GET", "/debug/pprof/", 200, "goroutine..."},
		{"pprof named profile", Config{}, "GET", "/debug/pprof/goroutine?debug=1", 200, "goroutine profile:..."},
		{"pprof cmdline", Config{}, "GET", "/debug/pprof/cmdline", 200, "admin.test..."},
		{"pprof symbol", Config{}, "GET", "/debug/pprof/symbol", 200, "num_symbols:..."},
		{"pprof trace", Config{}, "GET", "/debug/pprof/trace?seconds=0.001", 200, "go 1...."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := get(t, newServer(t, tt.cfg), tt.method, tt.target)
			if rec.Code != tt.wantCode {
				t.Fatalf("%s %s = %d, want %d; body %q", tt.method, tt.target, rec.Code, tt.wantCode, rec.Body)
			}
			body := rec.Body.String()
			if sub, ok := strings.CutSuffix(tt.wantBody, "..."); ok {
				if !strings.Contains(body, sub) {
					t.Errorf("body %.300q does not contain %q", body, sub)
				}
			} else if body != tt.wantBody {
				t.Errorf("body = %q, want %q", body, tt.wantBody)
			}
			if strings.HasPrefix(tt.target, "/debug/") || tt.wantCode == 404 || tt.wantCode == 405 {
				return
			}
			if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
				t.Errorf("Content-Type = %q, want text/plain", ct)
			}
		})
	}
}

func TestPprofProfile(t *testing.T) {
	s := newServer(t, Config{})
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // ends the profile at once instead of after ?seconds
	rec := httptest.NewRecorder()
	s.Handler().ServeHTTP(rec, httptest.NewRequestWithContext(ctx, "GET", "/debug/pprof/profile?seconds=30", nil))
	if rec.Code != 200 || rec.Header().Get("Content-Type") != "application/octet-stream" {
		t.Fatalf("profile = %d %q; body %q", rec.Code, rec.Header().Get("Content-Type"), rec.Body)
	}
}

func TestDrainOnce(t *testing.T) {
	var calls atomic.Int32
	entered, release := make(chan struct{}), make(chan struct{})
	s := newServer(t, Config{Drain: func() {
		calls.Add(1)
		close(entered)
		<-release
	}})
	if s.Draining() {
		t.Fatal("Draining before /drain")
	}

	const n = 20
	codes := make(chan int, n)
	var wg sync.WaitGroup
	for i := range n {
		method := []string{"GET", "POST"}[i%2]
		wg.Go(func() { codes <- get(t, s, method, "/drain").Code })
		if i == 0 {
			<-entered // later requests arrive while Drain runs
		}
	}
	if !s.Draining() {
		t.Error("Draining false while Drain runs")
	}
	close(release)
	wg.Wait()
	close(codes)
	for code := range codes {
		if code != 200 {
			t.Errorf("/drain = %d, want 200", code)
		}
	}
	if rec := get(t, s, "POST", "/drain"); rec.Code != 200 || rec.Body.String() != "draining\n" {
		t.Errorf("later /drain = %d %q", rec.Code, rec.Body)
	}
	if got := calls.Load(); got != 1 {
		t.Fatalf("Drain called %d times, want 1", got)
	}
	if body := get(t, s, "GET", "/status").Body.String(); !strings.Contains(body, "draining: true") {
		t.Errorf("status page %q does not show draining", body)
	}
}

func TestReadyFlips(t *testing.T) {
	var ready, alive atomic.Bool
	s := newServer(t, Config{Ready: ready.Load, Alive: alive.Load})
	steps := []struct {
		ready, alive        bool
		wantReady, wantLive int
	}{
		{false, true, 503, 200},
		{true, true, 200, 200},
		{false, true, 503, 200},
		{true, false, 200, 503},
	}
	for i, st := range steps {
		ready.Store(st.ready)
		alive.Store(st.alive)
		if got := get(t, s, "GET", "/ready").Code; got != st.wantReady {
			t.Errorf("step %d: /ready = %d, want %d", i, got, st.wantReady)
		}
		if got := get(t, s, "GET", "/alive").Code; got != st.wantLive {
			t.Errorf("step %d: /alive = %d, want %d", i, got, st.wantLive)
		}
	}
}

// run starts s.Run on a goroutine and returns a channel with its result.
func run(ctx context.Context, s *Server) <-chan error {
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	return done
}

func waitRun(t *testing.T, done <-chan error) error {
	t.Helper()
	select {
	case err := <-done:
		return err
	case <-time.After(waitFor):
		t.Fatal("Run did not return")
		return nil
	}
}

func httpGet(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	return resp.StatusCode, string(body)
}

func TestRunRealListener(t *testing.T) {
	reg := prometheus.NewRegistry()
	reg.MustRegister(prometheus.NewGauge(prometheus.GaugeOpts{Name: "corral_admin_up", Help: "Up."}))
	s := newServer(t, Config{Addr: "127.0.0.1:0", Gatherer: reg})
	if s.Addr() != "" {
		t.Fatalf("Addr before Listen = %q", s.Addr())
	}
	if err := s.Listen(); err != nil {
		t.Fatal(err)
	}
	if err := s.Listen(); !errors.Is(err, ErrAlreadyListening) {
		t.Fatalf("second Listen = %v, want ErrAlreadyListening", err)
	}
	addr := s.Addr()
	if !strings.HasPrefix(addr, "127.0.0.1:") || strings.HasSuffix(addr, ":0") {
		t.Fatalf("Addr = %q, want 127.0.0.1 and a real port", addr)
	}

	ctx, cancel := context.WithCancel(context.Background())
	done := run(ctx, s)
	if code, body := httpGet(t, "http://"+addr+"/ready"); code != 200 || body != "ready\n" {
		t.Errorf("/ready = %d %q", code, body)
	}
	if code, body := httpGet(t, "http://"+addr+"/metrics"); code != 200 || !strings.Contains(body, "corral_admin_up 0") {
		t.Errorf("/metrics = %d %q", code, body)
	}
	if err := s.Run(ctx); !errors.Is(err, ErrAlreadyRun) {
		t.Errorf("second Run = %v, want ErrAlreadyRun", err)
	}

	cancel()
	if err := waitRun(t, done); err != nil {
		t.Fatalf("Run = %v, want nil", err)
	}
	if conn, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
		conn.Close()
		t.Fatal("still accepting after Run returned")
	}
}

func TestRunListensItself(t *testing.T) {
	s := newServer(t, Config{Addr: "127.0.0.1:0"})
	ctx, cancel := context.WithCancel(context.Background())
	done := run(ctx, s)
	select {
	case <-s.Listening():
	case <-time.After(waitFor):
		t.Fatal("never listening")
	}
	if code, _ := httpGet(t, "http://"+s.Addr()+"/alive"); code != 200 {
		t.Errorf("/alive = %d", code)
	}
	cancel()
	if err := waitRun(t, done); err != nil {
		t.Fatalf("Run = %v", err)
	}
}

func TestRunDisabled(t *testing.T) {
	s := newServer(t, Config{})
	ctx, cancel := context.WithCancel(context.Background())
	done := run(ctx, s)
	<-s.Listening()
	if s.Addr() != "" {
		t.Errorf("Addr = %q, want empty when disabled", s.Addr())
	}
	select {
	case err := <-done:
		t.Fatalf("Run returned %v before ctx was done", err)
	default:
	}
	cancel()
	if err := waitRun(t, done); err != nil {
		t.Fatalf("Run = %v", err)
	}
}

func TestRunAddrInUse(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	s := newServer(t, Config{Addr: l.Addr().String()})
	if err := waitRun(t, run(context.Background(), s)); err == nil || !strings.Contains(err.Error(), "admin: listen") {
		t.Fatalf("Run = %v, want a listen error", err)
	}
}

func TestRunShutdownIsBounded(t *testing.T) {
	entered, release := make(chan struct{}), make(chan struct{})
	defer close(release)
	s := newServer(t, Config{
		Addr:            "127.0.0.1:0",
		ShutdownTimeout: 50 * time.Millisecond,
		Status: func(w io.Writer) {
			close(entered)
			<-release // a handler that ignores its context
		},
	})
	if err := s.Listen(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := run(ctx, s)
	clientErr := make(chan error, 1)
	go func() {
		resp, err := http.Get("http://" + s.Addr() + "/status")
		if err == nil {
			_, err = io.ReadAll(resp.Body)
			resp.Body.Close()
		}
		clientErr <- err
	}()
	<-entered
	cancel()
	if err := waitRun(t, done); err != nil {
		t.Fatalf("Run = %v, want nil after a forced close", err)
	}
	select {
	case err := <-clientErr:
		if err == nil {
			t.Error("stuck request completed, want its connection closed")
		}
	case <-time.After(waitFor):
		t.Fatal("client not released by the forced close")
	}
	testkit.Eventually(t, func() bool {
		conn, err := net.DialTimeout("tcp", s.Addr(), time.Second)
		if err == nil {
			conn.Close()
		}
		return err != nil
	}, waitFor, "listener still open")
}
