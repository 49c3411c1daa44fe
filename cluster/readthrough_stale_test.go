package cluster

import (
	"context"
	"errors"
	"math"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"corral/internal/testkit"
	"corral/origin"
	"corral/xfetch"
)

// fakeRand is a Rand returning a value the test sets, counting its draws.
type fakeRand struct {
	bits  atomic.Uint64
	draws atomic.Int64
}

func (f *fakeRand) set(v float64) { f.bits.Store(math.Float64bits(v)) }

func (f *fakeRand) float64() float64 {
	f.draws.Add(1)
	return math.Float64frombits(f.bits.Load())
}

// within runs fn and fails t unless it returns within 5s: readers that
// must not wait for a held load.
func within(t *testing.T, what string, fn func()) {
	t.Helper()
	done := make(chan struct{})
	go func() { defer close(done); fn() }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatalf("%s waited for the held load", what)
	}
}

// TestReadThroughJitter loads many keys and checks the TTLs they are
// stored with.
func TestReadThroughJitter(t *testing.T) {
	const keys, ttl = 50, time.Minute
	tests := []struct {
		name   string
		jitter float64
		rand   xfetch.Rand
		spread bool // TTLs must differ; else all are exactly ttl
	}{
		{name: "jitter 0.1", jitter: 0.1, rand: seededRand(7), spread: true},
		{name: "jitter 0", jitter: 0, rand: func() float64 { return 0.999 }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := startRT(t, numbered(ttl), func(c *Config) { c.Defenses.Jitter = tc.jitter; c.Rand = tc.rand })
			hi := time.Duration(float64(ttl) * (1 + tc.jitter))
			seen := make(map[time.Duration]bool)
			for i := range keys {
				k := "k" + strconv.Itoa(i)
				if got := e.raw.Do("GET", k); got != bulk(k+"#1") {
					t.Fatalf("GET %s = %q", k, got)
				}
				pttl := time.Duration(intReply(t, e.raw.Do("PTTL", k))) * time.Millisecond
				if pttl < ttl || pttl > hi {
					t.Fatalf("PTTL %s = %v, want within [%v, %v]", k, pttl, ttl, hi)
				}
				seen[pttl] = true
			}
			if tc.spread && len(seen) < keys/2 {
				t.Fatalf("%d distinct TTLs among %d keys, want them spread", len(seen), keys)
			}
			if !tc.spread && (len(seen) != 1 || !seen[ttl]) {
				t.Fatalf("TTLs %v, want all exactly %v", seen, ttl)
			}
		})
	}
}

// TestReadThroughNegative caches a not-found answer for its TTL.
func TestReadThroughNegative(t *testing.T) {
	tests := []struct {
		name string
		swr  time.Duration // 0: the expired entry is reloaded in the GET
	}{
		{name: "reload in the read", swr: 0},
		{name: "reload in the background", swr: 10 * time.Second},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := startRT(t, func(string, int) (origin.Result, error) {
				return origin.Result{TTL: 5 * time.Second}, nil
			}, func(c *Config) { c.Defenses.StaleWhileRevalidate = tc.swr })
			if got := e.raw.Do("GET", "gone"); got != null2 {
				t.Fatalf("GET = %q, want nil", got)
			}
			for i, r := range e.gets(repeat("gone", 200)) {
				if !errors.Is(r.err, redis.Nil) {
					t.Fatalf("reader %d got (%q, %v), want nil", i, r.val, r.err)
				}
			}
			e.clk.Advance(5*time.Second - time.Millisecond)
			if got := e.raw.Do("GET", "gone"); got != null2 || e.o.loadsOf("gone") != 1 {
				t.Fatalf("within TTL: GET = %q, loads = %d; want nil, 1", got, e.o.loadsOf("gone"))
			}
			e.clk.Advance(time.Millisecond)
			if got := e.raw.Do("GET", "gone"); got != null2 {
				t.Fatalf("after TTL: GET = %q, want nil", got)
			}
			e.settled(t)
			if n := e.o.loadsOf("gone"); n != 2 {
				t.Fatalf("after TTL: loads = %d, want 2", n)
			}
		})
	}
}

