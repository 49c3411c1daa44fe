//go:build e2e

// Package e2e runs corral's Kubernetes manifests on real containers: `make
// e2e` builds the image, and TestE2E starts three stores, two proxies and
// the bench origin simulator on a private Docker network, each configured
// from the rendered kustomization in this directory exactly as the pods
// are (arguments, environment, user, read-only root, memory limit, the
// headless Service as a network alias for the seeds), then kills, cuts off
// and restarts stores under load, asserting after every step that no
// acknowledged write was lost and that the cluster converged.
//
//	CORRAL_E2E_IMAGE   the image to run (required; make e2e sets it)
//	CORRAL_E2E_RUN     a run id for container names and labels (default: random)
//	CORRAL_E2E_REPORT  a file to write the timings to (optional)
//	CORRAL_E2E_VOLUMES a directory for the stores' volumes (default: a temporary one)
//	CORRAL_E2E_STEPS   the fault steps to run, of kill,cut,restart,stampede (default: all)
package e2e

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

const (
	budget       = 8 * time.Minute  // the whole run
	convergeMax  = 2 * time.Minute  // any one convergence
	startMax     = 90 * time.Second // a pod turning ready
	originMaxAge = 2 * time.Second  // the simulator's Cache-Control max-age
	stampedeTime = 10 * time.Second
)

// e2e is one run's state.
type e2e struct {
	t       *testing.T
	d       *docker
	m       *manifests
	stores  []*pod
	proxies []*pod
	origin  *pod
	clients []*redis.Client
	rf      int
	led     *ledger
	report  []string
}

// step reports whether CORRAL_E2E_STEPS selects the named step (all run
// when it is empty).
func (e *e2e) step(name string) bool {
	steps := os.Getenv("CORRAL_E2E_STEPS")
	return steps == "" || slices.Contains(strings.Split(steps, ","), name)
}

func (e *e2e) logf(format string, args ...any) {
	e.t.Helper()
	line := fmt.Sprintf(format, args...)
	e.report = append(e.report, line)
	e.t.Log(line)
}

func TestE2E(t *testing.T) {
	image := os.Getenv("CORRAL_E2E_IMAGE")
	if image == "" {
		t.Fatal("CORRAL_E2E_IMAGE is not set: run `make e2e`, which builds the image and sets it")
	}
	run := os.Getenv("CORRAL_E2E_RUN")
	if run == "" {
		run = strconv.FormatUint(rand.Uint64()&0xffffff, 16)
	}
	ctx, cancel := context.WithTimeout(context.Background(), budget)
	defer cancel()

	e := &e2e{t: t, m: loadManifests(t, "."), led: &ledger{acked: map[string]string{}}}
	e.d = &docker{t: t, run: run, image: image, pods: map[string]*pod{}, volumes: os.Getenv("CORRAL_E2E_VOLUMES")}
	if e.d.volumes == "" {
		e.d.volumes = t.TempDir()
	}
	t.Cleanup(e.d.cleanup)
	t.Cleanup(func() {
		if t.Failed() {
			lctx, lcancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer lcancel()
			t.Logf("container logs:\n%s", e.d.logs(lctx))
		}
	})
	t.Cleanup(func() {
		if path := os.Getenv("CORRAL_E2E_REPORT"); path != "" {
			_ = os.WriteFile(path, []byte(strings.Join(e.report, "\n")+"\n"), 0o644)
		}
	})

	e.start(ctx)
	e.writesAndReads(ctx)

	load := startSteady(ctx, e.led, e.clients, 8, 5*time.Millisecond, "steady:"+run)
	if e.step("kill") {
		e.killAndReplace(ctx, load)
	}
	if e.step("cut") {
		e.networkCut(ctx, load)
	}
	if e.step("restart") {
		e.rollingRestart(ctx, load)
	}
	load.stop()
	total := load.counts.snapshot()
	e.logf("steady load: %d write+read pairs, %d retried, %d client errors, %d reads through the other proxy that missed a fresh write",
		total.ops, total.retried, total.clientErrors, total.staleReads)
	e.verify(ctx, "after the steady load")

	if e.step("stampede") {
		e.stampede(ctx)
		e.converge(ctx, "after the stampede", e.stores)
	}
	e.verify(ctx, "at the end")
	e.resources(ctx)
}

