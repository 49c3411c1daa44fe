package proxy

import (
	"context"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"corral/internal/clock"
	"corral/internal/testkit"
)

// startProxy runs a proxy in front of upstream until the test ends.
func startProxy(t testing.TB, upstream string, mod func(*Config)) *Proxy {
	t.Helper()
	cfg := DefaultConfig()
	cfg.Server.Addr = "127.0.0.1:0"
	cfg.Server.IOLoops = testkit.IOLoops(t)
	cfg.Upstream = "redis://" + upstream
	if mod != nil {
		mod(&cfg)
	}
	p, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Listen(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("proxy Run: %v", err)
		}
	})
	return p
}

// upstreamCalls reads how many times the upstream redis-server ran cmd.
func upstreamCalls(t *testing.T, rc *testkit.RawConn, cmd string) int {
	t.Helper()
	info := rc.Do("INFO", "commandstats")
	for _, line := range strings.Split(info, "\r\n") {
		if rest, ok := strings.CutPrefix(line, "cmdstat_"+cmd+":calls="); ok {
			n, _ := strconv.Atoi(rest[:strings.IndexByte(rest, ',')])
			return n
		}
	}
	return 0
}

func TestConcurrentMissesCollapseToOneUpstreamFetch(t *testing.T) {
	up := testkit.StartRedis(t)
	admin := testkit.Dial(t, up)
	admin.Do("SET", "hot", "value")
	admin.Do("CONFIG", "RESETSTAT")
	// XFetch off: under a loaded machine a slow fill makes an early
	// refresh likely, and this test counts collapsed misses only.
	p := startProxy(t, up, func(c *Config) { c.Defenses.Beta = 0 })

	client := redis.NewClient(&redis.Options{Addr: p.Addr(), PoolSize: 1000, Protocol: 2})
	defer client.Close()
	const readers = 1000
	var wg sync.WaitGroup
	start := make(chan struct{})
	errs := make(chan error, readers)
	for range readers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			v, err := client.Get(context.Background(), "hot").Result()
			if err == nil && v != "value" {
				err = &mismatch{v}
			}
			if err != nil {
				errs <- err
			}
		}()
	}
	close(start)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if n := upstreamCalls(t, admin, "get"); n != 1 {
		t.Fatalf("upstream saw %d GETs for 1000 concurrent readers of one key; want exactly 1", n)
	}
}

type mismatch struct{ got string }

func (m *mismatch) Error() string { return "got " + m.got + ", want value" }

func TestReadYourWritesThroughL1(t *testing.T) {
	up := testkit.StartRedis(t)
	p := startProxy(t, up, func(c *Config) { c.L1MaxAge = time.Hour })
	c := testkit.Dial(t, p.Addr())
	c.Do("SET", "k", "v1")
	if got := c.Do("GET", "k"); got != "$2\r\nv1\r\n" {
		t.Fatalf("GET = %q", got)
	}
	steps := []struct {
		cmd  []string
		want string
	}{
		{[]string{"SET", "k", "v2"}, "$2\r\nv2\r\n"},
		{[]string{"APPEND", "k", "x"}, "$3\r\nv2x\r\n"},
		{[]string{"DEL", "k"}, "$-1\r\n"},
		{[]string{"INCR", "k"}, "$1\r\n1\r\n"},
		{[]string{"MSET", "a", "1", "k", "9"}, "$1\r\n9\r\n"},
		{[]string{"GETDEL", "k"}, "$-1\r\n"},
	}
	for _, s := range steps {
		c.Do(s.cmd...)
		if got := c.Do("GET", "k"); got != s.want {
			t.Fatalf("after %v: GET = %q, want %q", s.cmd, got, s.want)
		}
	}
}

func TestL1NeverOutlivesUpstreamTTL(t *testing.T) {
	up := testkit.StartRedis(t)
	admin := testkit.Dial(t, up)
	clk := clock.NewFake(time.Now())
	p := startProxy(t, up, func(c *Config) { c.L1MaxAge = time.Hour; c.Clock = clk })
	admin.Do("SET", "short", "v", "PX", "60000")
	admin.Do("SET", "long", "v")
	admin.Do("CONFIG", "RESETSTAT")
	c := testkit.Dial(t, p.Addr())
	c.Do("GET", "short")
	c.Do("GET", "long")
	c.Do("GET", "short")
	c.Do("GET", "long")
	if n := upstreamCalls(t, admin, "get"); n != 2 {
		t.Fatalf("upstream GETs = %d after two reads of two keys; want 2 (second reads from L1)", n)
	}
	clk.Advance(61 * time.Second) // past short's TTL, within the L1 max age
	c.Do("GET", "short")
	c.Do("GET", "long")
	if n := upstreamCalls(t, admin, "get"); n != 3 {
		t.Fatalf("upstream GETs = %d; want 3: only the key whose TTL ran out is refetched", n)
	}
}

