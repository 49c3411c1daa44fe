package main

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"time"

	"corral/cluster"
	"corral/cluster/membership"
	"corral/cluster/repl"
)

// clusterFlags are the membership, placement and replication knobs.
type clusterFlags struct {
	seeds, nodeID, advertise, gossip, secret string
	replicas                                 int

	// store only
	writeAcks    string
	aeInterval   time.Duration
	aeRate       int
	drainTimeout time.Duration
	hintsPerPeer int
	tombstoneTTL time.Duration
}

func (f *flags) clusterKnobs(cf *clusterFlags, store bool) {
	f.StringVar(&cf.seeds, "seeds", "", "members to join, `host:port,...` (a host alone means port 7946; DNS names are re-resolved on every attempt, so one headless-service name covers every pod)")
	f.StringVar(&cf.nodeID, "node-id", "", "this member's unique, stable `id` (default: from the hostname, corral-store-3 → 3)")
	f.StringVar(&cf.advertise, "advertise", "auto", "`IP` (or IP:port) peers reach this member's gossip and RESP ports at; auto picks the host's private address")
	f.StringVar(&cf.gossip, "gossip", ":7946", "gossip `address` (UDP and TCP)")
	f.StringVar(&cf.secret, "cluster-secret", "", "shared `secret` that encrypts and authenticates gossip (every member must have the same one)")
	f.IntVar(&cf.replicas, "replicas", 2, "copies of each partition (RF); the proxy uses it to fail over to the next owner")
	if !store {
		return
	}
	f.StringVar(&cf.writeAcks, "write-acks", "all", "owners that must apply a write before it is acknowledged: one, quorum, or all reachable owners (at least one)")
	f.DurationVar(&cf.aeInterval, "ae-interval", time.Second, "anti-entropy period: each round compares partition digests with co-owners and repairs differences")
	f.IntVar(&cf.aeRate, "ae-rate", 50000, "most records anti-entropy repairs per second, so repair never starves clients (0: no bound)")
	f.DurationVar(&cf.drainTimeout, "drain-timeout", 30*time.Second, "bound on a drain (/drain or SIGTERM): handing partitions to their new owners and flushing hints")
	f.IntVar(&cf.hintsPerPeer, "hints-per-peer", 100000, "keys queued for an unreachable owner before anti-entropy has to repair instead")
	f.DurationVar(&cf.tombstoneTTL, "tombstone-ttl", time.Hour, "how long deletes are remembered so that anti-entropy spreads them instead of resurrecting data")
}

// seedList splits --seeds.
func (cf *clusterFlags) seedList() []string {
	var out []string
	for _, s := range strings.Split(cf.seeds, ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// id returns --node-id, or one derived from the hostname: the ordinal of a
// StatefulSet pod ("corral-store-3" → "3"), else the hostname itself.
func (cf *clusterFlags) id() (string, error) {
	if cf.nodeID != "" {
		return cf.nodeID, nil
	}
	h, err := os.Hostname()
	if err != nil || h == "" {
		return "", errors.New("--node-id is empty and the hostname is unknown; set --node-id")
	}
	return nodeIDFromHostname(h), nil
}

func nodeIDFromHostname(h string) string {
	h, _, _ = strings.Cut(h, ".")
	if i := strings.LastIndexByte(h, '-'); i >= 0 && i+1 < len(h) {
		if _, err := strconv.Atoi(h[i+1:]); err == nil {
			return h[i+1:]
		}
	}
	return h
}

// membership returns the gossip config shared by both roles.
func (cf *clusterFlags) membership(id string, partitions int, lg *slog.Logger) membership.Config {
	mc := membership.DefaultConfig()
	mc.NodeID = id
	mc.Bind = cf.gossip
	mc.Advertise = cf.advertise
	mc.Seeds = cf.seedList()
	mc.Secret = cf.secret
	mc.Meta.Partitions = partitions
	mc.Logger = lg
	return mc
}

// check names the flag of every out-of-range value.
func (cf *clusterFlags) check(store bool) error {
	var errs []error
	if cf.replicas < 1 {
		errs = append(errs, fmt.Errorf("--replicas %d must be at least 1", cf.replicas))
	}
	if store {
		if _, err := repl.ParseAckMode(cf.writeAcks); err != nil {
			errs = append(errs, fmt.Errorf("--write-acks %q: want one, quorum or all", cf.writeAcks))
		}
		if cf.aeInterval <= 0 {
			errs = append(errs, fmt.Errorf("--ae-interval %v must be positive", cf.aeInterval))
		}
		if cf.aeRate < 0 || cf.hintsPerPeer < 0 {
			errs = append(errs, errors.New("--ae-rate and --hints-per-peer must not be negative"))
		}
		if cf.drainTimeout <= 0 {
			errs = append(errs, fmt.Errorf("--drain-timeout %v must be positive", cf.drainTimeout))
		}
		if cf.tombstoneTTL < time.Second {
			errs = append(errs, fmt.Errorf("--tombstone-ttl %v must be at least 1s", cf.tombstoneTTL))
		}
	}
	return errors.Join(errs...)
}

// applyStore makes cfg a cluster node.
func (cf *clusterFlags) applyStore(cfg *cluster.Config, adminAddr string, lg *slog.Logger) error {
	if err := cf.check(true); err != nil {
		return err
	}
	id, err := cf.id()
	if err != nil {
		return err
	}
	cc := cluster.DefaultClusterConfig()
	cc.Membership = cf.membership(id, cfg.Engine.Partitions, lg)
	cc.AdminAddr = adminAddr
	cc.Repl.Replicas = cf.replicas
	cc.Repl.Acks, _ = repl.ParseAckMode(cf.writeAcks)
	cc.Repl.AEInterval = cf.aeInterval
	cc.Repl.AERate = cf.aeRate
	cc.Repl.HintsPerPeer = cf.hintsPerPeer
	cc.DrainTimeout = cf.drainTimeout
	cfg.Engine.TombstoneTTL = cf.tombstoneTTL
	cfg.Cluster = &cc
	return nil
}

// router returns the proxy's view of the cluster when --seeds is set, or
// nil (a single --upstream) when it is not. With useTLS it routes to the
// stores' TLS ports where they have them.
func (cf *clusterFlags) router(partitions int, listen string, useTLS bool, lg *slog.Logger) (*cluster.Router, error) {
	if cf.seeds == "" {
		return nil, nil
	}
	if err := cf.check(false); err != nil {
		return nil, err
	}
	id, err := cf.id()
	if err != nil {
		return nil, err
	}
	return cluster.NewRouter(cluster.RouterConfig{Membership: cf.membership(id, partitions, lg), Replicas: cf.replicas, Logger: lg, TLS: useTLS}, listen)
}