// resources logs what each pod holds and uses, for sizing.
func (e *e2e) resources(ctx context.Context) {
	for _, p := range append(append([]*pod{}, e.stores...), e.proxies...) {
		samples, err := scrape(ctx, p)
		if err != nil {
			e.t.Fatal(err)
		}
		keys, _ := metric(samples, "corral_store_keys", nil)
		used, _ := metric(samples, "corral_store_used_bytes", nil)
		rss, _ := metric(samples, "process_resident_memory_bytes", nil)
		heap, _ := metric(samples, "go_memstats_heap_inuse_bytes", nil)
		e.logf("resources %s: %.0f keys, %.1f MiB of data, heap in use %.1f MiB, resident %.1f MiB",
			p.name, keys, used/(1<<20), heap/(1<<20), rss/(1<<20))
	}
}

// start brings up the origin, the stores (together, as podManagementPolicy
// Parallel does) and the proxies, and waits until they are ready and the
// cluster has converged.
func (e *e2e) start(ctx context.Context) {
	t := e.t
	e.d.createNetwork(ctx)
	sc, pc := &e.m.store.Spec.Containers[0], &e.m.proxy.Spec.Containers[0]
	e.rf, _ = strconv.Atoi(e.m.configValue(sc, "CORRAL_REPLICAS", "2"))

	origin, err := url.Parse(e.m.configValue(sc, "CORRAL_ORIGIN", ""))
	if err != nil || origin.Hostname() == "" {
		t.Fatalf("the e2e overlay must set CORRAL_ORIGIN for the stores: %q %v", origin, err)
	}
	e.origin = e.d.runOrigin(ctx, origin.Hostname(), "bench", "origin", "--listen", ":"+origin.Port(),
		"--latency", "100ms", "--max-age", originMaxAge.String())

	began := time.Now()
	for i := range e.m.storeReplicas {
		e.stores = append(e.stores, e.d.runPod(ctx, e.m, e.m.store, fmt.Sprintf("%s-%d", e.m.storeName, i), e.m.headless))
	}
	for range e.m.proxyReplicas {
		name := fmt.Sprintf("%s-%06x", e.m.proxyName, rand.Uint32()&0xffffff)
		e.proxies = append(e.proxies, e.d.runPod(ctx, e.m, e.m.proxy, name, ""))
	}
	took := e.converge(ctx, "startup", e.stores)
	for _, p := range e.proxies {
		if _, err := waitFor(ctx, startMax, func() (bool, string) { return ready(ctx, p), "proxy not ready" }); err != nil {
			t.Fatalf("%s: %v", p.name, err)
		}
	}
	e.logf("startup: %d stores (RF %d) and %d proxies ready, cluster converged %v after the first container started (%v waiting)",
		len(e.stores), e.rf, len(e.proxies), time.Since(began).Round(100*time.Millisecond), took.Round(100*time.Millisecond))

	password := e.m.configValue(pc, "CORRAL_REQUIREPASS", "")
	for _, p := range e.proxies {
		c := newClient(p, password, 64)
		t.Cleanup(func() { c.Close() })
		e.clients = append(e.clients, c)
	}
	// A client without the password is refused: the proxies enforce AUTH.
	anon := newClient(e.proxies[0], "", 1)
	defer anon.Close()
	if err := anon.Get(ctx, "x").Err(); err == nil || !strings.Contains(err.Error(), "NOAUTH") {
		t.Errorf("GET without AUTH = %v, want NOAUTH", err)
	}
}

