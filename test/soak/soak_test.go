//go:build soak

package soak

import (
	"context"
	"fmt"
	"maps"
	"math/rand/v2"
	"os"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// Pass criteria.
const (
	// maxClusterErrorRate bounds the share of commands that fail for a
	// reason of the proxy or the store tier (every kind but the origin's
	// two). They are expected only during node faults and only for
	// commands in flight at that moment: writes to a killed node until
	// gossip marks it dead (a write fails over only when it never reached
	// the node), a forwarded command whose owner stopped answering, and
	// sheds while the survivors absorb the load. Seen: well under 0.1%.
	maxClusterErrorRate = 0.01
	// maxErrorRate bounds every error, the origin's included. Those pass
	// the origin's outage on for keys no store holds a copy of
	// (stale-if-error serves the rest): ORIGIN while it fails, and
	// BREAKER open: origin for the store breaker's 5s timeout after it
	// recovers. With the origin down or recovering a third of the run and
	// 70% of reads on origin keys, about 5-10% of all commands fail so;
	// above 15% the stale copies are not being served.
	maxErrorRate = 0.15
	// goroutineSlack is how many more goroutines than at the baseline may
	// be running once the cluster has settled: pooled connections opened
	// at different moments, memberlist's per-member timers.
	goroutineSlack = 30
	// heapFactor bounds heap in use at the end relative to the baseline,
	// with heapFloor of allocator noise on top: the data set is bounded
	// (fixed key spaces), so the heap must not grow with time.
	heapFactor = 1.5
	heapFloor  = 16 << 20
	// warmup is how long the mixed load runs without faults before the
	// baseline is taken, so the caches hold their steady working set.
	warmup = 15 * time.Second
	// tail is how long the load runs after the last fault ended.
	tail = 15 * time.Second
)

type memSample struct {
	byCreator  map[string]int // goroutines by the function that started them
	goroutines int
	heapInuse  uint64
	heapAlloc  uint64
}

func sampleMem() memSample {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return memSample{byCreator: goroutinesByCreator(), goroutines: runtime.NumGoroutine(), heapInuse: ms.HeapInuse, heapAlloc: ms.HeapAlloc}
}

// goroutinesByCreator counts the running goroutines by the function whose
// go statement started them, from a full goroutine dump.
func goroutinesByCreator() map[string]int {
	var b strings.Builder
	_ = pprof.Lookup("goroutine").WriteTo(&b, 2)
	out := map[string]int{}
	for line := range strings.Lines(b.String()) {
		if f, ok := strings.CutPrefix(line, "created by "); ok {
			f, _, _ = strings.Cut(strings.TrimSpace(f), " in goroutine")
			out[f]++
		}
	}
	return out
}

// growth lists the creators with more goroutines in end than in base.
func growth(base, end memSample) []string {
	var out []string
	for _, f := range slices.Sorted(maps.Keys(end.byCreator)) {
		if d := end.byCreator[f] - base.byCreator[f]; d > 0 {
			out = append(out, fmt.Sprintf("+%d %s (%d → %d)", d, f, base.byCreator[f], end.byCreator[f]))
		}
	}
	return out
}

func (m memSample) String() string {
	return fmt.Sprintf("%d goroutines, heap in use %.1f MiB (allocated %.1f MiB)", m.goroutines, mib(m.heapInuse), mib(m.heapAlloc))
}

func mib(b uint64) float64 { return float64(b) / (1 << 20) }

func envDuration(t *testing.T, name string, def time.Duration) time.Duration {
	t.Helper()
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		t.Fatalf("%s=%q: %v", name, v, err)
	}
	return d
}