func TestMGetSplitsHitsAndMisses(t *testing.T) {
	up := testkit.StartRedis(t)
	admin := testkit.Dial(t, up)
	admin.Do("MSET", "a", "1", "b", "2", "c", "3")
	p := startProxy(t, up, func(c *Config) { c.L1MaxAge = time.Hour })
	c := testkit.Dial(t, p.Addr())
	c.Do("GET", "a")
	admin.Do("CONFIG", "RESETSTAT")
	got := c.Do("MGET", "a", "b", "nope", "c")
	if want := "*4\r\n$1\r\n1\r\n$1\r\n2\r\n$-1\r\n$1\r\n3\r\n"; got != want {
		t.Fatalf("MGET = %q, want %q", got, want)
	}
	if n := upstreamCalls(t, admin, "get"); n != 3 {
		t.Fatalf("upstream GETs = %d; want 3 (a came from L1)", n)
	}
	c.Do("MGET", "a", "b", "nope", "c")
	if n := upstreamCalls(t, admin, "get"); n != 3 {
		t.Fatalf("upstream GETs = %d after a second MGET; want still 3", n)
	}
}

func TestFlushRefusedWithoutAllowFlush(t *testing.T) {
	up := testkit.StartRedis(t)
	p := startProxy(t, up, nil)
	c := testkit.Dial(t, p.Addr())
	c.Do("SET", "k", "v")
	if got := c.Do("FLUSHALL"); !strings.HasPrefix(got, "-ERR FLUSHALL is disabled") {
		t.Fatalf("FLUSHALL = %q", got)
	}
	if got := c.Do("GET", "k"); got != "$1\r\nv\r\n" {
		t.Fatalf("key lost after refused FLUSHALL: %q", got)
	}
}

func TestUpstreamDownGivesClearError(t *testing.T) {
	port := testkit.FreePort(t) // nothing listens there
	p := startProxy(t, "127.0.0.1:"+strconv.Itoa(port), func(c *Config) { c.UpstreamTimeout = 500 * time.Millisecond })
	c := testkit.Dial(t, p.Addr())
	if got := c.Do("GET", "k"); !strings.HasPrefix(got, "-UPSTREAM unavailable: ") {
		t.Fatalf("GET with the upstream down = %q", got)
	}
	if got := c.Do("PING"); got != "+PONG\r\n" {
		t.Fatalf("PING after an upstream error = %q", got)
	}
}

func TestMGetAnswersNilForOtherTypes(t *testing.T) {
	up := testkit.StartRedis(t)
	admin := testkit.Dial(t, up)
	admin.Do("SET", "s", "v")
	admin.Do("RPUSH", "list", "x")
	p := startProxy(t, up, nil)
	c := testkit.Dial(t, p.Addr())
	want := admin.Do("MGET", "s", "list", "none")
	if got := c.Do("MGET", "s", "list", "none"); got != want {
		t.Fatalf("MGET through the proxy = %q, redis = %q", got, want)
	}
	if got := c.Do("GET", "list"); !strings.HasPrefix(got, "-WRONGTYPE") {
		t.Fatalf("GET of a list = %q, want WRONGTYPE", got)
	}
}

func TestFlushAllThroughProxyEmptiesL1(t *testing.T) {
	up := testkit.StartRedis(t)
	p := startProxy(t, up, func(c *Config) { c.AllowFlush = true; c.L1MaxAge = time.Hour })
	c := testkit.Dial(t, p.Addr())
	c.Do("SET", "k", "v")
	c.Do("GET", "k")
	if got := c.Do("FLUSHALL"); got != "+OK\r\n" {
		t.Fatalf("FLUSHALL = %q", got)
	}
	if got := c.Do("GET", "k"); got != "$-1\r\n" {
		t.Fatalf("GET after FLUSHALL = %q, want nil", got)
	}
}
