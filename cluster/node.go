package cluster

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"corral/cluster/engine"
	"corral/cluster/membership"
	"corral/cluster/placement"
	"corral/cluster/repl"
	"corral/internal/metric"
)

// ClusterConfig makes a store a node of a cluster: membership by gossip,
// placement of partitions on RF owners, replicated writes, anti-entropy,
// and drain.
type ClusterConfig struct {
	// Membership configures gossip: NodeID, Bind, Advertise, Seeds, Secret,
	// Profile. Its Meta, OnChange, Logger and Clock are set by the store.
	// The Secret (--cluster-secret) also guards the internal commands:
	// with one set, a connection must present a token derived from it
	// (CORRAL.AUTH) before any other CORRAL.* command.
	Membership membership.Config
	// AdvertiseRESP is the RESP address peers and proxies dial. "" derives
	// it: the bound RESP port on the --advertise IP, else on the listen
	// host, else on the host's first non-loopback IPv4 address.
	AdvertiseRESP string
	// AdminAddr is the admin HTTP address told to the others (for /status).
	AdminAddr string
	// Repl configures replication and anti-entropy: Replicas (RF), Acks,
	// AEInterval, Timeout, hint bounds, AERate. Self, Engine, Transport,
	// Table, Clock, Logger and Registerer are set by the store.
	Repl repl.Config
	// PeerPoolSize is the number of pooled connections to each peer.
	// Default 16.
	PeerPoolSize int
	// DrainTimeout bounds a drain (/drain or shutdown): handing partitions
	// off and flushing hints. Default 30s.
	DrainTimeout time.Duration
	// WrapTransport, if set, wraps the transport to peers; tests use it to
	// inject faults.
	WrapTransport func(repl.Transport) repl.Transport
	// TLS, when set, is the client configuration of connections to peers
	// that advertise a TLS address (see tlsconf.Reloader.ClientConfig):
	// they are dialed there, over TLS. Peers without one, and every peer
	// when TLS is nil, are dialed at their plaintext RESP address.
	TLS *tls.Config
}

// DefaultClusterConfig returns the defaults; Membership.NodeID must be set.
func DefaultClusterConfig() ClusterConfig {
	return ClusterConfig{
		Membership:   membership.DefaultConfig(),
		Repl:         repl.DefaultConfig(),
		PeerPoolSize: 16,
		DrainTimeout: 30 * time.Second,
	}
}

// node is a store's cluster side.
type node struct {
	s     *Store
	cfg   ClusterConfig
	self  string
	token string // what peers present in CORRAL.AUTH; "" without a secret

	mem   atomic.Pointer[membership.Membership] // set once listen created it
	rep   *repl.Replicator
	ps    *peers
	tr    repl.Transport
	table atomic.Pointer[placement.Table]
	addrs atomic.Pointer[map[string]string] // member ID → RESP address
	phase atomic.Pointer[membership.Phase]

	retableMu sync.Mutex
	members   *prometheus.GaugeVec

	drainOnce sync.Once
	drained   chan struct{} // closed when a drain finished
	killed    chan struct{} // closed by Kill
	killOnce  sync.Once
}

