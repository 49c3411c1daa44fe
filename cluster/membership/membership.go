package membership

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/memberlist"

	"corral/internal/clock"
	"corral/xfetch"
)

// State is how a member's liveness looks from here.
type State int

// The states of a member in the view. Dead and left members are not in the
// view at all.
const (
	// StateAlive is a member that answers probes.
	StateAlive State = iota
	// StateSuspect is a member that missed probes and will be declared dead
	// unless it refutes the suspicion. See the package doc: memberlist
	// v0.7.0 does not report suspicion, so the view never holds it today.
	StateSuspect
)

// String returns "alive" or "suspect".
func (s State) String() string {
	switch s {
	case StateAlive:
		return "alive"
	case StateSuspect:
		return "suspect"
	}
	return "state(" + strconv.Itoa(int(s)) + ")"
}

// Member is one member of the cluster as this node sees it.
type Member struct {
	ID     string // the member's NodeID
	Gossip string // the member's gossip address, "host:port"
	Meta          // what the member tells about itself
	State  State
}

// Errors of a Membership.
var (
	// ErrStopped is returned by the methods of a Membership that was shut
	// down by Leave, Kill or the end of Run.
	ErrStopped = errors.New("membership: stopped")
	// ErrAlreadyRun is returned by a second call of Run.
	ErrAlreadyRun = errors.New("membership: Run called twice")
	// ErrIncompatible is matched by the error with which a member is
	// refused: its meta is unreadable, or its partition count or protocol
	// version differs from ours.
	ErrIncompatible = errors.New("membership: incompatible member")
)

// Membership is this node's membership of the cluster: a memberlist with
// corral's meta, seed handling and refusal of incompatible members. Build
// one with New and call Run. All methods are safe for concurrent use.
type Membership struct {
	cfg     Config // with defaults applied
	log     *slog.Logger
	clock   clock.Clock
	rand    func() float64
	resolve Resolver
	ml      *memberlist.Memberlist
	self    map[string]bool // "ip:port" addresses that reach this member

	changed chan struct{} // holds one token when OnChange has a change to report
	stopped chan struct{} // closed once the memberlist is shut down
	joined  chan struct{} // closed once Run joined or formed a cluster
	ran     atomic.Bool   // Run was called

	life sync.Mutex // serialises SetPhase, Leave and Kill; guards down
	down bool       // the memberlist was shut down

	mu      sync.Mutex           // guards gossip, meta, metaBuf, view and warned
	gossip  string               // our advertised gossip address, as of New
	meta    Meta                 // our meta as of the last SetPhase
	metaBuf []byte               // meta, encoded
	view    map[string]Member    // live members by ID, self included
	warned  map[string]time.Time // refusal key → time of its last warning
}

// New validates cfg, creates the memberlist and binds its gossip listeners.
// Nothing is contacted before Run. The caller must eventually call Run and
// cancel its context, or Leave, or Kill, to release the listeners.
func New(cfg Config) (*Membership, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	logger := cfg.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	buf, err := cfg.Meta.Encode()
	if err != nil {
		return nil, err // Validate checked it; kept for safety
	}
	m := &Membership{
		cfg:     cfg,
		log:     logger.With("component", "membership", "node", cfg.NodeID),
		clock:   clock.Or(cfg.Clock),
		rand:    xfetch.Rand(cfg.Rand).Or(),
		resolve: cfg.Resolver,
		changed: make(chan struct{}, 1),
		stopped: make(chan struct{}),
		joined:  make(chan struct{}),
		meta:    cfg.Meta,
		metaBuf: buf,
		view:    make(map[string]Member),
		warned:  make(map[string]time.Time),
	}
	if m.resolve == nil {
		m.resolve = net.DefaultResolver.LookupHost
	}
	mc, err := m.memberlistConfig(logger)
	if err != nil {
		return nil, err
	}
	ml, err := memberlist.Create(mc)
	if err != nil {
		return nil, fmt.Errorf("membership: start gossip on %s: %w", cfg.Bind, err)
	}
	m.ml = ml
	// Create put us in the view (NotifyJoin), with the advertised address.
	m.mu.Lock()
	m.gossip = m.view[cfg.NodeID].Gossip
	m.mu.Unlock()
	// memberlist wrote the port it bound into mc when Bind's port was 0.
	m.self = selfAddrs(mc.BindAddr, mc.BindPort, m.gossip)
	if cfg.OnChange != nil {
		go m.notifyLoop()
	}
	return m, nil
}

