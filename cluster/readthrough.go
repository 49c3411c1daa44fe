package cluster

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/cespare/xxhash/v2"

	"corral/cluster/engine"
	"corral/cluster/hlc"
	"corral/collapse"
	"corral/internal/clock"
	"corral/origin"
	"corral/shed"
	"corral/xfetch"
)

// Loader loads a key from the application's origin; *origin.Origin is one.
// It must be safe for concurrent use and bound its own run time.
type Loader interface {
	Load(ctx context.Context, key string) (origin.Result, error)
}

// Retry backoff after a failed refresh: full jitter, from retryBase up to
// retryMax.
const (
	retryBase = 100 * time.Millisecond
	retryMax  = 10 * time.Second
)

// readThrough answers GET misses from the origin, one load per key at a
// time however many clients ask, and keeps hot keys fresh: XFetch refreshes
// them early, stale-while-revalidate serves an expired value while one
// background refresh runs, and stale-if-error serves it while the origin
// fails. Admission (shed) and a breaker stand in front of every load.
//
// All methods are safe for concurrent use.
type readThrough struct {
	eng     *engine.Engine
	clock   clock.Clock
	log     *slog.Logger
	loader  Loader
	target  string // the origin, for errors and metrics
	policy  xfetch.Config
	rand    xfetch.Rand
	table   *loadedTable
	flights *collapse.Group[loadResult]
	adm     *shed.Admission
	brk     *shed.Breaker
	m       *rtMetrics
	// stored, if set, is told of every value a load put in the engine (a
	// cluster node replicates it to the co-owners). It must not block.
	stored func(key []byte, rec engine.Record)
	// room, if set, reclaims memory at nowMs and reports whether the
	// engine is under --maxmemory: a load stores its value only then, and
	// otherwise just serves it.
	room func(nowMs int64) bool
	// noCollapse: every miss loads on its own (Config.NoCollapse).
	noCollapse bool
	// fromPeers, if set, asks the key's co-owners for it and returns it
	// when one holds it live (a cluster node): a load from the origin is
	// slow and would overwrite, with a newer version, a write the
	// co-owners acknowledged while this node could not hear of it.
	fromPeers func(ctx context.Context, key []byte) (engine.Record, bool)

	// A DEL is how applications invalidate a cache after changing the data
	// behind it, and it must beat a load that read the old data, even when
	// the key was absent (a DEL of nothing leaves the Version alone). Each
	// load registers its key here; invalidate bumps the key's generation
	// and a load whose generation moved stores nothing.
	locks   [pendStripes]sync.Mutex             // guard pending; held by store across its check and write
	pending [pendStripes]map[string]*pendingKey // keys with loads running
}

// pendStripes is the number of independently locked pending maps.
const pendStripes = 64

// pendingKey is one key's running loads and invalidation generation.
type pendingKey struct {
	loads int
	gen   uint64
}

func pendStripe(key []byte) int { return int(xxhash.Sum64(key) % pendStripes) }

// begin registers a load of key and returns its generation; end must
// follow.
func (rt *readThrough) begin(key []byte) uint64 {
	i := pendStripe(key)
	rt.locks[i].Lock()
	defer rt.locks[i].Unlock()
	pk := rt.pending[i][string(key)]
	if pk == nil {
		pk = &pendingKey{}
		rt.pending[i][string(key)] = pk
	}
	pk.loads++
	return pk.gen
}

// end unregisters a load of key.
func (rt *readThrough) end(key []byte) {
	i := pendStripe(key)
	rt.locks[i].Lock()
	defer rt.locks[i].Unlock()
	if pk := rt.pending[i][string(key)]; pk != nil {
		if pk.loads--; pk.loads == 0 {
			delete(rt.pending[i], string(key))
		}
	}
}