func TestSoak(t *testing.T) {
	dur := envDuration(t, "CORRAL_SOAK_DURATION", 3*time.Minute)
	if dur < 30*time.Second {
		t.Fatalf("CORRAL_SOAK_DURATION=%v: at least 30s (warmup and a quiet tail come on top of the faults)", dur)
	}
	seed := uint64(time.Now().UnixNano())
	if v := os.Getenv("CORRAL_SOAK_SEED"); v != "" {
		var err error
		if seed, err = strconv.ParseUint(v, 10, 64); err != nil {
			t.Fatalf("CORRAL_SOAK_SEED=%q: %v", v, err)
		}
	}
	t.Logf("soak: %v of load, seed %d (CORRAL_SOAK_SEED=%d reruns this schedule)", dur, seed, seed)

	rg := startRig(t, seed)
	ph := &phases{}
	ws := make([]*writer, writers)
	for i := range ws {
		ws[i] = newWriter(i, rg.client, ph, seed)
	}
	rs := make([]*reader, readers)
	for i := range rs {
		rs[i] = newReader(i, rg.client, ph, seed)
	}

	// Warmup: every writer key acknowledged once, then the mixed load
	// without faults, then the baseline with the load stopped and the
	// cluster converged.
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var wg sync.WaitGroup
	werrs := make([]error, len(ws))
	for i, w := range ws {
		wg.Go(func() { werrs[i] = w.warm(ctx) })
	}
	wg.Wait()
	for _, err := range werrs {
		if err != nil {
			t.Fatal(err)
		}
	}
	stopWarm := runLoad(ws, rs)
	time.Sleep(warmup) // the warmup load runs meanwhile
	warm := stopWarm()
	rg.kit.WaitConverged(converge)
	base := sampleMem()
	t.Logf("baseline after %v of warmup (%d commands): %v", warmup, sum(warm.requests), base)
	for _, w := range ws {
		w.t = newTally()
	}
	for _, r := range rs {
		r.t = newTally()
	}

	// The soak: load, with faults until tail before the end.
	flog := &faultLog{start: time.Now()}
	fc := &faultCounts{}
	rnd := rand.New(rand.NewPCG(seed, 0xfa017))
	ornd := rand.New(rand.NewPCG(seed, 0x0121619))
	start := time.Now()
	faultsUntil := start.Add(dur - tail)
	stopLoad := runLoad(ws, rs)
	ostop := make(chan struct{})
	odone := make(chan struct{})
	go func() {
		defer close(odone)
		originFaults(rg, ornd, faultsUntil, ostop, ph, flog, fc)
	}()
	nodeFaults(t, rg, rnd, faultsUntil, ph, flog, fc)
	close(ostop)
	<-odone
	flog.add("faults over; load goes on until %v", dur)
	time.Sleep(time.Until(start.Add(dur))) // the quiet tail of the load
	tot := stopLoad()
	elapsed := time.Since(start)
	flog.add("load stopped")
	conv := rg.kit.WaitConverged(converge)
	flog.add("converged in %v", conv.Round(time.Millisecond))

	// Lost writes, through the proxy once its L1 entries have aged out,
	// then every owner's copy.
	time.Sleep(l1MaxAge + 100*time.Millisecond) // the documented L1 staleness bound
	res := checkLedger(t, rg, ws)
	flog.add("ledger checked")
	div := checkReplicas(t, rg, ws)
	flog.add("replicas checked")

	// Memory: wait for goroutines and heap to come back. Two minutes:
	// idle HTTP connections to the origin (two goroutines each, as many as
	// the slow origin had loads in flight) close after net/http's 90s.
	var end memSample
	memOK := false
	deadline := time.Now().Add(2 * time.Minute)
	for {
		end = sampleMem()
		if end.goroutines <= base.goroutines+goroutineSlack && float64(end.heapInuse) <= heapFactor*float64(base.heapInuse)+heapFloor {
			memOK = true
			break
		}
		if time.Now().After(deadline) {
			break
		}
		time.Sleep(500 * time.Millisecond) // polling: the condition above is the wait
	}

	reqs := sum(tot.requests)
	errs := sum(tot.errors)
	rate := float64(errs) / float64(max(reqs, 1))
	rep := report(seed, dur, elapsed, fc, tot, res, div, base, end, flog)
	fmt.Print(rep)
	if p := os.Getenv("CORRAL_SOAK_REPORT"); p != "" {
		if err := os.WriteFile(p, []byte(rep), 0o644); err != nil {
			t.Errorf("report: %v", err)
		}
	}

	if res.lost > 0 {
		t.Errorf("%d acknowledged writes lost", res.lost)
	}
	if n := len(tot.anomalies); n > 0 {
		t.Errorf("%d replies showed a lost acknowledged write", n)
	}
	if n := len(tot.badReads); n > 0 {
		t.Errorf("%d reads returned a value nobody wrote", n)
	}
	if div.remaining > 0 {
		t.Errorf("%d keys still differ between their owners after convergence", div.remaining)
	}
	if n := tot.errors[kindOther]; n > 0 {
		t.Errorf("%d errors of no expected kind", n)
	}
	if rate > maxErrorRate {
		t.Errorf("error rate %.3f%% above %.0f%%", 100*rate, 100*maxErrorRate)
	}
	if crate := float64(clusterErrors(tot)) / float64(max(reqs, 1)); crate > maxClusterErrorRate {
		t.Errorf("cluster error rate %.3f%% above %.0f%%", 100*crate, 100*maxClusterErrorRate)
	}
	if !memOK {
		if p := os.Getenv("CORRAL_SOAK_PROFILE"); p != "" {
			if f, err := os.Create(p); err == nil {
				_ = pprof.Lookup("goroutine").WriteTo(f, 1)
				f.Close()
			}
		}
		t.Errorf("memory did not come back within two minutes: baseline %v, end %v (allowed: +%d goroutines, heap in use x%.1f + %d MiB)",
			base, end, goroutineSlack, heapFactor, heapFloor>>20)
	}
}