// converge waits until every store in stores is ready, sees all of them
// active, and no partition is underreplicated.
func (e *e2e) converge(ctx context.Context, what string, stores []*pod) time.Duration {
	e.t.Helper()
	var last clusterState
	took, err := waitFor(ctx, convergeMax, func() (bool, string) {
		last = observe(ctx, stores)
		return last.converged(len(stores), e.rf), last.String()
	})
	if err != nil {
		e.t.Fatalf("%s: cluster did not converge: %v", what, err)
	}
	return took
}

func (e *e2e) verify(ctx context.Context, what string) {
	e.t.Helper()
	if err := e.led.verify(ctx, e.clients); err != nil {
		e.t.Fatalf("%s: %v", what, err)
	}
	e.logf("%s: all %d acknowledged writes read back", what, e.led.len())
}

// writesAndReads writes keys through both proxies and reads each through
// the other, then counts through both (INCR runs at the key's primary).
func (e *e2e) writesAndReads(ctx context.Context) {
	t := e.t
	const n = 2000
	var wg sync.WaitGroup
	var failed atomic.Int64
	for w := range 16 {
		wg.Go(func() {
			for i := w; i < n; i += 16 {
				k, v := fmt.Sprintf("rw:%d", i), fmt.Sprintf("value-%d", i)
				if err := e.clients[i%2].Set(ctx, k, v, 0).Err(); err != nil {
					failed.Add(1)
					continue
				}
				e.led.ack(k, v)
			}
		})
	}
	wg.Wait()
	if failed.Load() > 0 {
		t.Fatalf("writes and reads: %d of %d SETs failed with every store up", failed.Load(), n)
	}
	for i := range n {
		k := fmt.Sprintf("rw:%d", i)
		got, err := e.clients[(i+1)%2].Get(ctx, k).Result()
		if err != nil || got != fmt.Sprintf("value-%d", i) {
			t.Fatalf("GET %s through the other proxy = %q, %v", k, got, err)
		}
	}
	for i := range 200 {
		if err := e.clients[i%2].Incr(ctx, "rw:counter").Err(); err != nil {
			t.Fatalf("INCR: %v", err)
		}
	}
	for _, c := range e.clients {
		if got, err := c.Get(ctx, "rw:counter").Result(); err != nil || got != "200" {
			t.Fatalf("counter = %q, %v; want 200 through each proxy", got, err)
		}
	}
	e.led.ack("rw:counter", "200")
	e.converge(ctx, "writes and reads", e.stores)
	e.logf("writes and reads: %d keys written through both proxies and read through the other; INCR x200 = 200 through both", n)
	e.verify(ctx, "writes and reads")
}

// killAndReplace kills one store with SIGKILL (no drain) and starts its
// replacement at once, as the StatefulSet controller does for a pod that
// died.
func (e *e2e) killAndReplace(ctx context.Context, load *steady) {
	before := load.counts.snapshot()
	victim := e.stores[1]
	began := time.Now()
	e.d.kill(ctx, victim)
	e.stores[1] = e.d.runPod(ctx, e.m, e.m.store, victim.name, e.m.headless)
	e.converge(ctx, "kill and replace", e.stores)
	took := time.Since(began)
	d := load.counts.snapshot().sub(before)
	e.logf("kill and replace %s: converged %v after the kill (SIGKILL, replacement started at once); load meanwhile: %d ops, %d retried, %d client errors %q, %d fresh reads missed",
		victim.name, took.Round(100*time.Millisecond), d.ops, d.retried, d.clientErrors, load.errorsSince(before.clientErrors), d.staleReads)
	e.verify(ctx, "kill and replace")
}

