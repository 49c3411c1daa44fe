package proxy

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"corral/internal/clock"
	"corral/shed"
)

// Router tells a proxy in front of a store cluster where keys live. The
// cluster package provides one that follows the gossip view; the proxy
// itself knows nothing of membership or placement.
type Router interface {
	// Owners returns the RESP addresses of key's owners, primary first;
	// none while no store node owns partitions. An address is "host:port",
	// or "rediss://host:port" for a node dialed over TLS with
	// Config.UpstreamTLS.
	Owners(key []byte) []string
	// Nodes returns the RESP addresses of every store node that owns
	// partitions, for commands without a key.
	Nodes() []string
}

// upstreams are the RESP servers behind the proxy: the one --upstream, or
// the store nodes a Router names, each with its own connection pool and
// breaker (one failing node must not open the circuit to the others).
//
// A routed upstream whose address leaves Router.Nodes is retired by sweep
// once it has been out of the view for the grace period and has no round
// trip in flight: its pool is closed (stopping go-redis's redials of a dead
// address) and its breaker and breaker metrics are dropped. A restarted
// store pod comes back on a new address, so nothing else would ever free
// the old one.
type upstreams struct {
	cfg    Config
	deps   shed.Deps
	fixed  *upstream // set with --upstream
	router Router
	clock  clock.Clock
	grace  time.Duration // how long an address stays out of the view before its upstream is retired
	every  time.Duration // sweep interval

	mu        sync.Mutex
	all       map[string]*upstream // by address, when routed
	rr        uint32               // round robin over Nodes for keyless commands
	nextSweep time.Time
}

// pruneGraceTimeouts is the grace period before an upstream that left the
// view is retired, in UpstreamTimeouts: a round trip that picked it before
// it left finishes within one (plus its admission wait, which the in-flight
// count covers), and a node flapping out of the view and back keeps its
// pool and breaker.
const pruneGraceTimeouts = 3

func newUpstreams(cfg Config, deps shed.Deps) (*upstreams, error) {
	u := &upstreams{cfg: cfg, deps: deps, router: cfg.Router, all: map[string]*upstream{},
		clock: clock.Or(deps.Clock), grace: pruneGraceTimeouts * cfg.UpstreamTimeout, every: cfg.UpstreamTimeout}
	if cfg.Router != nil {
		return u, nil
	}
	var err error
	if u.fixed, err = newUpstream(cfg, cfg.Upstream); err != nil {
		return nil, err
	}
	if u.fixed.brk, err = u.breaker(u.fixed.addr); err != nil {
		return nil, err
	}
	return u, nil
}

func (u *upstreams) breaker(addr string) (*shed.Breaker, error) {
	bcfg := u.cfg.Breaker
	bcfg.Target = "upstream " + addr
	if bcfg.Clock == nil {
		bcfg.Clock = u.deps.Clock
	}
	if bcfg.Logger == nil {
		bcfg.Logger = u.deps.Logger
	}
	if bcfg.Registerer == nil {
		bcfg.Registerer = u.deps.Registerer
	}
	b, err := shed.NewBreaker(bcfg)
	if err != nil {
		return nil, fmt.Errorf("proxy: %w", err)
	}
	return b, nil
}

// get returns the upstream at addr, creating it on first use.
func (u *upstreams) get(addr string) (*upstream, error) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if up := u.all[addr]; up != nil {
		return up, nil
	}
	scheme := "redis"
	host := addr
	if h, ok := strings.CutPrefix(addr, "rediss://"); ok {
		if u.cfg.UpstreamTLS == nil {
			return nil, fmt.Errorf("proxy: upstream %s: TLS without Config.UpstreamTLS", addr)
		}
		scheme, host = "rediss", h
	}
	target := &url.URL{Scheme: scheme, User: url.UserPassword("", u.cfg.UpstreamPassword), Host: host}
	if u.cfg.UpstreamAuth != nil {
		target.User = nil // the cluster token authenticates; the default user may be off
	}
	up, err := newUpstream(u.cfg, target.String())
	if err != nil {
		return nil, err
	}
	if up.brk, err = u.breaker(addr); err != nil {
		up.close()
		return nil, err
	}
	u.all[addr] = up
	return up, nil
}