// memberlistConfig translates m.cfg into memberlist's Config.
func (m *Membership) memberlistConfig(logger *slog.Logger) (*memberlist.Config, error) {
	cfg := m.cfg
	mc := profileConfig(cfg.Profile)
	mc.Name = cfg.NodeID
	bindIP, bindPort, _ := parseBind(cfg.Bind) // validated
	mc.BindAddr, mc.BindPort = bindIP.String(), bindPort
	mc.AdvertiseAddr, mc.AdvertisePort = "", bindPort
	if cfg.Advertise != "" {
		ip, port, _ := parseAdvertise(cfg.Advertise) // validated
		mc.AdvertiseAddr = ip.String()
		if port != 0 {
			mc.AdvertisePort = port
		}
	}
	d := &delegate{m: m}
	mc.Delegate, mc.Events, mc.Alive, mc.Merge = d, d, d, d
	mc.Logger = slog.NewLogLogger(logger.With("component", "memberlist", "node", cfg.NodeID).Handler(), slog.LevelDebug)
	mc.GossipVerifyIncoming, mc.GossipVerifyOutgoing = false, false
	if cfg.Secret != "" {
		key := sha256.Sum256([]byte(cfg.Secret))
		kr, err := memberlist.NewKeyring(nil, key[:])
		if err != nil {
			return nil, fmt.Errorf("membership: keyring: %w", err)
		}
		mc.Keyring = kr
		mc.GossipVerifyIncoming, mc.GossipVerifyOutgoing = true, true
	}
	return mc, nil
}

// profileConfig returns memberlist's Config for profile, before the fields
// New sets.
func profileConfig(p Profile) *memberlist.Config {
	if p == ProfileLocal {
		mc := memberlist.DefaultLocalConfig()
		mc.TCPTimeout = time.Second
		mc.ProbeInterval = 200 * time.Millisecond
		mc.ProbeTimeout = 100 * time.Millisecond
		mc.GossipInterval = 50 * time.Millisecond
		mc.PushPullInterval = 2 * time.Second
		mc.SuspicionMult = 3
		mc.SuspicionMaxTimeoutMult = 2
		mc.GossipToTheDeadTime = 2 * time.Second
		mc.DeadNodeReclaimTime = 500 * time.Millisecond
		return mc
	}
	mc := memberlist.DefaultLANConfig()
	// A restarted pod keeps its node ID but may get a new IP; let it take
	// its name back from its dead former self after a few seconds instead of
	// waiting for the dead entry to be reaped (GossipToTheDeadTime, 30s).
	mc.DeadNodeReclaimTime = 5 * time.Second
	return mc
}

// selfAddrs returns the "ip:port" addresses that reach this member: the
// advertised one, the bound one and, when bound to all interfaces, every
// local interface address and loopback at the bound port.
func selfAddrs(bindAddr string, bindPort int, advertised string) map[string]bool {
	self := map[string]bool{advertised: true}
	port := strconv.Itoa(bindPort)
	add := func(ip net.IP) { self[net.JoinHostPort(ip.String(), port)] = true }
	bind := net.ParseIP(bindAddr)
	if bind == nil || !bind.IsUnspecified() {
		if bind != nil {
			add(bind)
		}
		return self
	}
	add(net.IPv4(127, 0, 0, 1))
	add(net.IPv6loopback)
	if addrs, err := net.InterfaceAddrs(); err == nil {
		for _, a := range addrs {
			if n, ok := a.(*net.IPNet); ok {
				add(n.IP)
			}
		}
	}
	return self
}

// Joined reports whether Run has joined a cluster or formed one of its own.
func (m *Membership) Joined() bool {
	select {
	case <-m.joined:
		return true
	default:
		return false
	}
}

// WaitJoined blocks until Run has joined a cluster or formed one of its
// own (nil, also when that happened before a later stop), ctx is done
// (ctx.Err()) or the Membership stopped without having joined (ErrStopped).
func (m *Membership) WaitJoined(ctx context.Context) error {
	if m.Joined() { // even when stopped since
		return nil
	}
	select {
	case <-m.joined:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-m.stopped:
		return ErrStopped
	}
}

