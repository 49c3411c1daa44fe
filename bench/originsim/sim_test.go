package originsim

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"corral/internal/clock"
)

func TestDelay(t *testing.T) {
	ms := time.Millisecond
	tests := []struct {
		name           string
		base, jitter   time.Duration
		inflight, maxc int
		u              float64
		want           time.Duration
	}{
		{"under the limit", 100 * ms, 0, 10, 50, 0, 100 * ms},
		{"at the limit", 100 * ms, 0, 50, 50, 0, 100 * ms},
		{"twice the limit takes twice as long", 100 * ms, 0, 100, 50, 0, 200 * ms},
		{"unlimited", 100 * ms, 0, 10000, 0, 0, 100 * ms},
		{"jitter", 100 * ms, 20 * ms, 1, 0, 0.5, 110 * ms},
		{"jitter and overload", 100 * ms, 20 * ms, 20, 10, 0.5, 220 * ms},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Delay(tt.base, tt.jitter, tt.inflight, tt.maxc, tt.u); got != tt.want {
				t.Fatalf("Delay = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestFailingSchedule(t *testing.T) {
	start := time.Unix(1000, 0)
	s := time.Second
	tests := []struct {
		at                time.Duration
		failAfter, recovr time.Duration
		want              bool
	}{
		{10 * s, 0, 0, false},
		{4 * s, 5 * s, 3 * s, false},
		{5 * s, 5 * s, 3 * s, true},
		{7 * s, 5 * s, 3 * s, true},
		{8 * s, 5 * s, 3 * s, false},
		{100 * s, 5 * s, 0, true},
	}
	for _, tt := range tests {
		if got := Failing(start, start.Add(tt.at), tt.failAfter, tt.recovr); got != tt.want {
			t.Errorf("Failing at %v (fail after %v, recover after %v) = %v, want %v", tt.at, tt.failAfter, tt.recovr, got, tt.want)
		}
	}
}

func get(t *testing.T, srv *httptest.Server, path string) (*http.Response, string) {
	t.Helper()
	resp, err := http.Get(srv.URL + path)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp, string(body)
}

func TestServesCountsAndFails(t *testing.T) {
	fc := clock.NewFake(time.Unix(0, 0))
	cfg := DefaultConfig()
	cfg.Latency, cfg.MaxAge, cfg.ValueSize = 0, 1500*time.Millisecond, 40
	cfg.FailAfter, cfg.RecoverAfter = 10*time.Second, 5*time.Second
	cfg.Clock = fc
	sim, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(sim.Handler())
	defer srv.Close()

	resp, body := get(t, srv, "/k/user:1")
	if resp.StatusCode != 200 || len(body) != 40 || !strings.HasPrefix(body, "user:1#1") {
		t.Fatalf("GET /k/user:1 = %d %q", resp.StatusCode, body)
	}
	if cc := resp.Header.Get("Cache-Control"); cc != "max-age=2" {
		t.Fatalf("Cache-Control = %q, want max-age=2 (1.5s rounded up)", cc)
	}
	get(t, srv, "/k/user:1")
	get(t, srv, "/k/a%2Fb")
	if n := sim.KeyLoads("user:1"); n != 2 {
		t.Fatalf("loads of user:1 = %d, want 2", n)
	}
	if n := sim.KeyLoads("a/b"); n != 1 {
		t.Fatalf("loads of a/b = %d, want 1 (escaped path)", n)
	}

	fc.Advance(11 * time.Second) // inside the scheduled failure
	if resp, _ := get(t, srv, "/k/user:1"); resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("during the scheduled failure: %d, want 503", resp.StatusCode)
	}
	fc.Advance(5 * time.Second) // recovered
	if resp, _ := get(t, srv, "/k/user:1"); resp.StatusCode != 200 {
		t.Fatalf("after recovery: %d, want 200", resp.StatusCode)
	}
	if resp, err := http.Post(srv.URL+"/fail", "", nil); err != nil || resp.StatusCode != 200 {
		t.Fatalf("POST /fail: %v", err)
	}
	if resp, _ := get(t, srv, "/k/x"); resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("after POST /fail: %d, want 503", resp.StatusCode)
	}
	if resp, err := http.Post(srv.URL+"/recover", "", nil); err != nil || resp.StatusCode != 200 {
		t.Fatalf("POST /recover: %v", err)
	}

	_, js := get(t, srv, "/stats?top=1")
	var st Stats
	if err := json.Unmarshal([]byte(js), &st); err != nil {
		t.Fatalf("/stats: %v in %s", err, js)
	}
	want := Stats{Loads: 6, Failed: 2, Served: 4, Keys: 3, MaxInflight: 1, Top: []KeyLoads{{"user:1", 4}}}
	if st.Loads != want.Loads || st.Failed != want.Failed || st.Served != want.Served || st.Keys != want.Keys ||
		st.MaxInflight != want.MaxInflight || st.Failing || fmt.Sprint(st.Top) != fmt.Sprint(want.Top) {
		t.Fatalf("/stats = %+v, want %+v", st, want)
	}
}

func TestConfigValidate(t *testing.T) {
	c := Config{Addr: "", Latency: -1, MaxConcurrency: -1, ValueSize: -1, RecoverAfter: time.Second}
	err := c.Validate()
	if err == nil {
		t.Fatal("bad config accepted")
	}
	for _, want := range []string{"--listen", "--latency", "--max-concurrency", "--value-size", "--recover-after needs --fail-after"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not mention %s: %v", want, err)
		}
	}
}