// errNoOwner is returned while no store node owns partitions.
var errNoOwner = errors.New("no store node owns partitions yet")

// forKey returns the upstreams to try for key, in order: the owners,
// primary first, or the one fixed upstream.
func (u *upstreams) forKey(key []byte) ([]*upstream, error) {
	if u.fixed != nil {
		return []*upstream{u.fixed}, nil
	}
	return u.resolve(u.router.Owners(key))
}

// forAny returns the upstreams to try for a command without a key: every
// store node, starting at a different one each time.
func (u *upstreams) forAny() ([]*upstream, error) {
	if u.fixed != nil {
		return []*upstream{u.fixed}, nil
	}
	nodes := u.router.Nodes()
	if len(nodes) == 0 {
		return nil, errNoOwner
	}
	u.mu.Lock()
	u.rr++
	start := int(u.rr) % len(nodes)
	u.mu.Unlock()
	return u.resolve(append(nodes[start:len(nodes):len(nodes)], nodes[:start]...))
}

func (u *upstreams) resolve(addrs []string) ([]*upstream, error) {
	u.sweep(u.clock.Now())
	if len(addrs) == 0 {
		return nil, errNoOwner
	}
	out := make([]*upstream, 0, len(addrs))
	for _, a := range addrs {
		up, err := u.get(a)
		if err != nil {
			return nil, err
		}
		out = append(out, up)
	}
	return out, nil
}

// sweep retires the routed upstreams whose address has been out of
// Router.Nodes for the grace period and that have no round trip in flight.
// It runs at most once per interval: on the request path and from Run,
// so an idle proxy frees them too. An address back in the view before
// then keeps its upstream; after, it gets a new one, with a fresh breaker:
// the view says it is alive again, and the breaker of an address that may
// never return is not worth keeping.
func (u *upstreams) sweep(now time.Time) {
	if u.fixed != nil {
		return
	}
	u.mu.Lock()
	if now.Before(u.nextSweep) || len(u.all) == 0 {
		u.mu.Unlock()
		return
	}
	u.nextSweep = now.Add(u.every)
	u.mu.Unlock()
	live := u.router.Nodes()

	var retired []*upstream
	u.mu.Lock()
	for addr, up := range u.all {
		switch {
		case slices.Contains(live, addr):
			up.goneAt = time.Time{}
		case up.goneAt.IsZero():
			up.goneAt = now
		case now.Sub(up.goneAt) >= u.grace && up.inflight.Load() == 0:
			delete(u.all, addr)
			retired = append(retired, up)
		}
	}
	u.mu.Unlock()
	for _, up := range retired {
		up.brk.Forget()
		if err := up.close(); err != nil {
			u.deps.Logger.Debug("closing retired upstream pool", "upstream", up.addr, "err", err)
		}
	}
}

// describe names the upstream for INFO.
func (u *upstreams) describe() string {
	if u.fixed != nil {
		return u.fixed.addr
	}
	return "cluster (" + strings.Join(u.router.Nodes(), ",") + ")"
}

func (u *upstreams) close() error {
	var errs []error
	if u.fixed != nil {
		errs = append(errs, u.fixed.close())
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	for a, up := range u.all {
		errs = append(errs, up.close())
		delete(u.all, a)
	}
	return errors.Join(errs...)
}

// failover reports whether a command that failed with err on one owner
// may go to the next: always for a read, and for a write only when it
// never reached the owner (breaker open, connection refused).
func failover(err error, read bool) bool {
	if err == nil || isReply(err) {
		return false
	}
	if errors.Is(err, shed.ErrOpen) {
		return true
	}
	if read {
		return !errors.Is(err, shed.ErrOverloaded) && !errors.Is(err, shed.ErrRateLimited) && !errors.Is(err, context.Canceled)
	}
	var oe *net.OpError
	return errors.As(err, &oe) && oe.Op == "dial"
}