// networkCut disconnects one store from the network, waits until the rest
// have re-replicated without it, and reconnects it with its address.
func (e *e2e) networkCut(ctx context.Context, load *steady) {
	before := load.counts.snapshot()
	victim, rest := e.stores[2], e.stores[:2]
	began := time.Now()
	e.d.disconnect(ctx, victim)
	detected := e.converge(ctx, "network cut (the others)", rest)
	// Keep it away a little longer while writes go on without it.
	if hold := 5*time.Second - time.Since(began); hold > 0 {
		time.Sleep(hold)
	}
	healed := time.Now()
	e.d.connect(ctx, victim)
	e.converge(ctx, "network heal", e.stores)
	took := time.Since(healed)
	d := load.counts.snapshot().sub(before)
	e.logf("network cut of %s: the other %d re-replicated without it in %v; after the heal, converged in %v; load meanwhile: %d ops, %d retried, %d client errors %q, %d fresh reads missed",
		victim.name, len(rest), detected.Round(100*time.Millisecond), took.Round(100*time.Millisecond), d.ops, d.retried, d.clientErrors, load.errorsSince(before.clientErrors), d.staleReads)
	if d.staleReads > 0 {
		e.logf("network cut: reads that missed a fresh write: %q", load.staleSamples())
	}
	e.verify(ctx, "network cut and heal")
}

// rollingRestart restarts every store, highest ordinal first as the
// StatefulSet controller does, each with its preStop drain and SIGTERM,
// waiting for readiness and for underreplicated = 0 before the next.
func (e *e2e) rollingRestart(ctx context.Context, load *steady) {
	t := e.t
	before := load.counts.snapshot()
	began := time.Now()
	var worst time.Duration
	for i := len(e.stores) - 1; i >= 0; i-- {
		old := e.stores[i]
		stepBegan := time.Now()
		exited, err := e.d.stop(ctx, old)
		if err != nil {
			t.Fatalf("rolling restart: %v", err)
		}
		np := e.d.runPod(ctx, e.m, e.m.store, old.name, e.m.headless)
		e.stores[i] = np
		readyAfter, err := waitFor(ctx, startMax, func() (bool, string) { return ready(ctx, np), "not ready" })
		if err != nil {
			t.Fatalf("rolling restart: %s: %v", np.name, err)
		}
		e.converge(ctx, "rolling restart of "+np.name, e.stores)
		step := time.Since(stepBegan)
		worst = max(worst, step)
		e.logf("rolling restart %s: drained and exited in %v, ready %v after its start, converged %v after the drain began",
			old.name, exited.Round(100*time.Millisecond), readyAfter.Round(100*time.Millisecond), step.Round(100*time.Millisecond))
	}
	d := load.counts.snapshot().sub(before)
	e.logf("rolling restart of %d stores: %v in all (slowest store %v); load meanwhile: %d ops, %d retried once, %d client errors (after one retry), %d fresh reads missed",
		len(e.stores), time.Since(began).Round(100*time.Millisecond), worst.Round(100*time.Millisecond), d.ops, d.retried, d.clientErrors, d.staleReads)
	if d.clientErrors > 0 {
		t.Errorf("rolling restart: %d client errors after one retry, want 0: %q", d.clientErrors, load.errorsSince(before.clientErrors))
	}
	e.verify(ctx, "rolling restart")
}

