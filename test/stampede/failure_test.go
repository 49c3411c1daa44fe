package stampede_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"corral/cluster"
	"corral/internal/testkit"
	"corral/proxy"
)

// TestDeadOriginServesStale loads a key with max-age=1, then kills the
// origin (the handler fails fast, the server is closed) and reads the key
// in a loop: past its expiry every read still gets the old value, until
// the store's stale-if-error (3s here) runs out; then reads fail with an
// ORIGIN or a BREAKER error.
//
// Stale-while-revalidate is cut to 500ms: it serves an expired value
// whatever the origin does, so with the default 10s it, not
// stale-if-error, would decide when reads start failing.
func TestDeadOriginServesStale(t *testing.T) {
	const (
		key          = "dying"
		maxAge       = time.Second
		staleIfError = 3 * time.Second
		jitter       = 0.1 // xfetch.DefaultConfig's: TTLs are stretched by up to 10%
	)
	o := newOrigin(t, int64(maxAge/time.Second))
	tr := startTier(t, o, func(sc *cluster.Config, _ *proxy.Config) {
		sc.Defenses.StaleWhileRevalidate = 500 * time.Millisecond
		sc.Defenses.StaleIfError = staleIfError
	})
	rdb := newClient(t, tr.proxyAddr, 1)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	want := o.value(key)
	began := time.Now()
	if got, err := rdb.Get(ctx, key).Result(); err != nil || got != want {
		t.Fatalf("first GET = %q, %v; want %q", got, err, want)
	}
	loaded := time.Now()
	o.mode.Store(serveFailure)
	o.srv.Close()

	// The load ended at least originDelay after began and at most at
	// loaded; the value stays fresh maxAge (plus jitter) after that, then
	// stale for staleIfError.
	staleAtLeastUntil := began.Add(originDelay + maxAge + staleIfError)
	expiredBy := loaded.Add(maxAge + time.Duration(jitter*float64(maxAge)))
	failBy := expiredBy.Add(staleIfError + 5*time.Second) // generous
	const margin = 200 * time.Millisecond

	var staleReads, reads int
	var firstErr error
	var failedAt time.Time
	for firstErr == nil {
		if time.Now().After(failBy) {
			t.Fatalf("reads still succeed %v after the load, want an error once stale-if-error (%v) has run out",
				time.Since(loaded), staleIfError)
		}
		got, err := rdb.Get(ctx, key).Result()
		end := time.Now()
		reads++
		switch {
		case err != nil:
			if end.Before(staleAtLeastUntil.Add(-margin)) {
				t.Fatalf("read failed %v after the load, within stale-if-error: %v", end.Sub(loaded), err)
			}
			firstErr, failedAt = err, end
		case got != want:
			t.Fatalf("read %v after the load = %q, want the old value %q", end.Sub(loaded), got, want)
		case end.After(expiredBy):
			staleReads++
		}
	}
	kind, ok := errorKind(firstErr)
	if !ok {
		t.Fatalf("read after stale-if-error: %v, want an error starting with ORIGIN or BREAKER", firstErr)
	}
	// Once stale-if-error has run out, it stays out.
	for range 5 {
		if _, err := rdb.Get(ctx, key).Result(); err == nil {
			t.Fatalf("a read succeeded after stale-if-error ran out (first error: %v)", firstErr)
		} else if _, ok := errorKind(err); !ok {
			t.Fatalf("read after stale-if-error: %v, want an error starting with ORIGIN or BREAKER", err)
		}
	}
	served, _ := metricValue(t, tr.reg, "corral_stale_served_total", map[string]string{"role": "store"})
	t.Logf("%d reads, %d of them past expiry served stale (store counted %v stale reads); "+
		"first error %v after the load (stale guaranteed until %v, expected by %v): %s error %q",
		reads, staleReads, served, failedAt.Sub(loaded).Round(time.Millisecond),
		staleAtLeastUntil.Sub(loaded).Round(time.Millisecond), expiredBy.Add(staleIfError).Sub(loaded).Round(time.Millisecond),
		kind, firstErr)
	if staleReads == 0 {
		t.Errorf("no read succeeded past the value's expiry: stale was not served")
	}
}

// errorKind returns the code of a read-through failure, ORIGIN or
// BREAKER, and whether err is one.
func errorKind(err error) (string, bool) {
	if err == nil {
		return "", false
	}
	for _, kind := range []string{"ORIGIN", "BREAKER"} {
		if strings.HasPrefix(err.Error(), kind) {
			return kind, true
		}
	}
	return "", false
}

