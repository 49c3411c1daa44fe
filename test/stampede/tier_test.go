package stampede_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"
	"github.com/redis/go-redis/v9/maintnotifications"

	"corral/cluster"
	"corral/internal/testkit"
	"corral/origin"
	"corral/proxy"
)

// originDelay is how long the fake origin takes to answer a load.
const originDelay = 300 * time.Millisecond

// Timeouts of the test's own clients and roles.
const (
	clientTimeout = 5 * time.Second // each go-redis call
)

// Behaviours of the fake origin.
const (
	serveValue    int32 = iota // 200 with the key's value, after originDelay
	serveNotFound              // 404, after originDelay
	serveFailure               // 503 at once
)

// fakeOrigin is a slow HTTP origin serving GET /v/{key}. It counts the
// requests of each key and overall, tracks how many run at once, and
// records when each arrived. All its methods are safe for concurrent use.
type fakeOrigin struct {
	srv *httptest.Server

	mode    atomic.Int32 // serveValue, serveNotFound or serveFailure
	maxAge  atomic.Int64 // Cache-Control max-age in seconds of a value; 0 sends none
	version atomic.Int64 // part of every value, to tell a refresh from a stale copy

	total             atomic.Int64
	inflight, maxSeen atomic.Int64
	perKey            sync.Map // key → *atomic.Int64

	mu       sync.Mutex  // guards arrivals
	arrivals []time.Time // when each request arrived
}

// newOrigin starts a fake origin that serves values with the given
// max-age (0: no Cache-Control), closed when the test ends.
func newOrigin(t *testing.T, maxAge int64) *fakeOrigin {
	t.Helper()
	o := &fakeOrigin{}
	o.maxAge.Store(maxAge)
	o.version.Store(1)
	o.srv = httptest.NewServer(o)
	t.Cleanup(o.srv.Close)
	return o
}

// ServeHTTP implements http.Handler.
func (o *fakeOrigin) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	at := time.Now()
	key := strings.TrimPrefix(r.URL.Path, "/v/")
	o.count(key, at)
	n := o.inflight.Add(1)
	defer o.inflight.Add(-1)
	for m := o.maxSeen.Load(); n > m && !o.maxSeen.CompareAndSwap(m, n); m = o.maxSeen.Load() {
	}
	switch o.mode.Load() {
	case serveFailure:
		http.Error(w, "origin down", http.StatusServiceUnavailable)
		return
	case serveNotFound:
		time.Sleep(originDelay) // a slow origin, not a test wait
		http.NotFound(w, r)
		return
	}
	time.Sleep(originDelay) // a slow origin, not a test wait
	if ma := o.maxAge.Load(); ma > 0 {
		w.Header().Set("Cache-Control", fmt.Sprintf("max-age=%d", ma))
	}
	_, _ = io.WriteString(w, o.value(key))
}

// count records a request for key that arrived at at.
func (o *fakeOrigin) count(key string, at time.Time) {
	o.total.Add(1)
	c, _ := o.perKey.LoadOrStore(key, new(atomic.Int64))
	c.(*atomic.Int64).Add(1)
	o.mu.Lock()
	o.arrivals = append(o.arrivals, at)
	o.mu.Unlock()
}

// value is what the origin serves for key at its current version.
func (o *fakeOrigin) value(key string) string {
	return fmt.Sprintf("%s@v%d", key, o.version.Load())
}

// loads returns the number of requests the origin got for key.
func (o *fakeOrigin) loads(key string) int64 {
	if c, ok := o.perKey.Load(key); ok {
		return c.(*atomic.Int64).Load()
	}
	return 0
}

// arrivedSince returns the arrival times of the requests since from, in
// order.
func (o *fakeOrigin) arrivedSince(from time.Time) []time.Time {
	o.mu.Lock()
	defer o.mu.Unlock()
	var out []time.Time
	for _, at := range o.arrivals {
		if !at.Before(from) {
			out = append(out, at)
		}
	}
	slices.SortFunc(out, func(a, b time.Time) int { return a.Compare(b) })
	return out
}

// tier is a proxy in front of a store reading through to an origin, as
// `corral dev` runs them, sharing one metrics registry.
type tier struct {
	reg       *prometheus.Registry
	proxyAddr string
	storeAddr string
}

