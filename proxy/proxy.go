// Package proxy is corral's client-facing role: a RESP server that answers
// GETs from an in-process L1 cache, collapses concurrent misses into one
// upstream read, and forwards everything else to the upstream (a corral
// store or any Redis), keeping the L1 coherent with this proxy's own writes.
package proxy

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"time"

	"corral/collapse"
	"corral/internal/clock"
	"corral/internal/command"
	"corral/internal/server"
	"corral/shed"
	"corral/xfetch"
)

// Proxy is the proxy role. Create it with New and run it with Run.
type Proxy struct {
	cfg     Config
	clock   clock.Clock
	log     *slog.Logger
	srv     *server.Server
	up      *upstreams
	l1      *l1 // nil when disabled
	flights *collapse.Group[getResult]
	guard   guard
	rand    xfetch.Rand
	metrics *metrics
}

// New validates cfg and builds a Proxy. It does not contact the upstream.
func New(cfg Config) (*Proxy, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	lg := cfg.Logger
	if lg == nil {
		lg = slog.New(slog.DiscardHandler)
	}
	p := &Proxy{
		cfg:   cfg,
		clock: clock.Or(cfg.Clock),
		log:   lg.With("component", "proxy"),
		rand:  cfg.Rand.Or(),
	}
	var err error
	if p.up, err = newUpstreams(cfg, shed.Deps{Clock: p.clock, Logger: lg, Registerer: cfg.Registerer}); err != nil {
		return nil, err
	}
	if cfg.L1MaxAge > 0 {
		if p.l1, err = newL1(cfg.L1MaxAge, cfg.L1MaxBytes, cfg.Defenses, p.rand); err != nil {
			return nil, err
		}
	}
	p.flights = collapse.New[getResult](collapse.Config{Registerer: cfg.Registerer, Name: "proxy"})
	p.metrics = newMetrics(cfg.Registerer, p.l1)
	name := "upstream cluster"
	if p.up.fixed != nil {
		name = "upstream " + p.up.fixed.addr
	}
	if p.guard, err = newGuard(cfg, name, p.clock); err != nil {
		p.close()
		return nil, err
	}

	scfg := cfg.Server
	scfg.Role = "proxy"
	if scfg.Clock == nil {
		scfg.Clock = p.clock
	}
	if scfg.Logger == nil {
		scfg.Logger = lg
	}
	if scfg.Registerer == nil {
		scfg.Registerer = cfg.Registerer
	}
	if p.srv, err = server.New(scfg, p); err != nil {
		p.close()
		return nil, err
	}
	return p, nil
}

// Listen binds the client address so Addr is known before Run.
func (p *Proxy) Listen() error { return p.srv.Listen() }

// Addr returns the bound client address.
func (p *Proxy) Addr() string { return p.srv.Addr() }

// TLSAddr returns the bound RESP-over-TLS address, "" without one.
func (p *Proxy) TLSAddr() string { return p.srv.TLSAddr() }

// Run serves clients until ctx is done, then shuts down gracefully.
func (p *Proxy) Run(ctx context.Context) error {
	swept := make(chan struct{})
	sweepCtx, stopSweep := context.WithCancel(ctx)
	go func() {
		defer close(swept)
		p.sweepUpstreams(sweepCtx)
	}()
	err := p.srv.Run(ctx)
	stopSweep()
	<-swept
	// A forced shutdown leaves flights running (each bounded by the
	// upstream timeout); they still use the L1 and the pool.
	deadline := time.Now().Add(p.cfg.UpstreamTimeout + time.Second)
	for p.flights.InFlight() > 0 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	p.close()
	return err
}

// sweepUpstreams retires upstreams that left the Router's view while no
// request comes to do it (see upstreams.sweep), until ctx is done.
func (p *Proxy) sweepUpstreams(ctx context.Context) {
	if p.up.fixed != nil {
		return
	}
	t := time.NewTicker(p.up.every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			p.up.sweep(p.clock.Now())
		}
	}
}

func (p *Proxy) close() {
	if p.l1 != nil {
		p.l1.close()
	}
	if err := p.up.close(); err != nil {
		p.log.Debug("closing upstream pool", "err", err)
	}
}