// Members returns the live members, alive or suspect, sorted by ID, this
// member included. Members refused as incompatible never appear; dead and
// left ones are removed. The slice is the caller's.
func (m *Membership) Members() []Member {
	m.mu.Lock()
	out := make([]Member, 0, len(m.view))
	for _, mem := range m.view {
		out = append(out, mem)
	}
	m.mu.Unlock()
	slices.SortFunc(out, func(a, b Member) int { return strings.Compare(a.ID, b.ID) })
	return out
}

// Local returns this member, with the meta of the last SetPhase.
func (m *Membership) Local() Member {
	m.mu.Lock()
	defer m.mu.Unlock()
	gossip := m.gossip
	if v, ok := m.view[m.cfg.NodeID]; ok { // absent after Leave
		gossip = v.Gossip
	}
	return Member{ID: m.cfg.NodeID, Gossip: gossip, Meta: m.meta, State: StateAlive}
}

// GossipAddr returns the gossip address peers reach this member at,
// "ip:port": the advertised address, which is the bound one when Bind has
// an IP and Advertise is empty. With Bind's port 0 it carries the port
// memberlist picked, so tests can pass it as a seed.
func (m *Membership) GossipAddr() string { return m.Local().Gossip }

// SetPhase sets this member's phase and gossips the new meta, waiting up to
// Config.UpdateTimeout for it to reach one peer. The phase is set locally
// even when that wait times out (memberlist keeps retransmitting it, and
// push/pull carries it too); the error then says so.
func (m *Membership) SetPhase(p Phase) error {
	if !p.Valid() {
		return fmt.Errorf("%w: unknown phase %q", ErrBadMeta, p)
	}
	m.life.Lock()
	defer m.life.Unlock()
	if m.down {
		return ErrStopped
	}
	m.mu.Lock()
	meta := m.meta
	meta.Phase = p
	buf, err := meta.Encode()
	if err == nil {
		m.meta, m.metaBuf = meta, buf
	}
	m.mu.Unlock()
	if err != nil {
		return err
	}
	if err := m.ml.UpdateNode(m.cfg.UpdateTimeout); err != nil {
		return fmt.Errorf("membership: phase %s set, gossip not yet confirmed: %w", p, err)
	}
	m.log.Info("phase set", "phase", p)
	return nil
}

// Leave says goodbye to the cluster, waiting up to timeout (<= 0 means
// Config.LeaveTimeout) for the message to reach a peer, then shuts the
// memberlist down. Peers then drop this member at once instead of after a
// failure detection. Run returns once Leave is done. Calling Leave or Kill
// again does nothing; an error reports a goodbye that may not have gone out.
func (m *Membership) Leave(timeout time.Duration) error {
	if timeout <= 0 {
		timeout = m.cfg.LeaveTimeout
	}
	m.life.Lock()
	defer m.life.Unlock()
	if m.down {
		return nil
	}
	err := m.ml.Leave(timeout)
	m.shutdownLocked()
	if err != nil {
		return fmt.Errorf("membership: leave: %w", err)
	}
	m.log.Info("left the cluster")
	return nil
}

// Kill shuts the memberlist down without a goodbye, as a crash would: peers
// notice by failure detection. It is meant for tests. Run returns once Kill
// is done.
func (m *Membership) Kill() {
	m.life.Lock()
	defer m.life.Unlock()
	if !m.down {
		m.shutdownLocked()
	}
}

// shutdownLocked shuts the memberlist down and stops every loop. m.life must
// be held.
func (m *Membership) shutdownLocked() {
	m.down = true
	if err := m.ml.Shutdown(); err != nil {
		m.log.Warn("gossip shutdown", "err", err)
	}
	close(m.stopped)
}

// notifyLoop calls OnChange for every token in m.changed until the
// Membership stops.
func (m *Membership) notifyLoop() {
	for {
		select {
		case <-m.stopped:
			return
		case <-m.changed:
			m.cfg.OnChange()
		}
	}
}

// noteChange records that the view changed, for notifyLoop.
func (m *Membership) noteChange() {
	select {
	case m.changed <- struct{}{}:
	default: // a call is already due; it will see this change too
	}
}
