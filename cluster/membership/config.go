package membership

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"time"

	"corral/cluster/placement"
	"corral/internal/clock"
)

// DefaultGossipPort is the gossip port of a seed given without one, and the
// port of the default Bind.
const DefaultGossipPort = 7946

// Profile selects memberlist's timings.
type Profile string

// The profiles.
const (
	// ProfileLAN is memberlist's LAN configuration: probes every second,
	// gossip every 200ms, push/pull every 30s. The default.
	ProfileLAN Profile = "lan"
	// ProfileLocal is tuned for tests on one host: probes every 200ms,
	// gossip every 50ms, push/pull every 2s, so that a killed member is
	// declared dead within about two seconds.
	ProfileLocal Profile = "local"
)

// Backoff bounds the waits between join attempts: attempt n (from 0) waits
// a uniformly random duration in [0, min(Max, Base*2^n)), "full jitter".
type Backoff struct {
	Base time.Duration // the first ceiling; 0 means 500ms
	Max  time.Duration // the largest ceiling; 0 means 15s
}

// Resolver returns the addresses (IPs as strings) of host, as
// net.Resolver.LookupHost does. It must be safe for concurrent use.
type Resolver func(ctx context.Context, host string) ([]string, error)

// Defaults for zero Config fields.
const (
	DefaultBind           = ":7946"
	DefaultJoinBase       = 500 * time.Millisecond
	DefaultJoinMax        = 15 * time.Second
	DefaultRejoinInterval = 15 * time.Second
	DefaultLeaveTimeout   = 5 * time.Second
	DefaultUpdateTimeout  = 2 * time.Second
)

// Config configures a Membership.
type Config struct {
	// NodeID names this member; it must be unique in the cluster and stay
	// the same across restarts (the StatefulSet ordinal). Required.
	NodeID string

	// Bind is the gossip listen address, "host:port" for UDP and TCP. The
	// host is empty (all IPv4 interfaces) or an IP; port 0 picks a free one
	// (for tests; see Membership.GossipAddr). Default ":7946".
	Bind string

	// Advertise is the address peers reach this member at: "" or "auto"
	// lets memberlist choose (the bound IP, or a private IP of the host
	// when Bind's host is empty), an IP keeps the bound port, "IP:port"
	// sets both.
	Advertise string

	// Seeds are the members to join through, each "host:port" or "host"
	// (port 7946). Host names are resolved again on every join attempt, so
	// one Kubernetes headless-service name finds every pod as pods come and
	// go. Addresses of this member are skipped; when every seed resolves to
	// this member only, or Seeds is empty, it forms a one-node cluster.
	Seeds []string

	// Resolver resolves seed host names. Nil means
	// net.DefaultResolver.LookupHost. IP literals are never resolved.
	Resolver Resolver

	// Secret, when not empty, encrypts and authenticates all gossip with an
	// AES-256 key derived from it by SHA-256. Members with a different
	// secret, or none, cannot join. Default "" (plain gossip).
	Secret string

	// Meta is what this member tells the others about itself. Its Role,
	// Phase and Partitions must be valid; see Meta.Validate. Members whose
	// Partitions or Proto differ from these are refused.
	Meta Meta

	// Profile selects memberlist's timings. "" means ProfileLAN.
	Profile Profile

	// JoinBackoff bounds the waits between failed join attempts.
	JoinBackoff Backoff

	// RejoinInterval is how often, once joined, the seeds are resolved
	// again and every seed address that is not a live member is joined, so
	// that the halves of a healed network partition merge even after each
	// declared the other dead. 0 means 15s.
	RejoinInterval time.Duration

	// LeaveTimeout bounds how long Run waits, once its context is done, for
	// the goodbye to reach a peer. 0 means 5s.
	LeaveTimeout time.Duration

	// UpdateTimeout bounds how long SetPhase waits for the new meta to reach
	// a peer. 0 means 2s.
	UpdateTimeout time.Duration

	// Clock reads the time and, when it also implements AfterClock, drives
	// every wait (join backoff, rejoin interval). Nil means clock.Real.
	Clock clock.Clock

	// Rand returns numbers in [0,1) for the backoff jitter. It must be safe
	// for concurrent use. Nil means math/rand/v2's Float64.
	Rand func() float64

	// Logger receives the Membership's log lines, and memberlist's own at
	// debug level. Nil discards them.
	Logger *slog.Logger

	// OnChange, when set, is called whenever the view changes: a member
	// joined, left or died, or updated its meta. It runs on a goroutine of
	// the Membership, never while a lock is held, one call at a time;
	// changes that happen while it runs are coalesced into one more call.
	// It may call any method of the Membership.
	OnChange func()
}

// DefaultConfig returns the Config a store node starts from: bound to
// :7946, no seeds, role store, phase joining, placement.DefaultPartitions
// partitions, ProtoVersion, the LAN profile. NodeID must still be set.
func DefaultConfig() Config {
	return Config{
		Bind: DefaultBind,
		Meta: Meta{
			Role:       RoleStore,
			Phase:      PhaseJoining,
			Partitions: placement.DefaultPartitions,
			Proto:      ProtoVersion,
		},
		Profile:        ProfileLAN,
		JoinBackoff:    Backoff{Base: DefaultJoinBase, Max: DefaultJoinMax},
		RejoinInterval: DefaultRejoinInterval,
		LeaveTimeout:   DefaultLeaveTimeout,
		UpdateTimeout:  DefaultUpdateTimeout,
	}
}

// ErrInvalidConfig is matched by every error Validate returns.
var ErrInvalidConfig = errors.New("membership: invalid config")

