package load

import (
	"context"
	"errors"
	"net"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"corral/bench/originsim"
	"corral/bench/workload"
	"corral/internal/clock"
	"corral/internal/testkit"
)

func mustWorkload(t *testing.T, mod func(*workload.Config)) *workload.Workload {
	t.Helper()
	c := workload.DefaultConfig()
	if mod != nil {
		mod(&c)
	}
	w, err := workload.New(c)
	if err != nil {
		t.Fatal(err)
	}
	return w
}

func TestPaceFollowsTheSchedule(t *testing.T) {
	const rate = 100 // one every 10ms
	tests := []struct {
		name  string
		delay time.Duration // virtual time the consumer spends per request
	}{
		{"fast consumer: the pacer waits", 0},
		{"slow consumer: the schedule does not move", 25 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fc := clock.NewFake(time.Unix(5000, 0))
			start := fc.Now()
			var mu sync.Mutex
			var slept time.Duration
			sleep := func(_ context.Context, until time.Time) error {
				d := until.Sub(fc.Now())
				mu.Lock()
				slept += d
				mu.Unlock()
				fc.Advance(d)
				return nil
			}
			out := make(chan time.Time)
			go pace(context.Background(), fc, sleep, start, start.Add(time.Second), rate, out)
			var got []time.Time
			for at := range out {
				got = append(got, at)
				fc.Advance(tt.delay)
			}
			if len(got) != rate {
				t.Fatalf("%d requests scheduled in 1s at %d/s, want %d", len(got), rate, rate)
			}
			for i, at := range got {
				if want := start.Add(time.Duration(i) * 10 * time.Millisecond); !at.Equal(want) {
					t.Fatalf("request %d due at %v, want %v", i, at.Sub(start), want.Sub(start))
				}
			}
			if tt.delay == 0 && slept != 990*time.Millisecond {
				t.Errorf("pacer slept %v in all, want 990ms (up to the last request)", slept)
			}
		})
	}
}

func TestPaceStopsWithContext(t *testing.T) {
	fc := clock.NewFake(time.Unix(0, 0))
	ctx, cancel := context.WithCancel(context.Background())
	out := make(chan time.Time)
	done := make(chan struct{})
	go func() {
		pace(ctx, fc, func(ctx context.Context, _ time.Time) error { <-ctx.Done(); return ctx.Err() }, fc.Now(), fc.Now().Add(time.Hour), 1, out)
		close(done)
	}()
	<-out // the first is due at once
	cancel()
	<-done
	if _, ok := <-out; ok {
		t.Fatal("channel still open after the pacer stopped")
	}
}

// TestOpenLoopMeasuresFromDueTime feeds one open-loop worker ten requests
// due 1ms apart to a session that needs 10ms per round trip: each latency
// counts the wait behind earlier requests, not just the round trip.
func TestOpenLoopMeasuresFromDueTime(t *testing.T) {
	tests := []struct {
		pipeline int
		min, max time.Duration
		batches  int
	}{
		{1, 10 * time.Millisecond, 91 * time.Millisecond, 10}, // request i completes at 10(i+1)ms
		{4, 7 * time.Millisecond, 22 * time.Millisecond, 3},   // batches of 4, 4 and 2
	}
	for _, tt := range tests {
		ft := newFakeTime()
		start := ft.Now()
		exec := &slowExec{ft: ft, perCall: 10 * time.Millisecond}
		g := &gen{cfg: Config{Pipeline: tt.pipeline, Clock: ft, Workload: mustWorkload(t, nil)}.withDefaults(), rec: newRecorder(1)}
		g.end, g.cutoff = start.Add(time.Second), start.Add(2*time.Second)
		due := make(chan time.Time, 10)
		for i := range 10 {
			due <- start.Add(time.Duration(i) * time.Millisecond)
		}
		close(due)
		g.openWorker(context.Background(), 0, slowSession{exec}, due)
		h, c, _ := g.rec.totals()
		if c.Ops != 10 || c.Hits != 10 || len(exec.batches) != tt.batches {
			t.Errorf("pipeline %d: %+v in %d batches, want 10 hits in %d", tt.pipeline, c, len(exec.batches), tt.batches)
		}
		if time.Duration(h.Min()) != tt.min || time.Duration(h.Max()) != tt.max {
			t.Errorf("pipeline %d: latencies %v to %v, want %v to %v", tt.pipeline, time.Duration(h.Min()), time.Duration(h.Max()), tt.min, tt.max)
		}
	}
}

