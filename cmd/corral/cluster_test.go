package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"corral/internal/testkit"
)

func TestNodeIDFromHostname(t *testing.T) {
	for _, tc := range []struct{ host, want string }{
		{"corral-store-3", "3"},
		{"corral-store-12.corral-store.default.svc.cluster.local", "12"},
		{"corral-proxy-7d9f8b-x2x4z", "corral-proxy-7d9f8b-x2x4z"},
		{"laptop", "laptop"},
	} {
		if got := nodeIDFromHostname(tc.host); got != tc.want {
			t.Errorf("nodeIDFromHostname(%q) = %q, want %q", tc.host, got, tc.want)
		}
	}
}

func TestClusterFlagErrorsExit2(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"store", "--write-acks", "most"}, "--write-acks"},
		{[]string{"store", "--replicas", "0"}, "--replicas"},
		{[]string{"store", "--ae-interval", "0s"}, "--ae-interval"},
		{[]string{"proxy"}, "--seeds"},
		{[]string{"proxy", "--upstream", "redis://127.0.0.1:1", "--seeds", "127.0.0.1:1"}, "exclusive"},
	} {
		err := run(context.Background(), tc.args, env(), io.Discard, io.Discard)
		var stderr bytes.Buffer
		if code := exitCode(err, &stderr); code != 2 || !strings.Contains(stderr.String(), tc.want) {
			t.Errorf("%v: exit %d, %q; want 2 naming %s", tc.args, code, stderr.String(), tc.want)
		}
	}
}

// TestStoresAndProxyFormACluster starts two `corral store` nodes and a
// `corral proxy --seeds` in-process with the real flags: writes through the
// proxy land on both stores (RF 2), the stores report ready, and /status
// lists the members. Every role has the default user off and one
// application user: stores and the proxy authenticate to each other with
// the cluster secret's token alone.
func TestStoresAndProxyFormACluster(t *testing.T) {
	users := filepath.Join(t.TempDir(), "users.acl")
	if err := os.WriteFile(users, []byte("user default off\nuser app on >pw ~* +@all\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	type proc struct {
		resp, admin, gossip int
		done                chan error
	}
	start := func(args ...string) *proc {
		p := &proc{resp: testkit.FreePort(t), admin: testkit.FreePort(t), gossip: testkit.FreePort(t), done: make(chan error, 1)}
		args = append(args, "--listen", "127.0.0.1:"+strconv.Itoa(p.resp), "--admin", "127.0.0.1:"+strconv.Itoa(p.admin),
			"--gossip", "127.0.0.1:"+strconv.Itoa(p.gossip), "--partitions", "64", "--log-level", "warn", "--log-format", "json",
			"--users-file", users, "--cluster-secret", "cs")
		go func() { p.done <- run(ctx, args, env(), io.Discard, io.Discard) }()
		return p
	}
	s0 := start("store", "--node-id", "0", "--ae-interval", "200ms")
	s1 := start("store", "--node-id", "1", "--ae-interval", "200ms", "--seeds", "127.0.0.1:"+strconv.Itoa(s0.gossip))
	px := start("proxy", "--node-id", "p", "--seeds", fmt.Sprintf("127.0.0.1:%d,127.0.0.1:%d", s0.gossip, s1.gossip))
	defer func() {
		stopped := time.Now()
		defer func() { t.Logf("shut down in %v", time.Since(stopped)) }()
		cancel()
		waitRoles(t, px.done, s1.done, s0.done)
	}()
	get := func(port int, path string) (int, string) {
		resp, err := http.Get("http://127.0.0.1:" + strconv.Itoa(port) + path)
		if err != nil {
			return 0, err.Error()
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	owners := func(port int) string {
		c := redis.NewClient(&redis.Options{Addr: "127.0.0.1:" + strconv.Itoa(port), Username: "app", Password: "pw", MaxRetries: -1})
		defer c.Close()
		info, _ := c.Info(ctx, "replication").Result()
		return info
	}
	testkit.Eventually(t, func() bool {
		c0, _ := get(s0.admin, "/ready")
		c1, _ := get(s1.admin, "/ready")
		cp, _ := get(px.admin, "/ready")
		return c0 == 200 && c1 == 200 && cp == 200 &&
			strings.Contains(owners(s0.resp), "cluster_owners:2\r\n") && strings.Contains(owners(s1.resp), "cluster_owners:2\r\n")
	}, 20*time.Second, "stores and proxy never all ready with two owners")

	pc := redis.NewClient(&redis.Options{Addr: "127.0.0.1:" + strconv.Itoa(px.resp), Username: "app", Password: "pw", MaxRetries: -1})
	defer pc.Close()
	for i := range 100 {
		k := fmt.Sprint("k", i)
		if err := pc.Set(ctx, k, k, 0).Err(); err != nil {
			t.Fatalf("SET through the proxy: %v", err)
		}
	}
	for _, s := range []*proc{s0, s1} {
		c := redis.NewClient(&redis.Options{Addr: "127.0.0.1:" + strconv.Itoa(s.resp), Username: "app", Password: "pw", MaxRetries: -1})
		info, err := c.Info(ctx, "keyspace").Result()
		c.Close()
		if err != nil || !strings.Contains(info, "db0:keys=100,") {
			t.Errorf("store INFO keyspace = %q, %v; want all 100 keys on each of the two owners", info, err)
		}
	}
	if n, err := pc.DBSize(ctx).Result(); err != nil || n != 100 {
		t.Errorf("DBSIZE through the proxy = %d, %v", n, err)
	}
	_, st := get(s1.admin, "/status")
	for _, want := range []string{"node 1, phase active", "proxy"} {
		if !strings.Contains(st, want) {
			t.Errorf("/status lacks %q:\n%s", want, st)
		}
	}
	// /drain on a store: it hands its partitions to the other and exits
	// by itself, admin server included; nothing is lost.
	if code, _ := get(s1.admin, "/drain"); code != 200 {
		t.Fatalf("/drain = %d", code)
	}
	select {
	case err := <-s1.done:
		if err != nil {
			t.Fatalf("store 1 after /drain: %v", err)
		}
		s1.done <- nil // for the deferred shutdown
	case <-time.After(20 * time.Second):
		t.Fatal("store 1 did not exit within 20s of /drain")
	}
	if code, _ := get(s1.admin, "/ready"); code != 0 {
		t.Errorf("store 1's admin server still answers after its drain (%d)", code)
	}
	testkit.Eventually(t, func() bool { n, err := pc.DBSize(ctx).Result(); return err == nil && n == 100 }, 10*time.Second,
		"the 100 keys are not all on the remaining store after the drain")
}

// waitRoles waits, in order, for each role's run to return after its
// context was cancelled, failing the test on an error or after 40s.
func waitRoles(t *testing.T, done ...chan error) {
	t.Helper()
	for _, d := range done {
		select {
		case err := <-d:
			if err != nil {
				t.Errorf("shutdown: %v", err)
			}
		case <-time.After(40 * time.Second):
			t.Error("a role did not stop within 40s")
		}
	}
}