// clusterErrors counts the errors not caused by the origin.
func clusterErrors(t *tally) int64 {
	return sum(t.errors) - t.errors[kindOrigin] - t.errors[kindBreakerOrigin]
}

// ledgerResult is the outcome of reading every ledger key back.
type ledgerResult struct {
	strKeys, ctrKeys int
	acked            int64 // acknowledged writes in the ledger
	lost, late       int
	details          []string
}

// checkLedger reads every writer key back through the proxy and judges it.
func checkLedger(t *testing.T, rg *rig, ws []*writer) ledgerResult {
	t.Helper()
	var res ledgerResult
	ctx := context.Background()
	note := func(v verdict, why string) {
		switch v {
		case lost:
			res.lost++
		case late:
			res.late++
		default:
			return
		}
		if len(res.details) < 20 {
			res.details = append(res.details, why)
		}
	}
	for _, w := range ws {
		for batch := range slices.Chunk(w.strs, 100) {
			var gets []*redis.StringCmd
			var ttls []*redis.Cmd
			err := retry(ctx, func(ctx context.Context) error {
				gets, ttls = gets[:0], ttls[:0]
				_, err := rg.client.Pipelined(ctx, func(p redis.Pipeliner) error {
					for _, k := range batch {
						gets = append(gets, p.Get(ctx, k.name))
						ttls = append(ttls, p.Do(ctx, "PTTL", k.name))
					}
					return nil
				})
				if err == redis.Nil {
					err = nil
				}
				return err
			})
			if err != nil {
				t.Fatalf("reading the ledger back: %v", err)
			}
			for i, k := range batch {
				var v *string
				if s, err := gets[i].Result(); err == nil {
					v = &s
				}
				pttl, _ := ttls[i].Int64()
				res.strKeys++
				res.acked += k.acks
				note(k.judge(v, pttl > 0))
			}
		}
		for _, k := range w.ctrs {
			var n int64
			if err := retry(ctx, func(ctx context.Context) (err error) { n, err = rg.client.Get(ctx, k.name).Int64(); return err }); err != nil {
				t.Fatalf("reading %s back: %v", k.name, err)
			}
			res.ctrKeys++
			res.acked += k.acks
			note(k.judge(n))
		}
	}
	return res
}

// divergence counts keys whose owners hold different copies.
type divergence struct {
	first, remaining int
	examples         []string
}

// checkReplicas compares every writer key's copies on its owners (the
// engines directly), waiting up to a minute for anti-entropy to settle
// any difference.
func checkReplicas(t *testing.T, rg *rig, ws []*writer) divergence {
	t.Helper()
	var keys []string
	for _, w := range ws {
		for _, k := range w.strs {
			keys = append(keys, k.name)
		}
		for _, k := range w.ctrs {
			keys = append(keys, k.name)
		}
	}
	differ := func() []string {
		var out []string
		now := time.Now().UnixMilli()
		for _, k := range keys {
			owners := rg.ownerNodes(k)
			if len(owners) != replicas {
				out = append(out, fmt.Sprintf("%s: %d owners", k, len(owners)))
				continue
			}
			var copies []string
			for _, nd := range owners {
				rec, ok := nd.Store.Engine().Get([]byte(k), now)
				switch {
				case !ok, fromOrigin(k, string(rec.Value)):
					// A value loaded from the origin is as good as
					// absent: the writers' ledger calls both deleted.
					copies = append(copies, "node "+nd.ID+": absent")
				default:
					copies = append(copies, fmt.Sprintf("node %s: %q ttl=%v", nd.ID, rec.Value, rec.ExpireAt != 0))
				}
			}
			same := true
			for _, c := range copies[1:] {
				same = same && strings.SplitN(c, ": ", 2)[1] == strings.SplitN(copies[0], ": ", 2)[1]
			}
			if !same {
				out = append(out, k+": "+strings.Join(copies, ", "))
			}
		}
		return out
	}
	d := differ()
	div := divergence{first: len(d)}
	if len(d) > 0 {
		div.examples = d[:min(len(d), 5)]
	}
	deadline := time.Now().Add(time.Minute)
	for len(d) > 0 && time.Now().Before(deadline) {
		time.Sleep(200 * time.Millisecond) // one anti-entropy interval
		d = differ()
	}
	div.remaining = len(d)
	return div
}
