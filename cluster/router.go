package cluster

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"

	"corral/cluster/membership"
	"corral/cluster/placement"
)

// RouterConfig configures a Router: the gossip membership of a proxy.
type RouterConfig struct {
	// Membership configures gossip (NodeID, Bind, Advertise, Seeds,
	// Secret, Profile); its Meta.Partitions must be the cluster's. Role,
	// phase and OnChange are set by the Router.
	Membership membership.Config
	// Replicas is the cluster's replication factor, to know each key's
	// owners after its primary. Default 2.
	Replicas int
	// Logger receives logs; nil discards them.
	Logger *slog.Logger
	// TLS routes to the TLS address of every store node that advertises
	// one, as "rediss://host:port"; the proxy dials those over TLS
	// (proxy.Config.UpstreamTLS). Others keep their plaintext address.
	TLS bool
}

// Router is a proxy's view of the store cluster: it joins the gossip as a
// member that owns nothing, and maps each key to the RESP addresses of its
// owners by the same placement the stores use. It implements
// proxy.Router.
type Router struct {
	cfg   RouterConfig
	log   *slog.Logger
	mem   atomic.Pointer[membership.Membership]
	view  atomic.Pointer[routerView]
	mu    sync.Mutex
	parts int
}

type routerView struct {
	table *placement.Table
	addrs map[string]string // store ID → RESP address, see dialAddr
}

// NewRouter validates cfg and binds the gossip address; resp is the
// proxy's own client address, told to the others.
func NewRouter(cfg RouterConfig, resp string) (*Router, error) {
	if cfg.Replicas <= 0 {
		cfg.Replicas = 2
	}
	lg := cfg.Logger
	if lg == nil {
		lg = slog.New(slog.DiscardHandler)
	}
	mc := cfg.Membership
	mc.Meta.Role = membership.RoleProxy
	mc.Meta.Phase = membership.PhaseActive
	mc.Meta.RESP = resp
	if mc.Meta.Proto == 0 {
		mc.Meta.Proto = membership.ProtoVersion
	}
	if mc.Logger == nil {
		mc.Logger = lg
	}
	r := &Router{cfg: cfg, log: lg.With("component", "router"), parts: mc.Meta.Partitions}
	empty, err := placement.New(r.parts, cfg.Replicas, nil)
	if err != nil {
		return nil, fmt.Errorf("cluster: %w", err)
	}
	r.view.Store(&routerView{table: empty, addrs: map[string]string{}})
	mc.OnChange = r.rebuild
	mem, err := membership.New(mc)
	if err != nil {
		return nil, fmt.Errorf("cluster: %w", err)
	}
	r.mem.Store(mem)
	r.rebuild()
	return r, nil
}

// AuthCommand returns the command a proxy sends on each new connection to
// a store node to authenticate as a cluster member (CORRAL.AUTH and the
// token derived from --cluster-secret), or nil without a cluster secret.
func (r *Router) AuthCommand() []any {
	token := peerToken(r.cfg.Membership.Secret)
	if token == "" {
		return nil
	}
	return []any{cmdAuth, token}
}

// Run gossips until ctx is done, then leaves.
func (r *Router) Run(ctx context.Context) error {
	err := r.mem.Load().Run(ctx)
	if errors.Is(err, membership.ErrStopped) {
		return nil
	}
	return err
}

// WaitJoined blocks until the router joined the cluster or ctx is done.
func (r *Router) WaitJoined(ctx context.Context) error { return r.mem.Load().WaitJoined(ctx) }

// GossipAddr returns the bound gossip address.
func (r *Router) GossipAddr() string { return r.mem.Load().GossipAddr() }

func (r *Router) rebuild() {
	mem := r.mem.Load()
	if mem == nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	addrs := map[string]string{}
	var active []string
	for _, m := range mem.Members() {
		if m.Role != membership.RoleStore {
			continue
		}
		addrs[m.ID] = dialAddr(m.Meta, r.cfg.TLS)
		if m.Phase == membership.PhaseActive && m.State == membership.StateAlive {
			active = append(active, m.ID)
		}
	}
	t, err := placement.New(r.parts, r.cfg.Replicas, active)
	if err != nil {
		r.log.Error("placement", "err", err)
		return
	}
	old := r.view.Load()
	if !slices.Equal(old.table.Nodes(), t.Nodes()) {
		r.log.Info("routing to store nodes", "owners", t.Nodes())
	}
	r.view.Store(&routerView{table: t, addrs: addrs})
}

// Owners returns the RESP addresses of key's owners, primary first; those
// dialed over TLS as "rediss://host:port".
func (r *Router) Owners(key []byte) []string {
	v := r.view.Load()
	ids := v.table.OwnersOf(key)
	out := make([]string, 0, len(ids))
	for _, id := range ids {
		if a := v.addrs[id]; a != "" {
			out = append(out, a)
		}
	}
	return out
}

// Nodes returns the RESP addresses of the store nodes that own partitions.
func (r *Router) Nodes() []string {
	v := r.view.Load()
	out := make([]string, 0, len(v.addrs))
	for _, id := range v.table.Nodes() {
		if a := v.addrs[id]; a != "" {
			out = append(out, a)
		}
	}
	return out
}

// Members returns the cluster members the router sees.
func (r *Router) Members() []membership.Member { return r.mem.Load().Members() }