// TestBreakerOpensAndRecoveryTrickles loads 50 keys with max-age=1, then
// makes the origin fail (503, at once) while 8 readers keep reading them
// through the proxy: the store's breaker opens, and every read still gets
// the stale value fast. Then the origin recovers with new values: the
// readers see them, and the origin gets a trickle of loads, at most one
// per key in any 100ms and at most two per key in the first second, not a
// retry storm.
//
// The breaker's Timeout is cut from 5s to 1s, so that recovery is probed
// soon enough for a short test.
func TestBreakerOpensAndRecoveryTrickles(t *testing.T) {
	const (
		keys    = 50
		readers = 8
		fast    = 250 * time.Millisecond // no read may wait on the origin
		bucket  = 100 * time.Millisecond
		window  = 2 * time.Second // of recovery traffic, logged
	)
	o := newOrigin(t, 1)
	tr := startTier(t, o, func(sc *cluster.Config, _ *proxy.Config) {
		sc.Breaker.Timeout = time.Second
	})
	rdb := newClient(t, tr.proxyAddr, keys)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	name := func(i int) string { return fmt.Sprintf("k%02d", i) }

	// Load every key, all at once.
	var wg sync.WaitGroup
	errs := make([]error, keys)
	for i := range keys {
		wg.Go(func() {
			got, err := rdb.Get(ctx, name(i)).Result()
			if want := o.value(name(i)); err == nil && got != want {
				err = fmt.Errorf("got %q, want %q", got, want)
			}
			errs[i] = err
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatalf("loading the keys: %v", err)
	}

	// The origin fails; readers go on reading every key and note the
	// version each read returned and how long it took, by phase.
	const (
		failing = iota
		recovering
	)
	var phase atomic.Int32
	seen := make([]atomic.Int64, keys) // the version last read of each key
	lat := [2][]latencies{make([]latencies, readers), make([]latencies, readers)}
	readErrs := make([]error, readers) // read once the readers are done
	var readFailed atomic.Bool
	stop := make(chan struct{})
	o.mode.Store(serveFailure)
	failAt := time.Now()
	for r := range readers {
		wg.Go(func() {
			for n := r; ; n++ {
				select {
				case <-stop:
					return
				default:
				}
				k := name(n % keys)
				p := phase.Load()
				t0 := time.Now()
				got, err := rdb.Get(ctx, k).Result()
				lat[p][r] = append(lat[p][r], time.Since(t0))
				var v int64
				if err == nil {
					_, err = fmt.Sscanf(strings.TrimPrefix(got, k), "@v%d", &v)
				}
				if err != nil {
					readErrs[r] = fmt.Errorf("GET %s: %q, %w", k, got, err)
					readFailed.Store(true)
					return
				}
				seen[n%keys].Store(v)
			}
		})
	}
	stopReaders := sync.OnceFunc(func() { close(stop); wg.Wait() })
	defer stopReaders()
	readersOK := func() bool { return !readFailed.Load() }

	breaker := map[string]string{"target": "origin"}
	testkit.Eventually(t, func() bool {
		v, _ := metricValue(t, tr.reg, "corral_breaker_state", breaker)
		return v == 2 || !readersOK()
	}, 10*time.Second, "the store's breaker to open while the origin fails")
	openedAfter := time.Since(failAt)
	// It refuses loads while readers keep getting stale values.
	testkit.Eventually(t, func() bool {
		v, _ := metricValue(t, tr.reg, "corral_origin_fetches_total", map[string]string{"result": "rejected"})
		return v >= keys || !readersOK()
	}, 10*time.Second, "the open breaker to refuse %d loads", keys)

	// The origin recovers with new values.
	o.version.Store(2)
	phase.Store(recovering)
	recoverAt := time.Now()
	o.mode.Store(serveValue)
	var first, allNew time.Time
	testkit.Eventually(t, func() bool {
		if !readersOK() {
			return true
		}
		if first.IsZero() {
			if a := o.arrivedSince(recoverAt); len(a) > 0 {
				first = a[0]
			}
		}
		if allNew.IsZero() {
			for i := range seen {
				if seen[i].Load() != 2 {
					return false
				}
			}
			allNew = time.Now()
		}
		// Keep reading until the logged window of recovery traffic is over.
		return !first.IsZero() && time.Since(first) >= window
	}, 20*time.Second, "every key to read the origin's new value")
	stopReaders()
	if err := errors.Join(readErrs...); err != nil {
		t.Fatalf("reads: %v", err)
	}

	counts := buckets(o.arrivedSince(recoverAt), first, bucket, int(window/bucket))
	firstSecond, peak := 0, 0
	for i, c := range counts {
		if i < int(time.Second/bucket) {
			firstSecond += c
		}
		peak = max(peak, c)
	}
	var all [2]latencies
	for p := range all {
		for _, l := range lat[p] {
			all[p] = append(all[p], l...)
		}
	}
	failMax, failP99 := all[failing].stats()
	recMax, recP99 := all[recovering].stats()
	transitions, _ := metricValue(t, tr.reg, "corral_breaker_transitions_total", breaker)
	t.Logf("breaker open %v after the origin failed (%v transitions in all); origin failing: %d reads, latency max %v, p99 %v; "+
		"recovering: %d reads, latency max %v, p99 %v",
		openedAfter.Round(time.Millisecond), transitions, len(all[failing]), failMax, failP99, len(all[recovering]), recMax, recP99)
	t.Logf("recovery: first origin request %v after it came back, every key read anew %v after it; "+
		"origin requests per %v from the first: %v (peak %d, first second %d)",
		first.Sub(recoverAt).Round(time.Millisecond), allNew.Sub(recoverAt).Round(time.Millisecond), bucket, counts, peak, firstSecond)
	if failMax >= fast || recMax >= fast {
		t.Errorf("slowest read: %v while failing, %v while recovering; want every read under %v", failMax, recMax, fast)
	}
	if peak > keys {
		t.Errorf("%d origin requests in one %v, want at most %d (one per key)", peak, bucket, keys)
	}
	if firstSecond > 2*keys {
		t.Errorf("%d origin requests in the first second of recovery, want at most %d", firstSecond, 2*keys)
	}
}