// Validate reports every problem in c at once.
func (c Config) Validate() error {
	var errs []error
	bad := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("%w: "+format, append([]any{ErrInvalidConfig}, args...)...))
	}
	if c.NodeID == "" {
		bad("node id is empty")
	}
	bind := c.Bind
	if bind == "" {
		bind = DefaultBind
	}
	bindIP, _, err := parseBind(bind)
	if err != nil {
		bad("bind %q: %v", c.Bind, err)
	}
	adv := c.Advertise
	if adv == "" || adv == "auto" {
		if bindIP != nil && bindIP.IsUnspecified() && bindIP.To4() == nil {
			bad("bind %q on all IPv6 interfaces needs an explicit advertise address", c.Bind)
		}
	} else if _, _, err := parseAdvertise(adv); err != nil {
		bad("advertise %q: %v", adv, err)
	}
	for _, s := range c.Seeds {
		if _, _, err := splitSeed(s); err != nil {
			bad("seed %q: %v", s, err)
		}
	}
	if err := c.Meta.Validate(); err != nil {
		errs = append(errs, fmt.Errorf("%w: meta: %w", ErrInvalidConfig, err))
	}
	switch c.Profile {
	case "", ProfileLAN, ProfileLocal:
	default:
		bad("unknown profile %q (want %q or %q)", c.Profile, ProfileLAN, ProfileLocal)
	}
	for _, d := range []struct {
		name string
		v    time.Duration
	}{
		{"join backoff base", c.JoinBackoff.Base},
		{"join backoff max", c.JoinBackoff.Max},
		{"rejoin interval", c.RejoinInterval},
		{"leave timeout", c.LeaveTimeout},
		{"update timeout", c.UpdateTimeout},
	} {
		if d.v < 0 {
			bad("%s %v is negative", d.name, d.v)
		}
	}
	if b := c.withDefaults().JoinBackoff; b.Base > 0 && b.Max > 0 && b.Max < b.Base {
		bad("join backoff max %v is below its base %v", b.Max, b.Base)
	}
	return errors.Join(errs...)
}

// withDefaults returns c with its zero fields replaced by their defaults.
func (c Config) withDefaults() Config {
	if c.Bind == "" {
		c.Bind = DefaultBind
	}
	if c.Advertise == "auto" {
		c.Advertise = ""
	}
	if c.Profile == "" {
		c.Profile = ProfileLAN
	}
	if c.JoinBackoff.Base == 0 {
		c.JoinBackoff.Base = DefaultJoinBase
	}
	if c.JoinBackoff.Max == 0 {
		c.JoinBackoff.Max = max(DefaultJoinMax, c.JoinBackoff.Base)
	}
	if c.RejoinInterval == 0 {
		c.RejoinInterval = DefaultRejoinInterval
	}
	if c.LeaveTimeout == 0 {
		c.LeaveTimeout = DefaultLeaveTimeout
	}
	if c.UpdateTimeout == 0 {
		c.UpdateTimeout = DefaultUpdateTimeout
	}
	return c
}

// parseBind splits a Bind address into its IP (0.0.0.0 for an empty host)
// and port (0 to 65535).
func parseBind(s string) (net.IP, int, error) {
	host, port, err := net.SplitHostPort(s)
	if err != nil {
		return nil, 0, err
	}
	p, err := parsePort(port, 0)
	if err != nil {
		return nil, 0, err
	}
	if host == "" {
		return net.IPv4zero, p, nil
	}
	ip := net.ParseIP(host)
	if ip == nil {
		return nil, 0, fmt.Errorf("host %q is not an IP address", host)
	}
	return ip, p, nil
}

// parseAdvertise splits an Advertise address, "IP" or "IP:port", into its
// IP and port (0 when absent).
func parseAdvertise(s string) (net.IP, int, error) {
	if ip := net.ParseIP(strings.Trim(s, "[]")); ip != nil {
		return ip, 0, nil
	}
	host, port, err := net.SplitHostPort(s)
	if err != nil {
		return nil, 0, fmt.Errorf("want an IP or IP:port: %w", err)
	}
	ip := net.ParseIP(host)
	if ip == nil {
		return nil, 0, fmt.Errorf("host %q is not an IP address", host)
	}
	p, err := parsePort(port, 1)
	if err != nil {
		return nil, 0, err
	}
	return ip, p, nil
}

// splitSeed splits a seed, "host:port" or "host", into host and port
// (DefaultGossipPort when absent). Bare and bracketed IPv6 addresses count
// as hosts without a port.
func splitSeed(s string) (string, int, error) {
	if s == "" {
		return "", 0, errors.New("empty")
	}
	if ip := net.ParseIP(strings.Trim(s, "[]")); ip != nil {
		return ip.String(), DefaultGossipPort, nil
	}
	if !strings.Contains(s, ":") {
		return s, DefaultGossipPort, nil
	}
	host, port, err := net.SplitHostPort(s)
	if err != nil {
		return "", 0, err
	}
	if host == "" {
		return "", 0, errors.New("empty host")
	}
	p, err := parsePort(port, 1)
	if err != nil {
		return "", 0, err
	}
	return host, p, nil
}

// parsePort parses a decimal port in [lowest, 65535].
func parsePort(s string, lowest int) (int, error) {
	p, err := strconv.Atoi(s)
	if err != nil || p < lowest || p > 65535 {
		return 0, fmt.Errorf("port %q is not a number in [%d, 65535]", s, lowest)
	}
	return p, nil
}