func TestOpenLoopDoesNotSendPastTheGrace(t *testing.T) {
	ft := newFakeTime()
	start := ft.Now()
	exec := &slowExec{ft: ft}
	g := &gen{cfg: Config{Clock: ft, Workload: mustWorkload(t, nil)}.withDefaults(), rec: newRecorder(1)}
	g.end, g.cutoff = start, start
	due := make(chan time.Time, 3)
	for range 3 {
		due <- start.Add(-time.Second)
	}
	close(due)
	g.openWorker(context.Background(), 0, slowSession{exec}, due)
	h, c, _ := g.rec.totals()
	if c.Unfinished != 3 || c.Ops != 0 || len(exec.batches) != 0 {
		t.Fatalf("%+v after %d batches; want 3 unfinished and nothing sent", c, len(exec.batches))
	}
	if time.Duration(h.Min()) != time.Second {
		t.Fatalf("unfinished latency %v, want at least the 1s they waited", time.Duration(h.Min()))
	}
}

func TestClosedLoopRunAndSeries(t *testing.T) {
	ft := newFakeTime()
	start := ft.Now()
	exec := &slowExec{ft: ft, perCall: 10 * time.Millisecond, start: start, interval: 250 * time.Millisecond, points: make(chan Point, 1)}
	var points []Point
	res, err := Run(context.Background(), Config{
		Conns:    1,
		Pipeline: 2,
		Duration: time.Second,
		Interval: 250 * time.Millisecond,
		Workload: mustWorkload(t, func(c *workload.Config) { c.Dist, c.Keys = workload.HotSet, 3 }),
		Clock:    ft,
		Sleep:    ft.Sleep,
		Counters: func(context.Context) map[string]float64 {
			return map[string]float64{"elapsed_ms": float64(ft.Now().Sub(start).Milliseconds())}
		},
		OnPoint: func(p Point) { points = append(points, p); exec.points <- p },
	}, exec)
	if err != nil {
		t.Fatal(err)
	}
	if res.Ops != 200 || res.Hits != 200 || res.Errors != 0 {
		t.Fatalf("closed loop for 1s at 10ms per batch of 2: %+v, want 200 hits", res.Counts)
	}
	if time.Duration(res.Hist.Max()) != 10*time.Millisecond || res.Elapsed != time.Second {
		t.Fatalf("max latency %v, elapsed %v; want 10ms and 1s", time.Duration(res.Hist.Max()), res.Elapsed)
	}
	if res.Counters["elapsed_ms"] != 1000 {
		t.Fatalf("counter increase %v, want 1000", res.Counters["elapsed_ms"])
	}
	if len(res.Series) != 4 || len(points) != 4 {
		t.Fatalf("series of %d points (%d reported), want 4: %+v", len(res.Series), len(points), res.Series)
	}
	var ops uint64
	var counted float64
	for i, p := range res.Series {
		ops += p.Ops
		counted += p.Counters["elapsed_ms"]
		if p.At != time.Duration(i+1)*250*time.Millisecond || p.Span != 250*time.Millisecond {
			t.Errorf("point %d at %v spanning %v", i, p.At, p.Span)
		}
		if p.Ops < 48 || p.Ops > 52 || p.PerSecond(float64(p.Ops)) < 190 {
			t.Errorf("point %d: %d ops, want about 50 (200/s)", i, p.Ops)
		}
	}
	if ops != 200 || counted != 1000 {
		t.Errorf("series sums to %d ops and %v counted, want 200 and 1000", ops, counted)
	}
}

func TestRunRejectsBadConfig(t *testing.T) {
	_, err := Run(context.Background(), Config{Conns: -1, Rate: -1}, &slowExec{})
	if err == nil {
		t.Fatal("bad config accepted")
	}
}