// invalidate runs before a client deletes key (DEL, UNLINK, GETDEL): it
// drops what read-through loaded for it and makes running loads store
// nothing, so that the next GET reads the origin again.
func (rt *readThrough) invalidate(key []byte) {
	i := pendStripe(key)
	rt.locks[i].Lock()
	if pk := rt.pending[i][string(key)]; pk != nil {
		pk.gen++
	}
	rt.table.del(key)
	rt.locks[i].Unlock()
	rt.flights.Forget(string(key))
}

// loadResult is what a load hands to the readers waiting on it.
type loadResult struct {
	value []byte
	found bool
}

// originError is a failed origin load, as the client sees it.
type originError struct{ err error }

func (e *originError) Error() string { return e.err.Error() }
func (e *originError) Unwrap() error { return e.err }

// get answers GET key at now: from the engine, from the loaded table
// (negative or stale), or from a load it starts or joins. client is the
// requester's address, for the per-client rate limit.
func (rt *readThrough) get(ctx context.Context, key []byte, client string, now time.Time) (loadResult, error) {
	nowMs := now.UnixMilli()
	if rec, ok := rt.eng.Get(key, nowMs); ok {
		rt.maybeEarly(key, rec, now)
		return loadResult{rec.Value, true}, nil
	}
	e, had := rt.table.get(key)
	// An entry is only good while the engine holds what the load left: the
	// record it stored (maybe expired since) or, for a negative entry,
	// the same nothing. Any client write since changed the Version.
	had = had && rt.eng.Version(key) == e.version
	if had {
		age := nowMs - e.freshUntil
		switch {
		case age < 0 && !e.found:
			return loadResult{}, nil // a fresh negative entry
		case age >= 0 && (age < rt.policy.StaleWhileRevalidate.Milliseconds() ||
			e.failures > 0 && age < rt.policy.StaleIfError.Milliseconds()):
			reason := "revalidate"
			if e.failures > 0 {
				reason = "error"
			}
			if nowMs >= e.retryAt {
				rt.refresh(ctx, key, client)
			}
			rt.m.stale(reason)
			return loadResult{e.value, e.found}, nil
		}
	}
	k := string(key)
	var r loadResult
	var err error
	if rt.noCollapse {
		r, err = rt.load(ctx, k, client)
	} else {
		r, _, err = rt.flights.Do(ctx, k, func(ctx context.Context) (loadResult, error) {
			// A flight for this key may have ended, and stored its value,
			// between the miss above and this one starting: look again.
			if rec, ok := rt.eng.Get([]byte(k), rt.clock.Now().UnixMilli()); ok { // k: the flight may outlive key's buffer
				return loadResult{rec.Value, true}, nil
			}
			return rt.load(ctx, k, client)
		})
	}
	if err == nil {
		return r, nil
	}
	if had && e.keepUntil > nowMs && nowMs-e.freshUntil < rt.policy.StaleIfError.Milliseconds() && !errors.Is(err, context.Canceled) {
		rt.m.stale("error")
		return loadResult{e.value, e.found}, nil
	}
	return loadResult{}, err
}

// maybeEarly starts a background refresh of a record this store loaded
// when XFetch says a reader at now should.
func (rt *readThrough) maybeEarly(key []byte, rec engine.Record, now time.Time) {
	if rt.policy.Beta <= 0 || rec.ExpireAt == 0 {
		return
	}
	e, ok := rt.table.get(key)
	if !ok || e.version != rec.Version || e.delta <= 0 {
		return
	}
	expiry := time.UnixMilli(rec.ExpireAt)
	if expiry.Sub(now) > xfetch.Horizon(e.delta, rt.policy.Beta) || now.UnixMilli() < e.retryAt {
		return
	}
	if xfetch.ShouldRefresh(now, expiry, e.delta, rt.policy.Beta, 1-rt.rand()) {
		if rt.refresh(context.Background(), key, "") {
			rt.m.earlyRefresh.Inc()
		}
	}
}

// refresh starts one background load of key unless one is running, and
// reports whether it started.
func (rt *readThrough) refresh(ctx context.Context, key []byte, client string) bool {
	k := string(key)
	return rt.flights.TryGo(ctx, k, func(ctx context.Context) (loadResult, error) {
		return rt.load(ctx, k, client)
	})
}

