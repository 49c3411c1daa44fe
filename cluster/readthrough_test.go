package cluster

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"

	"corral/collapse"
	"corral/internal/clock"
	"corral/internal/testkit"
	"corral/origin"
	"corral/shed"
	"corral/xfetch"
)

// respondFunc scripts a fakeLoader: n counts the loads of key, from 1.
type respondFunc func(key string, n int) (origin.Result, error)

// numbered answers key#n, cacheable for ttl, so every load's value differs.
func numbered(ttl time.Duration) respondFunc {
	return func(key string, n int) (origin.Result, error) {
		return origin.Result{Value: []byte(key + "#" + strconv.Itoa(n)), Found: true, TTL: ttl}, nil
	}
}

// fakeLoader is the Loader of these tests: it counts loads per key and
// their concurrency, holds loads while a gate is set, advances the fake
// clock by delta during each load (its cost, XFetch's delta), then answers
// with respond.
type fakeLoader struct {
	clk *clock.Fake

	mu          sync.Mutex // guards the fields below
	respond     respondFunc
	delta       time.Duration
	gate        chan struct{} // nil: loads do not wait
	loads       map[string]int
	inflight    int
	maxInflight int
}

func (f *fakeLoader) Load(ctx context.Context, key string) (origin.Result, error) {
	f.mu.Lock()
	f.loads[key]++
	n := f.loads[key]
	f.inflight++
	f.maxInflight = max(f.maxInflight, f.inflight)
	gate := f.gate
	f.mu.Unlock()
	defer func() {
		f.mu.Lock()
		f.inflight--
		f.mu.Unlock()
	}()
	if gate != nil {
		select {
		case <-gate:
		case <-ctx.Done():
			return origin.Result{}, ctx.Err()
		}
	}
	f.mu.Lock()
	respond, delta := f.respond, f.delta
	f.mu.Unlock()
	f.clk.Advance(delta)
	return respond(key, n)
}

// hold makes loads starting from now wait until the returned release is
// called (at the latest when t ends).
func (f *fakeLoader) hold(t *testing.T) (release func()) {
	gate := make(chan struct{})
	f.mu.Lock()
	f.gate = gate
	f.mu.Unlock()
	var once sync.Once
	release = func() {
		once.Do(func() {
			f.mu.Lock()
			if f.gate == gate {
				f.gate = nil
			}
			f.mu.Unlock()
			close(gate)
		})
	}
	t.Cleanup(release)
	return release
}

func (f *fakeLoader) setRespond(r respondFunc) { f.mu.Lock(); f.respond = r; f.mu.Unlock() }
func (f *fakeLoader) setDelta(d time.Duration) { f.mu.Lock(); f.delta = d; f.mu.Unlock() }
func (f *fakeLoader) loadsOf(key string) int   { f.mu.Lock(); defer f.mu.Unlock(); return f.loads[key] }

// stats returns the loads of all keys, those in progress and the most ever
// in progress at once.
func (f *fakeLoader) stats() (total, inflight, maxInflight int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, n := range f.loads {
		total += n
	}
	return total, f.inflight, f.maxInflight
}

// rtEnv is a running Store with read-through from a fakeLoader.
type rtEnv struct {
	s   *Store
	clk *clock.Fake
	o   *fakeLoader
	reg *prometheus.Registry
	rdb *redis.Client    // for concurrent readers
	raw *testkit.RawConn // for exact replies, from the test goroutine only
}

// startRT runs a Store on 127.0.0.1:0 loading from a fakeLoader answering
// respond. The base config is deterministic: fake clock, Jitter 0, Rand
// always 0.5, SWR 10s, SIE 5m; mutate adjusts it.
func startRT(t *testing.T, respond respondFunc, mutate func(*Config)) *rtEnv {
	t.Helper()
	clk := clock.NewFake(time.UnixMilli(execEpochMs))
	o := &fakeLoader{clk: clk, respond: respond, loads: make(map[string]int)}
	reg := prometheus.NewRegistry()
	cfg := DefaultConfig()
	cfg.Server.Addr = "127.0.0.1:0"
	cfg.Engine.Partitions = 16
	cfg.Clock = clk
	cfg.Registerer = reg
	cfg.Origin = o
	cfg.Defenses = xfetch.Config{Beta: 1, StaleWhileRevalidate: 10 * time.Second, StaleIfError: 5 * time.Minute}
	cfg.Rand = func() float64 { return 0.5 }
	if mutate != nil {
		mutate(&cfg)
	}
	s, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	if err := s.Listen(); err != nil {
		t.Fatalf("Listen: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Run: %v", err)
			}
		case <-time.After(15 * time.Second):
			t.Errorf("Run did not return")
		}
	})
	rdb := redis.NewClient(&redis.Options{Addr: s.Addr(), Protocol: 2, DisableIdentity: true, MaxRetries: -1,
		PoolSize: 256, ReadTimeout: 10 * time.Second, PoolTimeout: 10 * time.Second})
	t.Cleanup(func() { rdb.Close() })
	return &rtEnv{s: s, clk: clk, o: o, reg: reg, rdb: rdb, raw: testkit.Dial(t, s.Addr())}
}