func newNode(s *Store, cfg ClusterConfig) (*node, error) {
	if cfg.PeerPoolSize <= 0 {
		cfg.PeerPoolSize = 16
	}
	if cfg.DrainTimeout <= 0 {
		cfg.DrainTimeout = 30 * time.Second
	}
	n := &node{s: s, cfg: cfg, self: cfg.Membership.NodeID, token: peerToken(cfg.Membership.Secret),
		drained: make(chan struct{}), killed: make(chan struct{})}
	joining := membership.PhaseJoining
	n.phase.Store(&joining)
	n.addrs.Store(&map[string]string{})
	empty, err := placement.New(s.eng.Partitions(), max(cfg.Repl.Replicas, 1), nil)
	if err != nil {
		return nil, err
	}
	n.table.Store(empty)
	n.ps = &peers{
		addrOf:   func(id string) string { return (*n.addrs.Load())[id] },
		timeout:  cfg.Repl.Timeout,
		poolSize: cfg.PeerPoolSize,
		password: s.cfg.Server.RequirePass,
		token:    n.token,
		tls:      cfg.TLS,
		log:      s.log,
		clients:  map[string]*peerClient{},
	}
	n.tr = respTransport{n.ps}
	if cfg.WrapTransport != nil {
		n.tr = cfg.WrapTransport(n.tr)
	}
	rc := cfg.Repl
	rc.Self, rc.Engine, rc.Transport = n.self, s.eng, n.tr
	rc.Table = func() *placement.Table { return n.table.Load() }
	if rc.Clock == nil {
		rc.Clock = s.clock
	}
	rc.Logger = s.log
	rc.Registerer = s.cfg.Registerer
	if rc.Rand == nil {
		rc.Rand = s.rand
	}
	if n.rep, err = repl.New(rc); err != nil {
		return nil, err
	}
	n.registerMetrics(s.cfg.Registerer)
	if s.rt != nil {
		// A loaded value goes to the co-owners too, so the next owner has
		// it if the primary fails, instead of loading it again.
		s.rt.stored = func(key []byte, rec engine.Record) {
			n.rep.ReplicateAsync(s.eng.Partition(key), []repl.Entry{{Key: key, Rec: rec}})
		}
		// Before a load, the co-owners: they may hold a write this node
		// missed (it was cut off, or restarted) whatever it believes.
		s.rt.fromPeers = func(ctx context.Context, key []byte) (engine.Record, bool) {
			if n.rep.FetchFromOwners(ctx, s.eng.Partition(key), [][]byte{key}) == 0 {
				return engine.Record{}, false
			}
			return s.eng.Get(key, s.clock.Now().UnixMilli())
		}
	}
	return n, nil
}

// listen starts the membership once the RESP addresses are bound: the
// plaintext one and the TLS one, either of which may be "".
func (n *node) listen(respAddr, tlsAddr string) error {
	mc := n.cfg.Membership
	var resp, tlsResp string
	var err error
	if respAddr != "" {
		if resp, err = n.advertisedRESP(respAddr, false); err != nil {
			return err
		}
	}
	if tlsAddr != "" {
		if tlsResp, err = n.advertisedRESP(tlsAddr, true); err != nil {
			return err
		}
		if n.cfg.TLS == nil {
			n.s.log.Warn("TLS for clients only: without --tls-ca, traffic to other nodes stays plaintext")
		}
	}
	mc.Meta = membership.Meta{
		Role: membership.RoleStore, Phase: membership.PhaseJoining,
		RESP: resp, TLS: tlsResp, Admin: n.cfg.AdminAddr,
		Partitions: n.s.eng.Partitions(), Proto: membership.ProtoVersion,
	}
	mc.OnChange = n.retable
	if mc.Logger == nil {
		mc.Logger = n.s.log
	}
	if mc.Clock == nil {
		mc.Clock = n.s.clock
	}
	mem, err := membership.New(mc)
	if err != nil {
		return fmt.Errorf("cluster: %w", err)
	}
	n.mem.Store(mem)
	n.retable()
	n.s.log.Info("cluster node", "node_id", n.self, "resp", resp, "tls", tlsResp, "gossip", mem.GossipAddr(),
		"replicas", n.cfg.Repl.Replicas, "write_acks", n.cfg.Repl.Acks.String(), "seeds", mc.Seeds)
	return nil
}

// advertisedRESP returns the RESP address peers dial for the listener
// bound at bound. AdvertiseRESP, when set, is the plaintext one; the TLS
// one (isTLS) is its host with bound's port.
func (n *node) advertisedRESP(bound string, isTLS bool) (string, error) {
	host, port, err := net.SplitHostPort(bound)
	if err != nil {
		return "", err
	}
	if adv := n.cfg.AdvertiseRESP; adv != "" {
		if !isTLS {
			return adv, nil
		}
		if h, _, err := net.SplitHostPort(adv); err == nil {
			return net.JoinHostPort(h, port), nil
		}
	}
	if adv := n.cfg.Membership.Advertise; adv != "" && adv != "auto" {
		if h, _, err := net.SplitHostPort(adv); err == nil {
			adv = h
		}
		if ip := net.ParseIP(adv); ip != nil {
			return net.JoinHostPort(ip.String(), port), nil
		}
	}
	if ip := net.ParseIP(host); ip != nil && !ip.IsUnspecified() {
		return bound, nil
	}
	return net.JoinHostPort(firstIPv4(), port), nil
}