func TestMaxAge(t *testing.T) {
	tests := []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"max-age=2", 2 * time.Second, true},
		{"public, Max-Age=60, s-maxage=10", time.Minute, true},
		{"no-store", 0, false},
		{"max-age=0", 0, false},
		{"max-age=x", 0, false},
		{"", 0, false},
	}
	for _, tt := range tests {
		if got, ok := MaxAge(tt.in); got != tt.want || ok != tt.ok {
			t.Errorf("MaxAge(%q) = %v, %v; want %v, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

// TestRESPAndCacheAsideAgainstRedis runs both executors against a real
// redis-server and the origin simulator.
func TestRESPAndCacheAsideAgainstRedis(t *testing.T) {
	addr := testkit.StartRedis(t)
	ctx := context.Background()

	e := NewRESP(RESPConfig{Addr: addr, Conns: 2, Value: []byte("v"), WriteTTL: time.Minute})
	defer e.Close()
	s, err := e.Session(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	ops := []Op{{Key: "a", Write: true}, {Key: "a"}, {Key: "missing"}}
	s.Do(ctx, ops)
	if ops[0].Err != nil || ops[1].Err != nil || ops[1].Miss || !ops[2].Miss || ops[2].Err != nil {
		t.Fatalf("pipelined SET, GET, GET missing: %+v", ops)
	}
	one := []Op{{Key: "missing"}}
	s.Do(ctx, one)
	if !one[0].Miss {
		t.Fatalf("GET missing: %+v", one[0])
	}
	if ttl := e.Client().TTL(ctx, "a").Val(); ttl <= 0 {
		t.Fatalf("TTL of a written key = %v, want the write TTL", ttl)
	}
	_ = s.Close()

	cfg := originsim.DefaultConfig()
	cfg.Latency, cfg.MaxAge = 0, 7*time.Second
	sim, err := originsim.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(sim.Handler())
	defer srv.Close()
	ca, err := NewCacheAside(CacheAsideConfig{Store: RESPConfig{Addr: addr, Conns: 2}, Origin: srv.URL + "/k/{key}"})
	if err != nil {
		t.Fatal(err)
	}
	defer ca.Close()
	cs, err := ca.Session(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer cs.Close()
	for range 3 {
		ops := []Op{{Key: "user:9"}}
		cs.Do(ctx, ops)
		if ops[0].Err != nil {
			t.Fatal(ops[0].Err)
		}
	}
	if n := sim.KeyLoads("user:9"); n != 1 {
		t.Fatalf("three cache-aside reads loaded %d times, want 1 (then cached)", n)
	}
	if ttl := ca.Client().TTL(ctx, "user:9").Val(); ttl <= 5*time.Second || ttl > 7*time.Second {
		t.Fatalf("filled key's TTL %v, want the origin's max-age 7s", ttl)
	}
	sim.SetDown(true)
	ca.cfg.Retries = 2
	if err := ca.Fill(ctx, ca.Client(), "down"); err == nil {
		t.Fatal("fill from a failing origin succeeded")
	}
	if n := sim.KeyLoads("down"); n != 3 {
		t.Fatalf("a failing load with 2 retries reached the origin %d times, want 3", n)
	}
	if err := ca.Client().Get(ctx, "down").Err(); !errors.Is(err, redis.Nil) {
		t.Fatalf("a failed fill stored something: %v", err)
	}
	if _, err := NewCacheAside(CacheAsideConfig{Origin: "http://x/k"}); err == nil {
		t.Fatal("an origin without {key} was accepted")
	}
}

func TestNoHelloConnAnswersHelloItself(t *testing.T) {
	client, server := net.Pipe()
	defer server.Close()
	c := &noHelloConn{Conn: client}
	defer c.Close()
	if n, err := c.Write([]byte("*2\r\n$5\r\nhello\r\n$1\r\n2\r\n")); err != nil || n != 22 {
		t.Fatalf("HELLO write: %d, %v", n, err)
	}
	buf := make([]byte, 64)
	n, err := c.Read(buf)
	if err != nil || string(buf[:n]) != helloReply {
		t.Fatalf("read %q, %v; want the made-up error", buf[:n], err)
	}
	got := make(chan string, 1)
	go func() {
		b := make([]byte, 64)
		n, _ := server.Read(b)
		got <- string(b[:n])
	}()
	if _, err := c.Write([]byte("*1\r\n$4\r\nPING\r\n")); err != nil {
		t.Fatal(err)
	}
	if s := <-got; s != "*1\r\n$4\r\nPING\r\n" {
		t.Fatalf("server got %q, want the PING and nothing of HELLO", s)
	}
	for _, tt := range []struct {
		in   string
		want bool
	}{{"*1\r\n$5\r\nHELLO\r\n", true}, {"*3\r\n$3\r\nSET\r\n", false}, {"PING\r\n", false}, {"", false}, {"*1\r\n$5\r\nHELL", false}} {
		if isHello([]byte(tt.in)) != tt.want {
			t.Errorf("isHello(%q) = %v", tt.in, !tt.want)
		}
	}
}