// load fetches key from the origin through the rate limits, the admission
// limiter and the breaker, stores what the origin said, and returns it.
// It runs as a collapsed flight. The key's Version when it starts is the
// base its result is stored against: a client write during the load wins.
func (rt *readThrough) load(ctx context.Context, key, client string) (loadResult, error) {
	gen := rt.begin([]byte(key))
	defer rt.end([]byte(key))
	if rt.fromPeers != nil {
		// Not for a refresh of a live value: the co-owners hold the same.
		if _, live := rt.eng.Get([]byte(key), rt.clock.Now().UnixMilli()); !live {
			if rec, ok := rt.fromPeers(ctx, []byte(key)); ok {
				rt.m.fetch("peer")
				return loadResult{rec.Value, true}, nil
			}
		}
	}
	base := rt.eng.Version([]byte(key))
	// The load's version is taken now, not when it ends: a SET that an
	// owner acknowledged while the origin answered (one cut off from this
	// node, say) is newer and must win once the replicas compare.
	version := rt.eng.Stamp()
	ticket, err := rt.adm.Admit(ctx, client)
	if err != nil {
		return loadResult{}, err
	}
	done, err := rt.brk.Allow()
	if err != nil {
		ticket.Release(shed.Ignored)
		rt.m.fetch("rejected")
		return loadResult{}, err
	}
	start := rt.clock.Now()
	res, err := rt.call(ctx, key)
	end := rt.clock.Now()
	done(err)
	ticket.Release(shed.OutcomeOf(err))
	if err != nil {
		rt.m.fetch("error")
		rt.table.failed([]byte(key), func(failures int) int64 {
			return end.Add(xfetch.Backoff(failures-1, retryBase, retryMax, rt.rand())).UnixMilli()
		})
		rt.log.Debug("origin load failed", "key", key, "err", err)
		return loadResult{}, &originError{err}
	}
	return rt.store(key, res, base, version, gen, end, end.Sub(start)), nil
}

// call runs the loader, turning a panic into an error so that the
// admission slot and the breaker probe it holds are always given back.
func (rt *readThrough) call(ctx context.Context, key string) (res origin.Result, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("cluster: origin loader panicked: %v", r)
		}
	}()
	return rt.loader.Load(ctx, key)
}

// store keeps what a load returned at now: a value in the engine with its
// jittered TTL and in the loaded table, a negative answer in the table
// only. Both happen only if the key's Version is still base: a client
// write that landed during the load (SET, DEL, EXPIRE, ...) wins, and the
// value it left, if any, is returned instead. version, taken when the load
// began, is the stored value's.
func (rt *readThrough) store(key string, res origin.Result, base, version hlc.Timestamp, gen uint64, now time.Time, delta time.Duration) loadResult {
	nowMs := now.UnixMilli()
	k := []byte(key)
	i := pendStripe(k)
	rt.locks[i].Lock()
	defer rt.locks[i].Unlock()
	if pk := rt.pending[i][key]; pk != nil && pk.gen != gen {
		return loadResult{res.Value, res.Found} // deleted during the load: keep nothing
	}
	switch {
	case res.NoStore:
		rt.m.fetch("ok")
		rt.table.del(k)
		if !res.Found && base != 0 {
			rt.eng.DeleteIfVersion(k, nowMs, base, version)
		}
		return loadResult{res.Value, res.Found}
	case !res.Found:
		rt.m.fetch("negative")
		if base != 0 && rt.eng.DeleteIfVersion(k, nowMs, base, version) {
			base = rt.eng.Version(k) // the origin dropped a key we held
		}
		if rt.eng.Version(k) != base {
			return loadResult{} // a write raced the load; keep nothing
		}
		fresh := nowMs + rt.jitter(res.TTL).Milliseconds()
		rt.table.put(key, loaded{version: base, freshUntil: fresh, keepUntil: fresh + rt.policy.StaleWhileRevalidate.Milliseconds(), delta: delta})
		return loadResult{}
	}
	rt.m.fetch("ok")
	if rt.room != nil && !rt.room(nowMs) {
		return loadResult{res.Value, true} // full and nothing to evict: serve it, keep nothing
	}
	fresh := nowMs + max(rt.jitter(res.TTL).Milliseconds(), 1)
	rec, ok := rt.eng.PutIfVersion(k, nowMs, base, engine.Record{Value: res.Value, ExpireAt: fresh, Version: version, Loaded: true})
	if !ok {
		if cur, live := rt.eng.Get(k, nowMs); live {
			return loadResult{cur.Value, true}
		}
		return loadResult{res.Value, true}
	}
	keep := fresh + max(rt.policy.StaleWhileRevalidate, rt.policy.StaleIfError).Milliseconds()
	rt.table.put(key, loaded{value: res.Value, found: true, version: rec.Version, freshUntil: fresh, keepUntil: keep, delta: delta})
	if rt.stored != nil {
		rt.stored(k, rec)
	}
	if rt.room != nil {
		rt.room(nowMs) // evict for what this value added
	}
	return loadResult{res.Value, true}
}

