package stampede_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"corral/cluster"
	"corral/proxy"
)

// TestColdKeyCollapsesToOneLoad releases 500 readers of one cold key at
// once, each on a connection of its own to the proxy: the proxy and the
// store collapse them into exactly one origin load, and every reader gets
// the value.
func TestColdKeyCollapsesToOneLoad(t *testing.T) {
	const readers = 500
	o := newOrigin(t, 0) // no max-age: the origin's default TTL, 60s
	tr := startTier(t, o, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conns := openConns(t, ctx, newClient(t, tr.proxyAddr, readers), readers)

	const key = "cold"
	want := o.value(key)
	start := make(chan struct{})
	errs := make([]error, readers)
	lat := make(latencies, readers)
	var wg sync.WaitGroup
	for i, c := range conns {
		wg.Go(func() {
			<-start
			t0 := time.Now()
			got, err := c.Get(ctx, key).Result()
			lat[i] = time.Since(t0)
			if err == nil && got != want {
				err = errors.New("got " + got + ", want " + want)
			}
			errs[i] = err
		})
	}
	close(start)
	wg.Wait()

	ok := 0
	for i, err := range errs {
		if err != nil {
			t.Errorf("reader %d: %v", i, err)
			continue
		}
		ok++
	}
	maxLat, p99 := lat.stats()
	loads := o.loads(key)
	t.Logf("%d readers: %d correct replies, %d origin load(s); latency max %v, p99 %v", readers, ok, loads, maxLat, p99)
	if ok != readers {
		t.Errorf("%d correct replies, want %d", ok, readers)
	}
	if loads != 1 {
		t.Errorf("origin loads = %d, want exactly 1", loads)
	}
}

// TestHotKeyRefreshesWithoutWaiting has 16 readers hammer one key the
// origin serves with max-age=2 for 7s, through a proxy with the default
// 1s L1. The origin sees about one load per TTL (XFetch refreshes early,
// stale-while-revalidate covers the rest), and once the first load is
// done no read waits for the origin: such a read would take at least the
// origin's 300ms.
func TestHotKeyRefreshesWithoutWaiting(t *testing.T) {
	const (
		readers  = 16
		duration = 7 * time.Second
		key      = "hot"
	)
	o := newOrigin(t, 2)
	tr := startTier(t, o, func(_ *cluster.Config, pc *proxy.Config) {
		pc.L1MaxAge = time.Second
	})
	rdb := newClient(t, tr.proxyAddr, readers)
	ctx, cancel := context.WithTimeout(context.Background(), duration+30*time.Second)
	defer cancel()
	want := o.value(key)

	type read struct {
		start time.Time
		took  time.Duration
	}
	reads := make([][]read, readers)
	errs := make([]error, readers)
	began := time.Now()
	deadline := began.Add(duration)
	var wg sync.WaitGroup
	for i := range readers {
		wg.Go(func() {
			for time.Now().Before(deadline) {
				t0 := time.Now()
				got, err := rdb.Get(ctx, key).Result()
				reads[i] = append(reads[i], read{t0, time.Since(t0)})
				if err == nil && got != want {
					err = errors.New("got " + got + ", want " + want)
				}
				if err != nil {
					errs[i] = err
					return
				}
			}
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatalf("reads failed: %v", err)
	}

	// The first load is done when the first reply arrived.
	firstReply := deadline
	n := 0
	for _, rs := range reads {
		for _, r := range rs {
			firstReply = minTime(firstReply, r.start.Add(r.took))
			n++
		}
	}
	var after latencies
	var slow []time.Duration
	for _, rs := range reads {
		for _, r := range rs {
			if r.start.Before(firstReply) {
				continue
			}
			after = append(after, r.took)
			if r.took >= originDelay {
				slow = append(slow, r.took)
			}
		}
	}
	maxLat, p99 := after.stats()
	loads := o.loads(key)
	early, _ := metricValue(t, tr.reg, "corral_early_refresh_total", map[string]string{"role": "store"})
	stale, _ := metricValue(t, tr.reg, "corral_stale_served_total", map[string]string{"role": "store"})
	t.Logf("%d readers for %v: %d reads, %d origin loads (store: %v early refreshes, %v stale reads); "+
		"after the first load (%v in): %d reads, latency max %v, p99 %v",
		readers, duration, n, loads, early, stale, firstReply.Sub(began).Round(time.Millisecond), len(after), maxLat, p99)
	if loads < 2 || loads > 6 {
		t.Errorf("origin loads = %d over %v with max-age=2, want 2 to 6", loads, duration)
	}
	if len(slow) > 0 {
		t.Errorf("%d reads after the first load took >= %v, as if waiting on the origin: %v", len(slow), originDelay, slow[:min(len(slow), 10)])
	}
}

// TestMissingKeyLoadsOncePerNegativeTTL reads a key the origin answers 404
// 200 times (4 readers of 50 reads): every read gets nil, and the origin
// sees one load per negative TTL (the default 5s), so exactly one while
// the reads take less than that.
func TestMissingKeyLoadsOncePerNegativeTTL(t *testing.T) {
	const (
		readers     = 4
		perReader   = 50
		negativeTTL = 5 * time.Second // origin.DefaultConfig's NegativeTTL
		key         = "missing"
	)
	o := newOrigin(t, 0)
	o.mode.Store(serveNotFound)
	tr := startTier(t, o, nil)
	rdb := newClient(t, tr.proxyAddr, readers)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	errs := make([]error, readers)
	began := time.Now()
	var wg sync.WaitGroup
	for i := range readers {
		wg.Go(func() {
			for range perReader {
				got, err := rdb.Get(ctx, key).Result()
				if err == nil {
					err = errors.New("got " + got + ", want nil")
				}
				if !errors.Is(err, redis.Nil) {
					errs[i] = err
					return
				}
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(began)
	if err := errors.Join(errs...); err != nil {
		t.Fatalf("reads: %v", err)
	}
	loads := o.loads(key)
	bound := 1 + int64(elapsed/negativeTTL)
	t.Logf("%d reads of a 404 key in %v: %d origin load(s), bound %d", readers*perReader, elapsed.Round(time.Millisecond), loads, bound)
	if loads < 1 || loads > bound {
		t.Errorf("origin loads = %d in %v, want 1 to %d (one per negative TTL %v)", loads, elapsed, bound, negativeTTL)
	}
}

// minTime returns the earlier of a and b.
func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}
