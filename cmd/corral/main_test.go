package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"corral/internal/testkit"
)

func env(kv ...string) func(string) string {
	m := map[string]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return func(k string) string { return m[k] }
}

func TestCommandLineErrorsExit2(t *testing.T) {
	tests := []struct {
		name string
		args []string
		env  func(string) string
		want string // in the message
	}{
		{"no command", nil, env(), "missing command"},
		{"unknown command", []string{"frobnicate"}, env(), `unknown command "frobnicate"`},
		{"unknown flag", []string{"store", "--bogus"}, env(), "bogus"},
		{"bad int flag", []string{"store", "--maxclients", "lots"}, env(), "maxclients"},
		{"bad size flag", []string{"store", "--proto-max-bulk-len", "12xb"}, env(), "proto-max-bulk-len"},
		{"bad env", []string{"store"}, env("CORRAL_MAXCLIENTS", "lots"), "CORRAL_MAXCLIENTS"},
		{"bad env size", []string{"store"}, env("CORRAL_CLIENT_QUERY_BUFFER_LIMIT", "-1"), "CORRAL_CLIENT_QUERY_BUFFER_LIMIT"},
		{"proxy without upstream", []string{"proxy"}, env(), "--upstream or --seeds is required"},
		{"bad upstream", []string{"proxy", "--upstream", "http://x"}, env(), "upstream"},
		{"bad log level", []string{"store", "--log-level", "loud"}, env(), "--log-level"},
		{"bad log format", []string{"store", "--log-format", "xml"}, env(), "--log-format"},
		{"invalid config", []string{"store", "--maxclients", "0"}, env(), "maxclients"},
		{"stray argument", []string{"store", "extra"}, env(), `unexpected argument "extra"`},
		{"bad origin scheme", []string{"store", "--origin", "ftp://x/{key}"}, env(), "--origin"},
		{"origin without key", []string{"dev", "--origin", "http://127.0.0.1:1/v"}, env(), "{key}"},
		{"negative beta", []string{"store", "--xfetch-beta", "-1"}, env(), "--xfetch-beta"},
		{"negative stale window", []string{"proxy", "--upstream", "redis://127.0.0.1:1", "--stale-if-error", "-1s"}, env(), "--stale-if-error"},
		{"bad jitter env", []string{"dev"}, env("CORRAL_TTL_JITTER", "much"), "CORRAL_TTL_JITTER"},
		{"bad breaker ratio", []string{"store", "--breaker-failure-ratio", "2"}, env(), "--breaker-failure-ratio"},
		{"negative max inflight", []string{"dev", "--max-inflight", "-1"}, env(), "--max-inflight"},
		{"output limit arity", []string{"store", "--client-output-buffer-limit", "1mb 1mb"}, env(), `want "hard soft seconds"`},
		{"output limit class", []string{"store", "--client-output-buffer-limit", "pubsub 1mb 1mb 60"}, env(), `class "pubsub"`},
		{"output limit size", []string{"store", "--client-output-buffer-limit", "1xb 1mb 60"}, env(), "hard limit"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			err := run(context.Background(), tt.args, tt.env, &out, &errOut)
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

func TestHelpDocumentsEveryFlagWithDefaultAndEnv(t *testing.T) {
	for _, role := range []string{"proxy", "store", "dev"} {
		t.Run(role, func(t *testing.T) {
			var out, errOut bytes.Buffer
			err := run(context.Background(), []string{role, "--help"}, env(), &out, &errOut)
			if code := exitCode(err, &bytes.Buffer{}); code != 0 {
				t.Fatalf("--help exit code %d", code)
			}
			help := errOut.String()
			for _, want := range []string{"--listen", "--admin", "--maxclients", "--timeout", "--proto-max-bulk-len",
				"--client-query-buffer-limit", "--allow-flush", "--requirepass", "--users-file", "CORRAL_USERS_FILE", "--log-level", "--log-format",
				"CORRAL_LISTEN", "CORRAL_PROTO_MAX_BULK_LEN", `(default "512mb"`, `(default "10000"`} {
				if !strings.Contains(help, want) {
					t.Errorf("help lacks %q:\n%s", want, help)
				}
			}
		})
	}
}

func TestFlagsWinOverEnvironment(t *testing.T) {
	var c commonFlags
	f := newFlags("store", "", &bytes.Buffer{})
	f.common(&c, ":7379")
	err := f.parse([]string{"--maxclients", "5"}, env("CORRAL_MAXCLIENTS", "7", "CORRAL_TIMEOUT", "30", "CORRAL_ALLOW_FLUSH", "true"))
	if err != nil {
		t.Fatal(err)
	}
	if c.maxclients != 5 || c.timeout != 30*time.Second || !c.allowFlush {
		t.Fatalf("maxclients %d timeout %v allowFlush %v; want 5 (flag), 30s and true (env)", c.maxclients, c.timeout, c.allowFlush)
	}
}

func TestOutputLimitFlag(t *testing.T) {
	var hard, soft int64
	var secs time.Duration
	f := outputLimitFlag{&hard, &soft, &secs}
	for in, want := range map[string][3]int64{
		"0 0 0":                 {0, 0, 0},
		"256mb 64mb 60":         {256 << 20, 64 << 20, 60},
		"normal 1gb 512kb 90s":  {1 << 30, 512 << 10, 90},
		"NORMAL 1000 100 2":     {1000, 100, 2},
		"  64mb   16mb   1m   ": {64 << 20, 16 << 20, 60},
	} {
		if err := f.Set(in); err != nil {
			t.Errorf("%q: %v", in, err)
			continue
		}
		if got := [3]int64{hard, soft, int64(secs / time.Second)}; got != want {
			t.Errorf("%q = %v, want %v", in, got, want)
		}
	}
	if err := f.Set("1mb 1mb -1"); err == nil {
		t.Error("negative seconds accepted")
	}
}

func TestParseSize(t *testing.T) {
	tests := []struct {
		in   string
		want int64
		ok   bool
	}{
		{"100", 100, true}, {"1k", 1000, true}, {"1kb", 1024, true}, {"1m", 1e6, true},
		{"512mb", 512 << 20, true}, {"1gb", 1 << 30, true}, {"2G", 2e9, true}, {"1GB", 1 << 30, true},
		{"", 0, false}, {"mb", 0, false}, {"-1", 0, false}, {"1.5mb", 0, false}, {"1tb", 0, false},
		{"99999999999gb", 0, false},
	}
	for _, tt := range tests {
		got, err := parseSize(tt.in)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("parseSize(%q) = %d, %v; want %d, ok %v", tt.in, got, err, tt.want, tt.ok)
		}
	}
}

func TestVersion(t *testing.T) {
	var out bytes.Buffer
	if err := run(context.Background(), []string{"version"}, env(), &out, &bytes.Buffer{}); err != nil {
		t.Fatal(err)
	}
	if got := out.String(); got != "corral "+version+"\n" {
		t.Fatalf("version printed %q", got)
	}
}

// TestDevServesAndShutsDown runs `corral dev` in-process: clients work
// through the proxy, /ready answers, and cancelling the context (what
// SIGTERM does) stops it in bounded time.
// TestUsersFileErrorsExit2: a users file that cannot be read or parsed, or
// that defines the default user while --requirepass does too, stops the
// process with a message naming the problem (and the file and line).
func TestUsersFileErrorsExit2(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	bad := write("bad.acl", "user alice on >pw +@read\nuser bob on +@nosuch\n")
	withDefault := write("default.acl", "user default on >pw +@all ~*\n")
	for _, tt := range []struct {
		name string
		args []string
		want string
	}{
		{"missing", []string{"store", "--users-file", filepath.Join(dir, "none.acl")}, "none.acl"},
		{"bad rule", []string{"store", "--users-file", bad}, "bad.acl:2: user \"bob\", rule 2: \"@nosuch\": unknown category"},
		{"two default passwords", []string{"dev", "--users-file", withDefault, "--requirepass", "x"}, "--requirepass and a \"default\" user"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			err := run(context.Background(), tt.args, env(), &bytes.Buffer{}, &bytes.Buffer{})
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

// TestDevWithUsersFile: corral dev started with --users-file lets a
// read-only user read and refuses its writes with Redis's NOPERM text,
// and refuses clients that do not AUTH when the default user is off.
func TestDevWithUsersFile(t *testing.T) {
	users := filepath.Join(t.TempDir(), "users.acl")
	if err := os.WriteFile(users, []byte("user default off\nuser reader on >rpw ~* +@read +@connection\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	port := testkit.FreePort(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"dev", "--listen", "127.0.0.1:" + strconv.Itoa(port), "--admin", "",
			"--users-file", users, "--log-level", "warn"}, env(), &bytes.Buffer{}, &bytes.Buffer{})
	}()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("dev returned %v", err)
		}
	}()
	reader := redis.NewClient(&redis.Options{Addr: "127.0.0.1:" + strconv.Itoa(port), Username: "reader", Password: "rpw"})
	defer reader.Close()
	testkit.Eventually(t, func() bool { return reader.Ping(ctx).Err() == nil }, 10*time.Second, "corral dev never answered PING")
	if err := reader.Get(ctx, "k").Err(); err != redis.Nil {
		t.Errorf("GET as reader = %v, want nil reply", err)
	}
	if err := reader.Set(ctx, "k", "v", 0).Err(); err == nil || err.Error() != "NOPERM this user has no permissions to run the 'set' command" {
		t.Errorf("SET as reader = %v", err)
	}
	anon := redis.NewClient(&redis.Options{Addr: "127.0.0.1:" + strconv.Itoa(port), Protocol: 2, DisableIdentity: true})
	defer anon.Close()
	if err := anon.Get(ctx, "k").Err(); err == nil || !strings.HasPrefix(err.Error(), "NOAUTH") {
		t.Errorf("GET without AUTH = %v, want NOAUTH", err)
	}
}

func TestDevServesAndShutsDown(t *testing.T) {
	port, adminPort := testkit.FreePort(t), testkit.FreePort(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	var out bytes.Buffer
	go func() {
		done <- run(ctx, []string{"dev", "--listen", "127.0.0.1:" + strconv.Itoa(port),
			"--admin", "127.0.0.1:" + strconv.Itoa(adminPort), "--log-format", "json", "--log-level", "warn"},
			env(), &out, &bytes.Buffer{})
	}()
	client := redis.NewClient(&redis.Options{Addr: "127.0.0.1:" + strconv.Itoa(port)})
	defer client.Close()
	testkit.Eventually(t, func() bool { return client.Ping(ctx).Err() == nil }, 10*time.Second, "corral dev never answered PING")
	if err := client.Set(ctx, "k", "v", time.Minute).Err(); err != nil {
		t.Fatal(err)
	}
	if v, err := client.Get(ctx, "k").Result(); err != nil || v != "v" {
		t.Fatalf("GET = %q, %v", v, err)
	}
	resp, err := http.Get("http://127.0.0.1:" + strconv.Itoa(adminPort) + "/ready")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("/ready = %d", resp.StatusCode)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("dev returned %v after shutdown", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("corral dev did not stop within 15s of the shutdown signal")
	}
	if !strings.Contains(out.String(), "redis-cli -p "+strconv.Itoa(port)) {
		t.Fatalf("dev did not print how to connect: %q", out.String())
	}
}

// TestDevReadsThroughToOrigin runs `corral dev --origin` in-process: a GET
// miss loads from the HTTP origin, and the defense flags reach both roles
// (the store's origin breaker and the proxy's upstream breaker are both
// exported).
func TestDevReadsThroughToOrigin(t *testing.T) {
	var loads atomic.Int32
	org := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		loads.Add(1)
		if r.URL.Path == "/v/missing" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Cache-Control", "max-age=60")
		io.WriteString(w, "from-origin:"+strings.TrimPrefix(r.URL.Path, "/v/"))
	}))
	defer org.Close()
	port, adminPort := testkit.FreePort(t), testkit.FreePort(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"dev", "--listen", "127.0.0.1:" + strconv.Itoa(port),
			"--admin", "127.0.0.1:" + strconv.Itoa(adminPort), "--log-level", "warn",
			"--origin", org.URL + "/v/{key}", "--xfetch-beta", "2", "--max-inflight", "32"},
			env(), &bytes.Buffer{}, &bytes.Buffer{})
	}()
	client := redis.NewClient(&redis.Options{Addr: "127.0.0.1:" + strconv.Itoa(port)})
	defer client.Close()
	testkit.Eventually(t, func() bool { return client.Ping(ctx).Err() == nil }, 10*time.Second, "corral dev never answered PING")
	if v, err := client.Get(ctx, "user:1").Result(); err != nil || v != "from-origin:user:1" {
		t.Fatalf("GET user:1 = %q, %v; want the origin's value", v, err)
	}
	if err := client.Get(ctx, "missing").Err(); err != redis.Nil {
		t.Fatalf("GET of a key the origin 404s = %v, want nil", err)
	}
	if ttl := client.TTL(ctx, "user:1").Val(); ttl < 59*time.Second || ttl > 66*time.Second {
		t.Fatalf("TTL of the loaded key = %v, want max-age 60s spread by at most 10%%", ttl)
	}
	if n := loads.Load(); n != 2 {
		t.Fatalf("origin loads = %d, want 2", n)
	}
	resp, err := http.Get("http://127.0.0.1:" + strconv.Itoa(adminPort) + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{`corral_origin_fetches_total{result="ok"} 1`, `corral_origin_fetches_total{result="negative"} 1`,
		`corral_breaker_state{target="origin ` + org.URL + `/v/{key}"} 0`, `corral_shed_limit{target="upstream 127.0.0.1:`} {
		if !strings.Contains(string(body), want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("dev returned %v after shutdown", err)
	}
}