// jitter spreads a TTL the tier chose.
func (rt *readThrough) jitter(ttl time.Duration) time.Duration {
	return xfetch.Jitter(ttl, rt.policy.Jitter, rt.rand())
}

// flush forgets every loaded entry (FLUSHALL).
func (rt *readThrough) flush() {
	for i := range rt.locks {
		rt.locks[i].Lock()
		for _, pk := range rt.pending[i] {
			pk.gen++
		}
	}
	rt.table.clear()
	for i := range rt.locks {
		rt.locks[i].Unlock()
	}
	rt.flights.ForgetAll()
}

// run drops expired stale copies every second until ctx is done.
func (rt *readThrough) run(ctx context.Context) error {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
			rt.table.sweep(rt.clock.Now().UnixMilli())
		}
	}
}

// replyFor turns a failed read-through into the client's error text; it
// says what failed.
func replyFor(err error) string {
	var oe *originError
	switch {
	case errors.Is(err, context.Canceled):
		return "ERR corral: request canceled"
	case errors.As(err, &oe) && errors.Is(err, context.DeadlineExceeded):
		return "ORIGIN timeout: " + oe.Error()
	case errors.As(err, &oe):
		return "ORIGIN unavailable: " + oe.Error()
	}
	if r := shed.Reply(err); r != "" {
		return r
	}
	return "ERR corral: " + err.Error()
}

// newReadThrough builds the read-through of a store from cfg, or returns
// nil when cfg has no Origin.
func newReadThrough(cfg Config, eng *engine.Engine, clk clock.Clock, lg *slog.Logger) (*readThrough, error) {
	if cfg.Origin == nil {
		return nil, nil
	}
	target := cfg.OriginName
	if target == "" {
		target = "origin"
	}
	adm, brk, err := shed.NewGuard(cfg.Admission, cfg.Breaker, shed.Deps{Target: target, Clock: clk, Logger: lg, Registerer: cfg.Registerer})
	if err != nil {
		return nil, err
	}
	rt := &readThrough{
		noCollapse: cfg.NoCollapse,
		eng:        eng,
		clock:      clk,
		log:        lg.With("component", "readthrough"),
		loader:     cfg.Origin,
		target:     target,
		policy:     cfg.Defenses,
		rand:       cfg.Rand.Or(),
		table:      newLoadedTable(cfg.LoadedMaxBytes),
		flights:    collapse.New[loadResult](collapse.Config{Registerer: cfg.Registerer, Name: "store"}),
		adm:        adm,
		brk:        brk,
		m:          newRTMetrics(cfg.Registerer),
	}
	for i := range rt.pending {
		rt.pending[i] = make(map[string]*pendingKey)
	}
	return rt, nil
}