// Exec implements server.Handler.
func (p *Proxy) Exec(c *server.Conn, spec *command.Spec, args [][]byte) {
	switch {
	case spec.ID == command.Get:
		p.get(c, args[1])
	case spec.ID == command.MGet:
		p.mget(c, args[1:])
	case spec.ID == command.FlushAll || spec.ID == command.FlushDB:
		if !p.cfg.AllowFlush {
			c.W.Error(flushRefused(spec))
			return
		}
		p.forward(c, spec, args)
		if p.l1 != nil {
			p.l1.flush()
		}
		p.flights.ForgetAll()
	case spec.HasFlag(command.Write):
		p.forward(c, spec, args)
		p.invalidate(spec, args)
	default:
		p.forward(c, spec, args)
	}
}

// ExecInline implements server.InlineHandler: a GET the L1 answers runs
// on the event loop; everything else goes to Exec.
func (p *Proxy) ExecInline(c *server.Conn, spec *command.Spec, args [][]byte) bool {
	if spec.ID != command.Get || p.l1 == nil {
		return false
	}
	if p.hit(c, args[1]) {
		return true
	}
	p.l1.retried.Add(1) // Exec's lookup counts the miss
	return false
}

// flushRefused is the error FLUSHALL and FLUSHDB get without --allow-flush.
func flushRefused(spec *command.Spec) string {
	return "ERR " + strings.ToUpper(spec.Name) + " is disabled on corral; start it with --allow-flush to accept it"
}

// get answers GET from the L1, or from one collapsed upstream read. A hit
// near its expiry may start a background refresh (XFetch); when the read
// fails, an entry that expired less than --stale-if-error ago is served.
func (p *Proxy) get(c *server.Conn, key []byte) {
	now := c.Now().UnixNano()
	if p.l1 != nil && p.hit(c, key) {
		return
	}
	// The flight bounds itself by UpstreamTimeout; waiters wait for it.
	k := string(key)
	client := c.RemoteHost()
	var r getResult
	var err error
	if p.cfg.NoCollapse {
		r, err = p.load(c.Context(), k, client)
	} else {
		r, _, err = p.flights.Do(c.Context(), k, func(ctx context.Context) (getResult, error) {
			if p.l1 != nil {
				if e, ok := p.l1.getAgain(k, now); ok {
					return getResult{value: e.value(), found: e.found}, nil
				}
			}
			return p.load(ctx, k, client)
		})
	}
	if err != nil {
		if e, ok := p.stale(key, now, err); ok {
			r = getResult{value: e.value(), found: e.found}
		} else {
			c.W.Error(replyFor(err))
			return
		}
	}
	if r.found {
		c.W.Bulk(r.value)
	} else {
		c.W.Null()
	}
}

// hit answers GET from the L1 when it holds a live entry for key.
func (p *Proxy) hit(c *server.Conn, key []byte) bool {
	now := c.Now().UnixNano()
	e, ok := p.l1.get(key, now)
	if !ok {
		return false
	}
	if e.earlyAt != 0 && now >= e.earlyAt {
		p.maybeEarly(c, key, e, now)
	}
	if e.found {
		c.W.Bulk(e.value())
	} else {
		c.W.Null()
	}
	return true
}

// maybeEarly starts a background refresh of a hit when XFetch says so.
func (p *Proxy) maybeEarly(c *server.Conn, key []byte, e *entry, now int64) {
	d := p.cfg.Defenses
	if !xfetch.ShouldRefresh(time.Unix(0, now), time.Unix(0, e.expireAt), time.Duration(e.delta), d.Beta, 1-p.rand()) {
		return
	}
	k := string(key)
	client := c.RemoteHost()
	if p.flights.TryGo(c.Context(), k, func(ctx context.Context) (getResult, error) { return p.load(ctx, k, client) }) {
		p.metrics.earlyRefresh.Inc()
	}
}

// stale returns the L1 entry for key that stale-if-error may serve after a
// read failed with err, and counts it.
func (p *Proxy) stale(key []byte, now int64, err error) (*entry, bool) {
	if !p.staleAllowed(err) {
		return nil, false
	}
	e, ok := p.l1.getStale(key, now, p.cfg.Defenses.StaleIfError)
	if ok {
		p.metrics.stale(staleReason(err))
	}
	return e, ok
}