// getReply is what one GET of a concurrent batch got.
type getReply struct {
	val string
	err error
}

// gets runs one GET per key concurrently, each on its own connection of
// the pool, and returns the replies in the order of keys.
func (e *rtEnv) gets(keys []string) []getReply {
	out := make([]getReply, len(keys))
	var wg sync.WaitGroup
	for i, k := range keys {
		wg.Go(func() {
			v, err := e.rdb.Get(context.Background(), k).Result()
			out[i] = getReply{v, err}
		})
	}
	wg.Wait()
	return out
}

// wantAll fails t unless every reply is the value want.
func wantAll(t *testing.T, replies []getReply, want string) {
	t.Helper()
	for i, r := range replies {
		if r.err != nil || r.val != want {
			t.Fatalf("reader %d got (%q, %v), want %q", i, r.val, r.err, want)
		}
	}
}

// repeat returns n copies of key.
func repeat(key string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = key
	}
	return out
}

// settled waits until no load, background ones included, is running.
func (e *rtEnv) settled(t *testing.T) {
	t.Helper()
	testkit.Eventually(t, func() bool { return e.s.rt.flights.InFlight() == 0 }, 5*time.Second, "flights did not finish")
}

// intReply parses a raw integer reply.
func intReply(t *testing.T, raw string) int64 {
	t.Helper()
	n, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimPrefix(raw, ":"), "\r\n"), 10, 64)
	if err != nil || !strings.HasPrefix(raw, ":") {
		t.Fatalf("not an integer reply: %q", raw)
	}
	return n
}

// metricValue returns the value of the counter or gauge name whose labels
// include want, 0 when there is none.
func metricValue(t *testing.T, reg *prometheus.Registry, name string, want map[string]string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatalf("gather: %v", err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	next:
		for _, m := range mf.GetMetric() {
			have := make(map[string]string)
			for _, lp := range m.GetLabel() {
				have[lp.GetName()] = lp.GetValue()
			}
			for k, v := range want {
				if have[k] != v {
					continue next
				}
			}
			if m.GetCounter() != nil {
				return m.GetCounter().GetValue()
			}
			return m.GetGauge().GetValue()
		}
	}
	return 0
}

// seededRand is a deterministic Rand, safe for concurrent use.
func seededRand(seed uint64) xfetch.Rand {
	var mu sync.Mutex
	r := rand.New(rand.NewPCG(seed, seed))
	return func() float64 {
		mu.Lock()
		defer mu.Unlock()
		return r.Float64()
	}
}

// TestReadThroughCollapse reads a cold key from 200 clients while the load
// is held: one load, every reader gets its value, which is then held with
// the origin's TTL plus at most Jitter.
func TestReadThroughCollapse(t *testing.T) {
	const readers, ttl = 200, time.Minute
	e := startRT(t, numbered(ttl), func(c *Config) { c.Defenses.Jitter = 0.1; c.Rand = seededRand(1) })
	release := e.o.hold(t)
	done := make(chan []getReply, 1)
	go func() { done <- e.gets(repeat("user:1", readers)) }()
	testkit.Eventually(t, func() bool {
		return e.o.loadsOf("user:1") == 1 && e.s.rt.flights.Waiters("user:1") == readers-1
	}, 5*time.Second, "readers did not all join one load")
	release()
	wantAll(t, <-done, "user:1#1")
	if n := e.o.loadsOf("user:1"); n != 1 {
		t.Fatalf("loads = %d, want 1", n)
	}
	pttl := time.Duration(intReply(t, e.raw.Do("PTTL", "user:1"))) * time.Millisecond
	if pttl < ttl || pttl > ttl+ttl/10 {
		t.Fatalf("PTTL = %v, want within [%v, %v]", pttl, ttl, ttl+ttl/10)
	}
}