// TestReadThroughXFetch hits a loaded key at various distances from its
// expiry: XFetch refreshes it in the background only within its horizon
// and for a small enough r, while the reader gets the current value.
func TestReadThroughXFetch(t *testing.T) {
	const ttl, delta = time.Minute, 300 * time.Millisecond
	horizon := xfetch.Horizon(delta, 1)
	smallest := math.Nextafter(1, 0) // 1-r() is then 2^-53, the smallest r
	tests := []struct {
		name    string
		beta    float64
		gap     time.Duration // from the hit to expiry
		r       float64       // what Rand returns
		refresh bool
		draws   bool // whether the hit may draw a random number
	}{
		{name: "beyond the horizon", beta: 1, gap: horizon.Truncate(time.Millisecond) + time.Millisecond, r: smallest},
		{name: "inside the horizon, smallest r", beta: 1, gap: horizon.Truncate(time.Millisecond), r: smallest, refresh: true, draws: true},
		{name: "near expiry, small r", beta: 1, gap: time.Second, r: 0.999999, refresh: true, draws: true},
		{name: "near expiry, large r", beta: 1, gap: time.Second, r: 0, draws: true},
		{name: "beta 0", beta: 0, gap: time.Millisecond, r: smallest},
	}
	early := map[string]string{"role": "store"}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fr := &fakeRand{}
			e := startRT(t, numbered(ttl), func(c *Config) { c.Defenses.Beta = tc.beta; c.Rand = fr.float64 })
			e.o.setDelta(delta)
			if got := e.raw.Do("GET", "k"); got != bulk("k#1") {
				t.Fatalf("GET = %q", got)
			}
			e.clk.Advance(ttl - tc.gap)
			fr.set(tc.r)
			fr.draws.Store(0)
			release := e.o.hold(t)
			if got := e.raw.Do("GET", "k"); got != bulk("k#1") {
				t.Fatalf("hit = %q, want the current value", got)
			}
			if d := fr.draws.Load(); !tc.draws && d != 0 {
				t.Errorf("the hit drew %d random numbers, want none", d)
			}
			if !tc.refresh {
				if n := e.s.rt.flights.InFlight(); n != 0 {
					t.Fatalf("%d refreshes started, want none", n)
				}
				if got := metricValue(t, e.reg, "corral_early_refresh_total", early); got != 0 {
					t.Fatalf("early refreshes = %v, want 0", got)
				}
				return
			}
			if n := e.s.rt.flights.InFlight(); n != 1 {
				t.Fatalf("%d refreshes started, want 1", n)
			}
			within(t, "hits during the refresh", func() { wantAll(t, e.gets(repeat("k", 20)), "k#1") })
			testkit.Eventually(t, func() bool { return e.o.loadsOf("k") == 2 }, 5*time.Second, "refresh did not load")
			if got := metricValue(t, e.reg, "corral_early_refresh_total", early); got != 1 {
				t.Fatalf("early refreshes = %v, want 1", got)
			}
			release()
			e.settled(t)
			if got := e.raw.Do("GET", "k"); got != bulk("k#2") {
				t.Fatalf("GET after the refresh = %q, want k#2", got)
			}
			if got := e.raw.Do("PTTL", "k"); got != num(ttl.Milliseconds()) {
				t.Fatalf("PTTL after the refresh = %q, want the new TTL %v", got, ttl)
			}
			if n := e.o.loadsOf("k"); n != 2 {
				t.Fatalf("loads = %d, want 2", n)
			}
		})
	}
}

