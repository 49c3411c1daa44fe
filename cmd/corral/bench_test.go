package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"corral/internal/testkit"
)

// TestBenchStampedeInProcess runs a small stampede end to end through the
// real launcher: a naive run against a corral store and a corral run
// through `corral dev`, both reading an in-process origin simulator. The
// naive clients must load from the origin many times more often than
// corral does, and the reports must be written.
func TestBenchStampedeInProcess(t *testing.T) {
	dir := t.TempDir()
	jsonPath, htmlPath := filepath.Join(dir, "s.json"), filepath.Join(dir, "s.html")
	var out, errOut bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	began := time.Now()
	err := run(ctx, []string{"bench", "stampede", "--duration", "3s", "--clients", "100", "--rate", "2000", "--keys", "2",
		"--json", jsonPath, "--html", htmlPath, "--quiet"}, env(), &out, &errOut)
	if err != nil {
		t.Fatalf("bench stampede: %v\n%s", err, errOut.String())
	}
	took := time.Since(began)
	t.Logf("took %v:\n%s", took.Round(time.Millisecond), out.String())
	if took > 20*time.Second {
		t.Errorf("a 3s stampede took %v", took)
	}
	raw, err := os.ReadFile(jsonPath)
	if err != nil {
		t.Fatal(err)
	}
	var rep struct {
		Scenario string
		Runs     []struct {
			Name        string
			OriginLoads *int64  `json:"origin_loads"`
			Ops         uint64  `json:"ops"`
			P99Ms       float64 `json:"p99_ms"`
			Errors      uint64  `json:"errors"`
		}
		Series map[string][]json.RawMessage
	}
	if err := json.Unmarshal(raw, &rep); err != nil {
		t.Fatalf("JSON report: %v", err)
	}
	if rep.Scenario != "stampede" || len(rep.Runs) != 2 || rep.Runs[0].Name != "naive" || rep.Runs[1].Name != "corral" {
		t.Fatalf("report: %+v", rep)
	}
	naive, corral := rep.Runs[0], rep.Runs[1]
	if naive.OriginLoads == nil || corral.OriginLoads == nil || naive.Ops == 0 || corral.Ops == 0 {
		t.Fatalf("runs lack figures: %+v", rep.Runs)
	}
	if *naive.OriginLoads < 10*max(*corral.OriginLoads, 1) {
		t.Errorf("origin loads: naive %d, corral %d; want naive at least 10x corral's", *naive.OriginLoads, *corral.OriginLoads)
	}
	if corral.Errors != 0 {
		t.Errorf("corral run: %d errors", corral.Errors)
	}
	if len(rep.Series["naive"]) < 3 || len(rep.Series["corral"]) < 3 {
		t.Errorf("series of %d and %d points", len(rep.Series["naive"]), len(rep.Series["corral"]))
	}
	page, err := os.ReadFile(htmlPath)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(page, []byte("<svg")) || !bytes.Contains(page, []byte("Origin loads per second")) {
		t.Error("HTML report lacks its charts")
	}
	if !strings.Contains(out.String(), "fewer") || errOut.Len() != 0 {
		t.Errorf("stdout %q, stderr %q: want the summary on stdout and a quiet stderr", out.String(), errOut.String())
	}
}

func TestBenchCommandLine(t *testing.T) {
	tests := []struct {
		name string
		args []string
		env  func(string) string
		want string
	}{
		{"no scenario", []string{"bench"}, env(), "missing scenario"},
		{"unknown scenario", []string{"bench", "thunder"}, env(), `unknown scenario "thunder"`},
		{"bad distribution", []string{"bench", "zipf", "--dist", "pareto"}, env(), "pareto"},
		{"bad env", []string{"bench", "stampede"}, env("CORRAL_CLIENTS", "many"), "CORRAL_CLIENTS"},
		{"zero clients", []string{"bench", "stampede", "--clients", "0"}, env(), "--clients"},
		{"ablation with addr", []string{"bench", "ablation", "--addr", "127.0.0.1:1"}, env(), "--addr"},
		{"recovery with addr and no origin", []string{"bench", "recovery", "--addr", "127.0.0.1:1"}, env(), "--origin-stats"},
		{"origin bad latency", []string{"bench", "origin", "--latency", "-1s"}, env(), "--latency"},
		{"origin recover without fail", []string{"bench", "origin", "--recover-after", "1s"}, env(), "--fail-after"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := run(context.Background(), tt.args, tt.env, &bytes.Buffer{}, &bytes.Buffer{})
			var msg bytes.Buffer
			if code := exitCode(err, &msg); code != 2 {
				t.Fatalf("exit code %d (err %v), want 2", code, err)
			}
			if !strings.Contains(msg.String(), tt.want) {
				t.Fatalf("message %q does not mention %q", msg.String(), tt.want)
			}
		})
	}
}