// TestReadThroughNoStore returns an uncacheable answer without keeping it.
func TestReadThroughNoStore(t *testing.T) {
	e := startRT(t, func(key string, n int) (origin.Result, error) {
		return origin.Result{Value: []byte(key + "#" + strconv.Itoa(n)), Found: true, NoStore: true}, nil
	}, nil)
	for n := 1; n <= 2; n++ {
		if got, want := e.raw.Do("GET", "k"), bulk("k#"+strconv.Itoa(n)); got != want {
			t.Fatalf("GET %d = %q, want %q", n, got, want)
		}
		if got := e.raw.Do("EXISTS", "k"); got != num(0) {
			t.Fatalf("EXISTS after GET %d = %q, want 0", n, got)
		}
		if l := e.s.rt.table.len(); l != 0 {
			t.Fatalf("loaded table holds %d entries, want 0", l)
		}
	}
}

// TestReadThroughMGet answers MGET of held, negative and cold keys in
// order, with one load per key not held.
func TestReadThroughMGet(t *testing.T) {
	originDown := errors.New("origin http://api/{key}: GET bad: 503 Service Unavailable")
	e := startRT(t, func(key string, n int) (origin.Result, error) {
		switch key {
		case "none":
			return origin.Result{TTL: time.Minute}, nil
		case "bad":
			return origin.Result{}, originDown
		}
		return numbered(time.Minute)(key, n)
	}, nil)
	if got := e.raw.Do("SET", "held", "v"); got != ok {
		t.Fatalf("SET = %q", got)
	}
	if got := e.raw.Do("GET", "warm"); got != bulk("warm#1") {
		t.Fatalf("GET warm = %q", got)
	}
	want := "*5\r\n" + bulk("v") + bulk("c1#1") + bulk("warm#1") + bulk("c2#1") + null2
	for i := range 2 {
		if got := e.raw.Do("MGET", "held", "c1", "warm", "c2", "none"); got != want {
			t.Fatalf("MGET %d = %q, want %q", i, got, want)
		}
	}
	for key, want := range map[string]int{"held": 0, "c1": 1, "warm": 1, "c2": 1, "none": 1} {
		if n := e.o.loadsOf(key); n != want {
			t.Errorf("loads of %s = %d, want %d", key, n, want)
		}
	}
	if got, want := e.raw.Do("MGET", "c1", "bad"), errReply("ORIGIN unavailable: "+originDown.Error()); got != want {
		t.Fatalf("MGET with a failing key = %q, want %q", got, want)
	}
}

// TestReadThroughBreaker opens the breaker after failed loads of distinct
// keys: cold reads then fail fast without loading, and once its Timeout
// has passed a probe goes through.
func TestReadThroughBreaker(t *testing.T) {
	e := startRT(t, func(key string, _ int) (origin.Result, error) {
		return origin.Result{}, fmt.Errorf("origin api: GET %s: 503 Service Unavailable", key)
	}, func(c *Config) {
		c.OriginName = "api"
		c.Breaker = shed.BreakerConfig{MinRequests: 3, FailureRatio: 0.5, Window: 10 * time.Second,
			Timeout: 5 * time.Second, HalfOpenRequests: 1}
	})
	const open = "-BREAKER open: api is failing; retry later\r\n"
	steps := []struct {
		advance time.Duration
		key     string
		up      bool // the origin works from this step on
		want    string
		loads   int // total loads after the step
	}{
		{key: "a", want: errReply("ORIGIN unavailable: origin api: GET a: 503 Service Unavailable"), loads: 1},
		{key: "b", want: errReply("ORIGIN unavailable: origin api: GET b: 503 Service Unavailable"), loads: 2},
		{key: "c", want: errReply("ORIGIN unavailable: origin api: GET c: 503 Service Unavailable"), loads: 3},
		{key: "d", want: open, loads: 3},
		{key: "e", up: true, want: open, loads: 3},
		{advance: 5*time.Second - time.Millisecond, key: "d", want: open, loads: 3},
		{advance: time.Millisecond, key: "d", want: bulk("d#1"), loads: 4}, // the probe
		{key: "e", want: bulk("e#1"), loads: 5},                            // closed again
	}
	for i, st := range steps {
		e.clk.Advance(st.advance)
		if st.up {
			e.o.setRespond(numbered(time.Minute))
		}
		if got := e.raw.Do("GET", st.key); got != st.want {
			t.Fatalf("step %d GET %s = %q, want %q", i, st.key, got, st.want)
		}
		if total, _, _ := e.o.stats(); total != st.loads {
			t.Fatalf("step %d: loads = %d, want %d", i, total, st.loads)
		}
	}
	if got := metricValue(t, e.reg, "corral_origin_fetches_total", map[string]string{"result": "rejected"}); got != 3 {
		t.Fatalf("rejected fetches = %v, want 3", got)
	}
}