// stampede has 100 clients, half on each proxy, read one hot key that only
// the origin has, for several of its expiries, and counts the origin's
// loads of it: one per expiry across the whole tier.
func (e *e2e) stampede(ctx context.Context) {
	t := e.t
	key := "hot:" + e.d.run
	loadsOf := func() (int64, error) {
		code, body, err := httpGet(ctx, fmt.Sprintf("http://%s:%s/stats?top=100000", e.origin.ip, originPort(e.m)), 2*time.Second)
		if err != nil || code != 200 {
			return 0, fmt.Errorf("origin /stats: %d %v", code, err)
		}
		return loadsFromStats(body, key)
	}
	// Poll the origin while the stampede runs: two loads of the key close
	// together would be two loads for one expiry.
	var (
		mu    sync.Mutex
		steps []time.Time
		gap   = time.Duration(math.MaxInt64)
	)
	pollCtx, stopPoll := context.WithCancel(ctx)
	var pollWG sync.WaitGroup
	pollWG.Go(func() {
		var last int64
		for pollCtx.Err() == nil {
			n, err := loadsOf()
			if err == nil && n > last {
				mu.Lock()
				now := time.Now()
				if len(steps) > 0 {
					gap = min(gap, now.Sub(steps[len(steps)-1]))
				}
				for range n - last {
					steps = append(steps, now)
				}
				if n-last > 1 {
					gap = 0
				}
				mu.Unlock()
				last = n
			}
			time.Sleep(20 * time.Millisecond)
		}
	})

	collapsedBefore := e.sum(ctx, "corral_collapsed_total")
	var reqs, errs, misses atomic.Int64
	var errMu sync.Mutex
	var firstErr error
	began := time.Now()
	runCtx, stop := context.WithTimeout(ctx, stampedeTime)
	var wg sync.WaitGroup
	for w := range 100 {
		c := e.clients[w%len(e.clients)]
		wg.Go(func() {
			for runCtx.Err() == nil {
				_, err := c.Get(runCtx, key).Result()
				if runCtx.Err() != nil {
					return
				}
				reqs.Add(1)
				switch {
				case err == redis.Nil:
					misses.Add(1)
				case err != nil:
					errs.Add(1)
					errMu.Lock()
					if firstErr == nil {
						firstErr = err
					}
					errMu.Unlock()
				}
			}
		})
	}
	wg.Wait()
	stop()
	elapsed := time.Since(began)
	time.Sleep(200 * time.Millisecond) // a load the last read began shows up in /stats
	stopPoll()
	pollWG.Wait()
	loads, err := loadsOf()
	if err != nil {
		t.Fatal(err)
	}
	expiries := int64(math.Ceil(elapsed.Seconds() / originMaxAge.Seconds()))
	// XFetch refreshes a hot entry somewhat before it expires, so allow
	// lifetimes down to three quarters of max-age; a stampede would be
	// thousands.
	allowed := int64(elapsed.Seconds()/(0.75*originMaxAge.Seconds())) + 1
	mu.Lock()
	minGap := gap
	mu.Unlock()
	e.logf("stampede on %s: %d clients through %d proxies, %d GETs in %v (%d errors, %d nil); origin loads %d for %d expiries of max-age %v (allowed %d); closest two loads %v apart; corral_collapsed_total +%.0f",
		key, 100, len(e.clients), reqs.Load(), elapsed.Round(100*time.Millisecond), errs.Load(), misses.Load(), loads, expiries, originMaxAge, allowed,
		minGap.Round(time.Millisecond), e.sum(ctx, "corral_collapsed_total")-collapsedBefore)
	if errs.Load() > 0 || misses.Load() > 0 {
		t.Errorf("stampede: %d errors (first: %v) and %d nil replies, want none", errs.Load(), firstErr, misses.Load())
	}
	if loads < 1 || loads > allowed {
		t.Errorf("stampede: origin loaded %s %d times in %v, want 1 to %d (one per expiry)", key, loads, elapsed, allowed)
	}
	if loads > 1 && minGap < originMaxAge/4 {
		t.Errorf("stampede: two origin loads of %s only %v apart: more than one load per expiry", key, minGap)
	}
}

// sum adds a metric up over every store and proxy.
func (e *e2e) sum(ctx context.Context, name string) float64 {
	var total float64
	for _, p := range append(append([]*pod{}, e.stores...), e.proxies...) {
		if samples, err := scrape(ctx, p); err == nil {
			v, _ := metric(samples, name, nil)
			total += v
		}
	}
	return total
}

func originPort(m *manifests) string {
	u, _ := url.Parse(m.configValue(&m.store.Spec.Containers[0], "CORRAL_ORIGIN", ""))
	return u.Port()
}