// firstIPv4 returns the host's first non-loopback IPv4 address, or
// 127.0.0.1 when it has none.
func firstIPv4() string {
	addrs, err := net.InterfaceAddrs()
	if err == nil {
		for _, a := range addrs {
			if ipn, ok := a.(*net.IPNet); ok && !ipn.IP.IsLoopback() && ipn.IP.To4() != nil {
				return ipn.IP.String()
			}
		}
	}
	return "127.0.0.1"
}

// run gossips, activates the node once it joined, and runs replication
// until ctx is done.
func (n *node) run(ctx context.Context) error {
	var wg sync.WaitGroup
	wg.Go(func() {
		if err := n.mem.Load().Run(ctx); err != nil && !errors.Is(err, membership.ErrStopped) {
			n.s.log.Error("membership stopped", "err", err)
		}
	})
	wg.Go(func() { _ = n.rep.Run(ctx) })
	if err := n.mem.Load().WaitJoined(ctx); err == nil && n.Phase() == membership.PhaseJoining {
		n.setPhase(membership.PhaseActive)
	}
	<-ctx.Done()
	wg.Wait()
	n.ps.close()
	return nil
}

// Phase returns the node's phase.
func (n *node) Phase() membership.Phase { return *n.phase.Load() }

func (n *node) setPhase(p membership.Phase) {
	n.phase.Store(&p)
	if err := n.mem.Load().SetPhase(p); err != nil {
		n.s.log.Warn("announcing phase", "phase", p, "err", err)
	}
	n.s.log.Info("cluster phase", "phase", p)
	n.retable()
}

// retable rebuilds the placement from the membership view: the owners are
// the alive store members in phase active.
func (n *node) retable() {
	mem := n.mem.Load()
	if mem == nil {
		return // still in membership.New; listen retables after it
	}
	n.retableMu.Lock()
	defer n.retableMu.Unlock()
	members := mem.Members()
	addrs := make(map[string]string, len(members))
	var active []string
	counts := map[[2]string]int{}
	for _, m := range members {
		phase := m.Phase
		if m.ID == n.self {
			phase = n.Phase() // ours is authoritative before gossip echoes it
		}
		counts[[2]string{string(m.Role), string(phase)}]++
		if m.Role != membership.RoleStore {
			continue
		}
		addrs[m.ID] = dialAddr(m.Meta, n.cfg.TLS != nil)
		if phase == membership.PhaseActive && m.State == membership.StateAlive {
			active = append(active, m.ID)
		}
	}
	t, err := placement.New(n.s.eng.Partitions(), n.cfg.Repl.Replicas, active)
	if err != nil {
		n.s.log.Error("placement", "err", err)
		return
	}
	n.addrs.Store(&addrs)
	n.ps.prune(addrs)
	if old := n.table.Load(); !slices.Equal(old.Nodes(), t.Nodes()) {
		n.table.Store(t)
		n.s.log.Info("placement changed", "owners", t.Nodes(), "rf", t.RF())
	}
	if n.members != nil {
		n.members.Reset()
		for k, c := range counts {
			n.members.WithLabelValues(k[0], k[1]).Set(float64(c))
		}
	}
}

// drain enters phase leaving, hands every partition to its new owners and
// flushes hints, bounded by DrainTimeout; it returns when done.
func (n *node) drain() {
	n.drainOnce.Do(func() {
		start := time.Now()
		if n.s.cfg.DataDir != "" {
			// Before the handoff drops the partitions: a node that drains
			// for a restart comes back with its data.
			n.s.saveSnapshot("drain")
		}
		n.setPhase(membership.PhaseLeaving)
		ctx, cancel := context.WithTimeout(context.Background(), n.cfg.DrainTimeout)
		defer cancel()
		for ctx.Err() == nil {
			n.rep.FlushHints(ctx)
			n.rep.Round(ctx)
			st := n.rep.Status()
			if len(n.table.Load().Nodes()) == 0 {
				n.s.log.Warn("drained with no active store left to hand partitions to", "partitions_held", st.Handoff)
				close(n.drained)
				return
			}
			if st.Handoff == 0 && st.Hints == 0 {
				n.s.log.Info("drained: partitions handed off", "took", time.Since(start).Round(time.Millisecond))
				close(n.drained)
				return
			}
			select {
			case <-ctx.Done():
			case <-time.After(50 * time.Millisecond):
			}
		}
		st := n.rep.Status()
		n.s.log.Warn("drain timed out; anti-entropy repairs the rest", "partitions_left", st.Handoff, "hints_left", st.Hints)
		close(n.drained)
	})
}