// TestReadThroughShed reads 10 cold keys at once through a limiter of 2
// loads queueing 20ms: 2 load, 8 are shed, and no slot leaks.
func TestReadThroughShed(t *testing.T) {
	e := startRT(t, numbered(time.Minute), func(c *Config) {
		c.Admission.Limiter = shed.LimiterConfig{MaxInflight: 2, QueueTimeout: 20 * time.Millisecond}
	})
	release := e.o.hold(t)
	keys := make([]string, 10)
	for i := range keys {
		keys[i] = "k" + strconv.Itoa(i)
	}
	type answer struct {
		key string
		getReply
	}
	answers := make(chan answer, len(keys))
	for _, k := range keys {
		go func() {
			v, err := e.rdb.Get(context.Background(), k).Result()
			answers <- answer{k, getReply{v, err}}
		}()
	}
	deadline := time.After(5 * time.Second)
	next := func() answer {
		t.Helper()
		select {
		case a := <-answers:
			return a
		case <-deadline:
			t.Fatal("readers did not answer")
			return answer{}
		}
	}
	loaded := make(map[string]bool)
	for range 8 {
		a := next()
		const want = "SHED overloaded: no fetch slot within 20ms; retry later"
		if a.err == nil || a.err.Error() != want {
			t.Fatalf("GET %s = (%q, %v), want error %q", a.key, a.val, a.err, want)
		}
	}
	if _, inflight, most := e.o.stats(); inflight != 2 || most != 2 {
		t.Fatalf("loads in progress = %d (at most %d), want 2", inflight, most)
	}
	release()
	for range 2 {
		a := next()
		if a.err != nil || a.val != a.key+"#1" {
			t.Fatalf("GET %s = (%q, %v), want %q", a.key, a.val, a.err, a.key+"#1")
		}
		loaded[a.key] = true
	}
	for _, k := range keys { // the shed keys load now; the others are held
		if got := e.raw.Do("GET", k); got != bulk(k+"#1") {
			t.Fatalf("GET %s after release = %q", k, got)
		}
		if n := e.o.loadsOf(k); n != 1 {
			t.Fatalf("loads of %s = %d, want 1", k, n)
		}
	}
	e.settled(t)
	if n := e.s.rt.adm.Limiter().Inflight(); n != 0 {
		t.Fatalf("limiter holds %d slots after every load ended, want 0", n)
	}
	if _, _, most := e.o.stats(); most > 2 {
		t.Fatalf("%d loads ran at once, want at most 2", most)
	}
	if len(loaded) != 2 {
		t.Fatalf("%d readers loaded, want 2", len(loaded))
	}
}

// TestReadThroughLoaderPanic checks a panicking Loader: the client gets an
// error saying so, and the load's admission slot is given back.
func TestReadThroughLoaderPanic(t *testing.T) {
	e := startRT(t, func(key string, n int) (origin.Result, error) {
		if strings.HasPrefix(key, "boom") {
			panic("boom")
		}
		return numbered(time.Minute)(key, n)
	}, func(c *Config) {
		c.Admission.Limiter = shed.LimiterConfig{MaxInflight: 2}
	})
	for _, k := range []string{"boom1", "boom2", "boom3"} {
		got := e.raw.Do("GET", k)
		if !strings.HasPrefix(got, "-") || !strings.Contains(got, "panic") {
			t.Errorf("GET %s = %q, want an error naming the panic", k, got)
		}
	}
	if got := e.raw.Do("GET", "fine"); got != bulk("fine#1") {
		t.Errorf("GET after panics = %q, want %q", got, bulk("fine#1"))
	}
	if n := e.s.rt.adm.Limiter().Inflight(); n != 0 {
		t.Errorf("limiter holds %d slots after the loads ended, want 0", n)
	}
}

// TestReplyFor maps read-through failures to the client's error text.
func TestReplyFor(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want string
	}{
		{"origin error", &originError{errors.New("origin api: GET k: 503")}, "ORIGIN unavailable: origin api: GET k: 503"},
		{"origin timeout", &originError{fmt.Errorf("origin api: GET k: %w", context.DeadlineExceeded)},
			"ORIGIN timeout: origin api: GET k: context deadline exceeded"},
		{"canceled", context.Canceled, "ERR corral: request canceled"},
		{"shed", shed.ErrOverloaded, "SHED overloaded; retry later"},
		{"breaker", &shed.OpenError{Target: "api", State: shed.Open}, "BREAKER open: api is failing; retry later"},
		{"panic", &collapse.PanicError{Value: "boom"}, "<non-empty>"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := replyFor(tc.err)
			if tc.want == "<non-empty>" {
				if got == "" || strings.ContainsAny(got, "\r\n") {
					t.Fatalf("replyFor(%v) = %q, want a one-line error text", tc.err, got)
				}
				return
			}
			if got != tc.want {
				t.Fatalf("replyFor(%v) = %q, want %q", tc.err, got, tc.want)
			}
		})
	}
}