// TestReadThroughStaleWhileRevalidate reads an expired key within and past
// the stale-while-revalidate window.
func TestReadThroughStaleWhileRevalidate(t *testing.T) {
	const ttl, swr = 10 * time.Second, 5 * time.Second
	tests := []struct {
		name  string
		past  time.Duration // since expiry
		stale bool
	}{
		{name: "at expiry", past: 0, stale: true},
		{name: "end of the window", past: swr - time.Millisecond, stale: true},
		{name: "past the window", past: swr, stale: false},
	}
	revalidate := map[string]string{"role": "store", "reason": "revalidate"}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := startRT(t, numbered(ttl), func(c *Config) { c.Defenses.StaleWhileRevalidate = swr })
			e.raw.Do("GET", "k")
			e.clk.Advance(ttl + tc.past)
			if !tc.stale {
				if got := e.raw.Do("GET", "k"); got != bulk("k#2") {
					t.Fatalf("GET = %q, want the reloaded k#2", got)
				}
				if got := metricValue(t, e.reg, "corral_stale_served_total", revalidate); got != 0 {
					t.Fatalf("stale served = %v, want 0", got)
				}
				return
			}
			release := e.o.hold(t)
			within(t, "stale readers", func() { wantAll(t, e.gets(repeat("k", 100)), "k#1") })
			if n := e.s.rt.flights.InFlight(); n != 1 {
				t.Fatalf("%d refreshes running, want 1", n)
			}
			testkit.Eventually(t, func() bool { return e.o.loadsOf("k") == 2 }, 5*time.Second, "refresh did not load")
			if got := metricValue(t, e.reg, "corral_stale_served_total", revalidate); got != 100 {
				t.Fatalf("stale served = %v, want 100", got)
			}
			release()
			e.settled(t)
			if got := e.raw.Do("GET", "k"); got != bulk("k#2") {
				t.Fatalf("GET after the refresh = %q, want k#2", got)
			}
			if got := e.raw.Do("PTTL", "k"); got != num(ttl.Milliseconds()) {
				t.Fatalf("PTTL after the refresh = %q", got)
			}
			if n := e.o.loadsOf("k"); n != 2 {
				t.Fatalf("loads = %d, want 2", n)
			}
		})
	}
}

// TestReadThroughStaleIfError serves an expired value while its refreshes
// fail, retrying with full-jitter backoff (Rand 0.5: 50ms, then 100ms),
// until StaleIfError has passed.
func TestReadThroughStaleIfError(t *testing.T) {
	const ttl, swr, sie = 10 * time.Second, 2 * time.Second, time.Minute
	errDown := errors.New("origin http://api/{key}: GET k: 503 Service Unavailable")
	e := startRT(t, func(key string, n int) (origin.Result, error) {
		if n == 1 {
			return numbered(ttl)(key, n)
		}
		return origin.Result{}, errDown
	}, func(c *Config) {
		c.Defenses = xfetch.Config{StaleWhileRevalidate: swr, StaleIfError: sie}
	})
	if got := e.raw.Do("GET", "k"); got != bulk("k#1") {
		t.Fatalf("GET = %q", got)
	}
	steps := []struct {
		name     string
		advance  time.Duration
		readers  int  // concurrent GETs, all served the stale k#1
		hold     bool // hold loads while they read: they must not wait
		loads    int  // loads once settled
		failures int  // failed refreshes recorded
	}{
		{name: "past swr: the read loads, fails, serves stale", advance: ttl + swr + time.Second, readers: 1, loads: 2, failures: 1},
		{name: "retry not due", readers: 100, loads: 2, failures: 1},
		{name: "just before the retry", advance: 49 * time.Millisecond, readers: 1, loads: 2, failures: 1},
		{name: "retry due: one background load", advance: time.Millisecond, readers: 100, hold: true, loads: 3, failures: 2},
		{name: "second backoff not over", advance: 99 * time.Millisecond, readers: 100, loads: 3, failures: 2},
		{name: "second retry", advance: time.Millisecond, readers: 1, loads: 4, failures: 3},
	}
	served := 0
	for _, st := range steps {
		e.clk.Advance(st.advance)
		release := func() {}
		if st.hold {
			release = e.o.hold(t)
		}
		within(t, st.name, func() { wantAll(t, e.gets(repeat("k", st.readers)), "k#1") })
		served += st.readers
		release()
		e.settled(t)
		if n := e.o.loadsOf("k"); n != st.loads {
			t.Fatalf("%s: loads = %d, want %d", st.name, n, st.loads)
		}
		if ent, _ := e.s.rt.table.get([]byte("k")); ent.failures != st.failures {
			t.Fatalf("%s: failures = %d, want %d", st.name, ent.failures, st.failures)
		}
	}
	if got := metricValue(t, e.reg, "corral_stale_served_total", map[string]string{"role": "store", "reason": "error"}); got != float64(served) {
		t.Fatalf("stale served for errors = %v, want %d", got, served)
	}
	age := e.clk.Now().Sub(time.UnixMilli(execEpochMs).Add(ttl))
	e.clk.Advance(sie - age)
	if got, want := e.raw.Do("GET", "k"), errReply("ORIGIN unavailable: "+errDown.Error()); got != want {
		t.Fatalf("GET past stale-if-error = %q, want %q", got, want)
	}
}