// startTier runs a store reading through to o and a proxy in front of it,
// both on 127.0.0.1 port 0, until the test ends. tune, when not nil,
// adjusts the configurations from their defaults before they are used.
func startTier(t *testing.T, o *fakeOrigin, tune func(sc *cluster.Config, pc *proxy.Config)) *tier {
	t.Helper()
	reg := prometheus.NewRegistry()
	ocfg := origin.DefaultConfig()
	ocfg.URL = o.srv.URL + "/v/{key}"
	org, err := origin.New(ocfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = org.Close() })

	sc := cluster.DefaultConfig()
	sc.Server.Addr = "127.0.0.1:0"
	sc.Origin = org
	sc.Registerer = reg
	pc := proxy.DefaultConfig()
	pc.Server.Addr = "127.0.0.1:0"
	pc.Registerer = reg
	if tune != nil {
		tune(&sc, &pc)
	}
	st, err := cluster.New(sc)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Listen(); err != nil {
		t.Fatal(err)
	}
	testkit.RunUntilCleanup(t, "store", st.Run)

	pc.Upstream = "redis://" + st.Addr()
	px, err := proxy.New(pc)
	if err != nil {
		t.Fatal(err)
	}
	if err := px.Listen(); err != nil {
		t.Fatal(err)
	}
	testkit.RunUntilCleanup(t, "proxy", px.Run)
	return &tier{reg: reg, proxyAddr: px.Addr(), storeAddr: st.Addr()}
}

// newClient returns a go-redis client of addr with pool connections,
// closed when the test ends. It never retries, so that each call's
// latency is one round trip's.
//
// Maintenance notifications are off: in its default auto mode go-redis
// v9.23.0 sends CLIENT MAINT_NOTIFICATIONS on every new connection and,
// when corral refuses it, turns the mode off in the Options that the Conns
// of one client share, each under a lock of its own (redis.go,
// initConn), a data race between Conns that connect at once.
func newClient(t *testing.T, addr string, pool int) *redis.Client {
	t.Helper()
	rdb := redis.NewClient(&redis.Options{
		Addr:                     addr,
		PoolSize:                 pool,
		MaxRetries:               -1,
		DisableIdentity:          true,
		MaintNotificationsConfig: &maintnotifications.Config{Mode: maintnotifications.ModeDisabled},
		DialTimeout:              clientTimeout,
		ReadTimeout:              clientTimeout,
		WriteTimeout:             clientTimeout,
		PoolTimeout:              clientTimeout,
	})
	t.Cleanup(func() { _ = rdb.Close() })
	return rdb
}

// openConns returns n connections of rdb, each already connected (it has
// answered PING), dialed at most 64 at a time, so that a burst of readers
// released together measures their reads and not the dialing. The
// connections are closed when the test ends.
func openConns(t *testing.T, ctx context.Context, rdb *redis.Client, n int) []*redis.Conn {
	t.Helper()
	conns := make([]*redis.Conn, n)
	errs := make([]error, n)
	sem := make(chan struct{}, 64)
	var wg sync.WaitGroup
	for i := range conns {
		conns[i] = rdb.Conn()
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			errs[i] = conns[i].Ping(ctx).Err()
		})
	}
	wg.Wait()
	t.Cleanup(func() {
		for _, c := range conns {
			_ = c.Close()
		}
	})
	if err := errors.Join(errs...); err != nil {
		t.Fatalf("opening %d connections: %v", n, err)
	}
	return conns
}

// metricValue returns the value of the counter or gauge family name whose
// labels include labels, summed over matching children; ok is false when
// none matches.
func metricValue(t *testing.T, reg *prometheus.Registry, name string, labels map[string]string) (v float64, ok bool) {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	children:
		for _, m := range mf.GetMetric() {
			have := map[string]string{}
			for _, lp := range m.GetLabel() {
				have[lp.GetName()] = lp.GetValue()
			}
			for k, want := range labels {
				if have[k] != want {
					continue children
				}
			}
			ok = true
			switch {
			case m.GetCounter() != nil:
				v += m.GetCounter().GetValue()
			case m.GetGauge() != nil:
				v += m.GetGauge().GetValue()
			}
		}
	}
	return v, ok
}

// latencies summarizes durations.
type latencies []time.Duration

// stats returns the maximum and the 99th percentile (0, 0 when empty).
func (l latencies) stats() (maxLat, p99 time.Duration) {
	if len(l) == 0 {
		return 0, 0
	}
	s := slices.Clone(l)
	slices.Sort(s)
	return s[len(s)-1], s[(len(s)*99)/100]
}

// buckets counts times into width-wide buckets from start, n of them;
// times outside are ignored.
func buckets(times []time.Time, start time.Time, width time.Duration, n int) []int {
	out := make([]int, n)
	for _, at := range times {
		if i := int(at.Sub(start) / width); i >= 0 && i < n {
			out[i]++
		}
	}
	return out
}