// staleAllowed reports whether a read that failed with err may be served
// from an expired L1 entry: the L1 and stale-if-error are on, the client
// did not cancel, and the upstream did not answer (an error reply is an
// answer, passed on as is).
func (p *Proxy) staleAllowed(err error) bool {
	return p.l1 != nil && p.cfg.Defenses.StaleIfError > 0 && !errors.Is(err, context.Canceled) && !isReply(err)
}

// staleAll returns stale-if-error entries for every key of an MGET's
// failed fetch, or nil (counting nothing) when any key has none.
func (p *Proxy) staleAll(keys []string, now int64, err error) []getResult {
	if !p.staleAllowed(err) {
		return nil
	}
	rs := make([]getResult, len(keys))
	for j, k := range keys {
		e, ok := p.l1.getStale([]byte(k), now, p.cfg.Defenses.StaleIfError)
		if !ok {
			return nil
		}
		rs[j] = getResult{value: e.value(), found: e.found}
	}
	p.metrics.staleServed.WithLabelValues(staleReason(err)).Add(float64(len(keys)))
	return rs
}

// load reads one key upstream, through the guard, and fills the L1 unless
// a write raced it. In front of a cluster it asks the key's primary and,
// when that fails or its breaker is open, the next owner.
func (p *Proxy) load(ctx context.Context, key, client string) (getResult, error) {
	ups, err := p.up.forKey([]byte(key))
	if err != nil {
		return getResult{}, err
	}
	var gen uint64
	if p.l1 != nil {
		gen = p.l1.generation([]byte(key))
	}
	for i, up := range ups {
		var rs []getResult
		var sent time.Time
		rs, sent, err = p.read(ctx, up, client, false, key)
		if err != nil {
			if i+1 < len(ups) && failover(err, true) {
				continue
			}
			return getResult{}, err
		}
		if p.l1 != nil {
			r := rs[0]
			p.l1.fill(key, r.value, r.found, r.ttl, sent.UnixNano(), p.clock.Now().Sub(sent), gen)
			p.l1.settle()
		}
		return rs[0], nil
	}
	return getResult{}, err
}

// read sends one guarded read of keys to up and returns the results and
// when the request left (TTLs count from then).
func (p *Proxy) read(ctx context.Context, up *upstream, client string, forMGet bool, keys ...string) ([]getResult, time.Time, error) {
	done, err := p.guard.admit(ctx, client, up)
	if err != nil {
		return nil, time.Time{}, err
	}
	ctx, cancel := context.WithTimeout(ctx, p.cfg.UpstreamTimeout)
	defer cancel()
	sent := p.clock.Now()
	rs, err := up.get(ctx, forMGet, keys...)
	done(err)
	if err != nil && !isReply(err) {
		p.metrics.upstreamErrors.Inc()
	}
	return rs, sent, err
}

// mget answers the keys the L1 holds and reads the rest in one pipelined
// upstream round trip.
func (p *Proxy) mget(c *server.Conn, keys [][]byte) {
	now := c.Now().UnixNano()
	hits := make([]*entry, len(keys))
	var missing []string
	var gens []uint64
	for i, k := range keys {
		if p.l1 != nil {
			if e, ok := p.l1.get(k, now); ok {
				hits[i] = e
				continue
			}
			gens = append(gens, p.l1.generation(k))
		}
		missing = append(missing, string(k))
	}
	var rs []getResult
	if len(missing) > 0 {
		var err error
		if rs, err = p.mgetMissing(c, missing, gens); err != nil {
			// Serve stale only when every missing key has a stale entry.
			if rs = p.staleAll(missing, now, err); rs == nil {
				c.W.Error(replyFor(err))
				return
			}
		}
	}
	c.W.Array(len(keys))
	j := 0
	for _, e := range hits {
		var found bool
		var v []byte
		if e != nil {
			found, v = e.found, e.value()
		} else {
			found, v = rs[j].found, rs[j].value
			j++
		}
		if found {
			c.W.Bulk(v)
		} else {
			c.W.Null()
		}
	}
}