// TestReadThroughWrites checks that client writes win over loads: during a
// load (cold or a stale-while-revalidate refresh) and after one.
func TestReadThroughWrites(t *testing.T) {
	tests := []struct {
		name       string
		stale      bool     // the held load refreshes an expired k#1
		during     bool     // the write lands while the load is held
		write      []string // the client's write
		wantReader string   // what the reader got, "" to not check
		wantNext   string   // the next GET after the load
		wantLoads  int      // loads after that GET
	}{
		{name: "set during cold load", during: true, write: []string{"SET", "k", "client"}, wantReader: "client", wantNext: "client", wantLoads: 1},
		{name: "del during cold load", during: true, write: []string{"DEL", "k"}, wantNext: "k#2", wantLoads: 2},
		{name: "set during revalidate", stale: true, during: true, write: []string{"SET", "k", "client"}, wantReader: "k#1", wantNext: "client", wantLoads: 2},
		{name: "del during revalidate", stale: true, during: true, write: []string{"DEL", "k"}, wantReader: "k#1", wantNext: "k#3", wantLoads: 3},
		{name: "del after load", write: []string{"DEL", "k"}, wantReader: "k#1", wantNext: "k#2", wantLoads: 2},
		{name: "getdel after load", write: []string{"GETDEL", "k"}, wantReader: "k#1", wantNext: "k#2", wantLoads: 2},
		{name: "set after load", write: []string{"SET", "k", "client"}, wantReader: "k#1", wantNext: "client", wantLoads: 1},
		{name: "expire after load", write: []string{"EXPIRE", "k", "0"}, wantReader: "k#1", wantNext: "k#2", wantLoads: 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := startRT(t, numbered(10*time.Second), nil)
			if tc.stale {
				e.raw.Do("GET", "k")
				e.clk.Advance(11 * time.Second)
			}
			release := func() {}
			if tc.during {
				release = e.o.hold(t)
			}
			reader := make(chan getReply, 1)
			if tc.stale || !tc.during {
				v, err := e.rdb.Get(context.Background(), "k").Result()
				reader <- getReply{v, err}
			} else {
				go func() { reader <- e.gets([]string{"k"})[0] }()
			}
			start := 1 // loads begun before the write
			if tc.stale {
				start = 2 // k#1 and its refresh
			}
			testkit.Eventually(t, func() bool { return e.o.loadsOf("k") == start }, 5*time.Second, "load did not start")
			e.raw.Do(tc.write...)
			release()
			r := <-reader
			if tc.wantReader != "" && (r.err != nil || r.val != tc.wantReader) {
				t.Fatalf("reader got (%q, %v), want %q", r.val, r.err, tc.wantReader)
			}
			e.settled(t)
			if got := e.raw.Do("GET", "k"); got != bulk(tc.wantNext) {
				t.Fatalf("GET after the load = %q, want %q (a write during a load must win)", got, bulk(tc.wantNext))
			}
			if n := e.o.loadsOf("k"); n != tc.wantLoads {
				t.Fatalf("loads = %d, want %d", n, tc.wantLoads)
			}
			if rec, ok := e.s.eng.Get([]byte("k"), e.clk.Now().UnixMilli()); !ok || string(rec.Value) != tc.wantNext {
				t.Fatalf("engine holds (%q, %v), want %q", rec.Value, ok, tc.wantNext)
			}
		})
	}
}

// TestReadThroughWriteDropsStale writes an expired loaded key: the stale
// copy must not be served after the write.
func TestReadThroughWriteDropsStale(t *testing.T) {
	tests := []struct {
		name  string
		write []string
	}{
		{name: "del", write: []string{"DEL", "k"}},
		{name: "set px", write: []string{"SET", "k", "client", "PX", "1"}},
		{name: "flushall", write: []string{"FLUSHALL"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := startRT(t, numbered(10*time.Second), func(c *Config) { c.AllowFlush = true })
			e.raw.Do("GET", "k")
			e.clk.Advance(11 * time.Second) // expired, within stale-while-revalidate
			if got := e.raw.Do(tc.write...); strings.HasPrefix(got, "-") {
				t.Fatalf("%q = %q", tc.write, got)
			}
			e.clk.Advance(time.Millisecond)
			if got := e.raw.Do("GET", "k"); got != bulk("k#2") {
				t.Fatalf("GET after %q = %q, want the reloaded k#2", tc.write, got)
			}
		})
	}
}