func TestBenchHelp(t *testing.T) {
	for _, sub := range []string{"stampede", "recovery", "zipf", "ablation", "origin"} {
		t.Run(sub, func(t *testing.T) {
			var errOut bytes.Buffer
			err := run(context.Background(), []string{"bench", sub, "--help"}, env(), &bytes.Buffer{}, &errOut)
			if !errors.Is(err, flag.ErrHelp) {
				t.Fatalf("--help returned %v", err)
			}
			for _, want := range []string{"--latency", "CORRAL_LATENCY", "--max-concurrency"} {
				if !strings.Contains(errOut.String(), want) {
					t.Errorf("help lacks %q", want)
				}
			}
		})
	}
	var out bytes.Buffer
	if err := run(context.Background(), []string{"bench", "help"}, env(), &out, &bytes.Buffer{}); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"stampede", "recovery", "zipf", "ablation", "origin"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("bench help lacks %s", want)
		}
	}
}

// TestLaunchReportsEphemeralAddresses starts `corral dev` on port 0
// through the launcher: the addresses it reports serve, and Stop stops it.
func TestLaunchReportsEphemeralAddresses(t *testing.T) {
	ctx := context.Background()
	tg, err := launch(ctx, []string{"dev", "--listen", "127.0.0.1:0", "--admin", "127.0.0.1:0", "--log-level", "error"})
	if err != nil {
		t.Fatal(err)
	}
	stopped := false
	defer func() {
		if !stopped {
			_ = tg.Stop()
		}
	}()
	if strings.HasSuffix(tg.Addr, ":0") || strings.HasSuffix(tg.Admin, ":0") || tg.Addr == "" || tg.Admin == "" {
		t.Fatalf("launched at %q, admin %q: want bound ports", tg.Addr, tg.Admin)
	}
	c := redis.NewClient(&redis.Options{Addr: tg.Addr})
	defer c.Close()
	if err := c.Set(ctx, "k", "v", 0).Err(); err != nil {
		t.Fatal(err)
	}
	resp, err := http.Get("http://" + tg.Admin + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !bytes.Contains(body, []byte("corral_l1_hits_total")) {
		t.Fatal("the reported admin address does not serve the proxy's metrics")
	}
	stopped = true
	if err := tg.Stop(); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	if err := c.Ping(ctx).Err(); err == nil {
		t.Fatal("still answering after Stop")
	}

	_, err = launch(ctx, []string{"dev", "--listen", "127.0.0.1:0", "--admin", "", "--no-such-switch=false"})
	if err == nil || !strings.Contains(err.Error(), "flag provided but not defined") {
		t.Fatalf("launch with an unknown flag: %v; want the flag error, which the ablation looks for", err)
	}
	if _, err := launch(ctx, []string{"bench", "stampede"}); err == nil {
		t.Fatal("launched a bench from a bench")
	}
}

// TestBenchOriginServes runs `corral bench origin` on port 0.
func TestBenchOriginServes(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	out := &testkit.SyncBuffer{}
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"bench", "origin", "--listen", "127.0.0.1:0", "--latency", "0", "--max-age", "3s"}, env(), out, &bytes.Buffer{})
	}()
	re := regexp.MustCompile(`serving http://(127\.0\.0\.1:\d+)/k/\{key\}`)
	testkit.Eventually(t, func() bool { return re.MatchString(out.String()) }, 10*time.Second, "bench origin never said where it serves: %q", out)
	addr := re.FindStringSubmatch(out.String())[1]
	resp, err := http.Get("http://" + addr + "/k/user:1")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Cache-Control") != "max-age=3" {
		t.Fatalf("GET /k/user:1: %d, Cache-Control %q", resp.StatusCode, resp.Header.Get("Cache-Control"))
	}
	resp, err = http.Get("http://" + addr + "/stats")
	if err != nil {
		t.Fatal(err)
	}
	var st struct{ Loads int64 }
	_ = json.NewDecoder(resp.Body).Decode(&st)
	resp.Body.Close()
	if st.Loads != 1 {
		t.Fatalf("/stats loads = %d, want 1", st.Loads)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("bench origin returned %v after shutdown", err)
	}
}