// mgetMissing reads the keys an MGET missed in one guarded round trip and
// fills the L1 with them. In front of a cluster the round trip goes to the
// owners of the first key, and the store splits it among the owners.
func (p *Proxy) mgetMissing(c *server.Conn, missing []string, gens []uint64) ([]getResult, error) {
	ups, err := p.up.forKey([]byte(missing[0]))
	if err != nil {
		return nil, err
	}
	var rs []getResult
	var sent time.Time
	for i, up := range ups {
		rs, sent, err = p.read(c.Context(), up, c.RemoteHost(), true, missing...)
		if err == nil || i+1 == len(ups) || !failover(err, true) {
			break
		}
	}
	if err != nil {
		return nil, err
	}
	if p.l1 != nil {
		delta := p.clock.Now().Sub(sent)
		for j, r := range rs {
			if !r.wrongType {
				p.l1.fill(missing[j], r.value, r.found, r.ttl, sent.UnixNano(), delta, gens[j])
			}
		}
		p.l1.settle()
	}
	return rs, nil
}

// forward sends a command upstream, through the guard, and relays the
// reply. In front of a cluster a keyed command goes to the first key's
// primary, or the next owner when the primary's breaker is open or it
// cannot be reached (a write only if it surely never arrived); a command
// without keys goes to any store node.
func (p *Proxy) forward(c *server.Conn, spec *command.Spec, args [][]byte) {
	var ups []*upstream
	var err error
	if spec.FirstKey > 0 && len(args) > spec.FirstKey {
		ups, err = p.up.forKey(args[spec.FirstKey])
	} else {
		ups, err = p.up.forAny()
	}
	if err != nil {
		c.W.Error(replyFor(err))
		return
	}
	read := !spec.HasFlag(command.Write)
	for i, up := range ups {
		last := i+1 == len(ups)
		done, err := p.guard.admit(c.Context(), c.RemoteHost(), up)
		if err != nil {
			if !last && failover(err, read) {
				continue
			}
			c.W.Error(replyFor(err))
			return
		}
		ctx, cancel := context.WithTimeout(c.Context(), p.cfg.UpstreamTimeout)
		start := c.W.Len()
		err = up.do(ctx, &c.W, args, statusReply(spec, args))
		cancel()
		done(err)
		if err != nil && !last && failover(err, read) {
			c.W.Truncate(start)
			continue
		}
		return
	}
}

// invalidate drops the keys a write touched from the L1 and detaches them
// from in-flight reads, so the writer's next read goes upstream.
func (p *Proxy) invalidate(spec *command.Spec, args [][]byte) {
	if p.l1 == nil && p.flights.InFlight() == 0 {
		return
	}
	spec.ForEachKey(args, func(k []byte) {
		if p.l1 != nil {
			p.l1.invalidate(k)
		}
		p.flights.Forget(string(k))
	})
}

// statusReply reports whether a forwarded command's string reply is a
// simple string (+OK, +string) rather than a bulk string.
func statusReply(spec *command.Spec, args [][]byte) bool {
	switch spec.ID {
	case command.SetEx, command.PSetEx, command.MSet, command.FlushAll, command.FlushDB, command.Type:
		return true
	case command.Set:
		for _, a := range args[3:] {
			if strings.EqualFold(string(a), "get") {
				return false
			}
		}
		return true
	}
	return false
}

// replyFor turns an upstream failure into the client's error text.
func replyFor(err error) string {
	if errors.Is(err, context.Canceled) {
		return "ERR corral: request canceled"
	}
	var rerr interface{ RedisError() }
	switch {
	case errors.As(err, &rerr):
		return err.Error()
	case errors.Is(err, shed.ErrOverloaded), errors.Is(err, shed.ErrRateLimited), errors.Is(err, shed.ErrOpen):
		return shed.Reply(err)
	}
	return errorReply(err)
}

// InfoSections implements server.Handler.
func (p *Proxy) InfoSections() []server.InfoSection {
	return []server.InfoSection{{Name: "proxy", Append: func(dst []byte) []byte {
		dst = server.InfoLine(dst, "upstream", p.up.describe())
		if p.l1 != nil {
			dst = server.InfoInt(dst, "l1_hits", int64(p.l1.hits()))
			dst = server.InfoInt(dst, "l1_misses", int64(p.l1.misses()))
			dst = server.InfoLine(dst, "l1_max_age", p.cfg.L1MaxAge.String())
		}
		return dst
	}}}
}