// kill stops gossip without a goodbye, as if the process died.
func (n *node) kill() {
	n.killOnce.Do(func() {
		if mem := n.mem.Load(); mem != nil {
			mem.Kill()
		}
		close(n.killed)
	})
}

func (n *node) registerMetrics(reg prometheus.Registerer) {
	n.members = metric.Register(reg, prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "corral_cluster_members", Help: "Members of the cluster this node sees, by role and phase.",
	}, []string{"role", "phase"}))
	metric.Register(reg, prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "corral_cluster_underreplicated_partitions",
		Help: "Partitions this node is primary of with fewer than RF in-sync copies, plus those it owns and is still being filled with; summed over the store nodes, 0 means the next scale-down step is safe.",
	}, func() float64 { return float64(n.rep.Status().Underreplicated) }))
	metric.Register(reg, prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "corral_cluster_effective_rf_min",
		Help: "Fewest in-sync copies of any partition this node is primary of.",
	}, func() float64 { return float64(n.rep.Status().EffectiveRFMin) }))
}

// infoReplication appends the INFO replication section.
func (n *node) infoReplication(dst []byte) []byte {
	st := n.rep.Status()
	t := n.table.Load()
	line := func(k, v string) { dst = append(dst, k+":"+v+"\r\n"...) }
	line("role", "store")
	line("node_id", n.self)
	line("cluster_phase", string(n.Phase()))
	line("cluster_members", strconv.Itoa(len(n.mem.Load().Members())))
	line("cluster_owners", strconv.Itoa(len(t.Nodes())))
	line("replicas", strconv.Itoa(n.cfg.Repl.Replicas))
	line("write_acks", n.cfg.Repl.Acks.String())
	line("partitions", strconv.Itoa(t.Partitions()))
	line("partitions_owned", strconv.Itoa(st.Owned))
	line("partitions_primary", strconv.Itoa(st.Primary))
	line("partitions_unfilled", strconv.Itoa(st.Unfilled))
	line("partitions_handoff", strconv.Itoa(st.Handoff))
	line("underreplicated_partitions", strconv.Itoa(st.Underreplicated))
	line("effective_rf_min", strconv.Itoa(st.EffectiveRFMin))
	line("hints_queued", strconv.Itoa(st.Hints))
	return dst
}

// writeStatus writes the cluster part of /status.
func (n *node) writeStatus(w io.Writer) {
	t := n.table.Load()
	st := n.rep.Status()
	fmt.Fprintf(w, "node %s, phase %s, RF %d, write-acks %s, %d partitions\n", n.self, n.Phase(), n.cfg.Repl.Replicas, n.cfg.Repl.Acks, t.Partitions())
	fmt.Fprintf(w, "this node: owns %d, primary of %d, unfilled %d, to hand off %d, underreplicated %d, effective RF min %d, hints %d\n\n",
		st.Owned, st.Primary, st.Unfilled, st.Handoff, st.Underreplicated, st.EffectiveRFMin, st.Hints)
	fmt.Fprintf(w, "%-20s %-6s %-8s %-7s %-22s %-22s %8s %8s\n", "member", "role", "phase", "state", "resp", "admin", "owned", "primary")
	for _, m := range n.mem.Load().Members() {
		owned, primary := 0, 0
		if m.Role == membership.RoleStore {
			for _, p := range t.PartitionsOf(m.ID) {
				owned++
				if t.Primary(p) == m.ID {
					primary++
				}
			}
		}
		fmt.Fprintf(w, "%-20s %-6s %-8s %-7s %-22s %-22s %8d %8d\n", m.ID, m.Role, m.Phase, m.State, m.RESP, m.Admin, owned, primary)
	}
}
