// Package cluster is corral's store tier: a RESP server over a partitioned
// in-memory engine with TTLs, hybrid logical clock versions and tombstones,
// optionally reading through to an origin. Alone, a store serves every key
// itself. As a cluster node (Config.Cluster) it learns the other nodes by
// gossip (cluster/membership), places each partition on RF owners by
// rendezvous hashing (cluster/placement), runs commands on keys it owns and
// forwards the others, replicates every write to the co-owners and keeps
// replicas equal with anti-entropy (cluster/repl), and hands its partitions
// off when it drains.
package cluster

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math"
	"strings"
	"time"

	"golang.org/x/sync/errgroup"

	"corral/cluster/engine"
	"corral/cluster/membership"
	"corral/cluster/repl"
	"corral/internal/clock"
	"corral/internal/command"
	"corral/internal/resp"
	"corral/internal/server"
	"corral/xfetch"
)

// Store is a store node. Create it with New and run it with Run.
type Store struct {
	cfg   Config
	clock clock.Clock
	log   *slog.Logger
	eng   *engine.Engine
	srv   *server.Server
	rt    *readThrough // nil without an origin
	rand  xfetch.Rand
	node  *node // nil when the store runs alone
	m     *metrics
}

// New validates cfg and builds a Store.
func New(cfg Config) (*Store, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	lg := cfg.Logger
	if lg == nil {
		lg = slog.New(slog.DiscardHandler)
	}
	s := &Store{cfg: cfg, clock: clock.Or(cfg.Clock), log: lg.With("component", "store"), rand: cfg.Rand.Or()}

	ecfg := cfg.Engine
	if ecfg.Clock == nil {
		ecfg.Clock = s.clock
	}
	if ecfg.Logger == nil {
		ecfg.Logger = lg
	}
	var err error
	if s.eng, err = engine.New(ecfg); err != nil {
		return nil, err
	}
	if cfg.DataDir != "" {
		if err := s.loadSnapshot(); err != nil {
			return nil, fmt.Errorf("cluster: --data-dir %s: %w", cfg.DataDir, err)
		}
	}
	s.m = newMetrics(cfg.Registerer, s.eng, s.clock)
	if s.rt, err = newReadThrough(cfg, s.eng, s.clock, lg); err != nil {
		return nil, err
	}
	if s.rt != nil {
		s.rt.room = s.reclaim
	}

	scfg := cfg.Server
	scfg.Role = "store"
	if scfg.Clock == nil {
		scfg.Clock = s.clock
	}
	if scfg.Logger == nil {
		scfg.Logger = lg
	}
	if scfg.Registerer == nil {
		scfg.Registerer = cfg.Registerer
	}
	if s.srv, err = server.New(scfg, s); err != nil {
		return nil, err
	}
	if cfg.Cluster != nil {
		if s.node, err = newNode(s, *cfg.Cluster); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// Listen binds the RESP address so Addr is known before Run; a cluster
// node also binds its gossip address.
func (s *Store) Listen() error {
	if err := s.srv.Listen(); err != nil {
		return err
	}
	if s.node != nil {
		return s.node.listen(s.srv.Addr(), s.srv.TLSAddr())
	}
	return nil
}

// Addr returns the bound RESP address ("" without a plaintext port).
func (s *Store) Addr() string { return s.srv.Addr() }

// TLSAddr returns the bound RESP-over-TLS address, "" without one.
func (s *Store) TLSAddr() string { return s.srv.TLSAddr() }

// Engine returns the node's storage engine.
func (s *Store) Engine() *engine.Engine { return s.eng }

// Run serves until ctx is done, then shuts down gracefully: a cluster
// node first drains (phase leaving, its partitions handed to their new
// owners, hints flushed; bounded by DrainTimeout) while it keeps serving.
// Run also returns once a drain requested by Drain has finished.
func (s *Store) Run(ctx context.Context) error {
	inner, stop := context.WithCancel(context.Background())
	defer stop()
	g, gctx := errgroup.WithContext(inner)
	g.Go(func() error { return s.eng.Run(gctx) })
	g.Go(func() error { return s.srv.Run(gctx) })
	if s.rt != nil {
		g.Go(func() error { return s.rt.run(gctx) })
	}
	if s.cfg.DataDir != "" {
		g.Go(func() error { return s.snapshotLoop(gctx) })
	}
	if s.eng.MaxMemory() > 0 {
		g.Go(func() error { return s.memoryLoop(gctx) })
	}
	var drained, killed <-chan struct{}
	if s.node != nil {
		g.Go(func() error { return s.node.run(gctx) })
		drained, killed = s.node.drained, s.node.killed
	}
	select {
	case <-ctx.Done():
		if s.cfg.DataDir != "" && s.node == nil {
			s.saveSnapshot("shutdown") // a cluster node saves it as its drain starts
		}
		if s.node != nil {
			select {
			case <-killed:
			default:
				s.node.drain()
			}
		}
	case <-drained:
	case <-killed:
	case <-gctx.Done():
	}
	stop()
	return g.Wait()
}

// Drain makes a cluster node leave: phase leaving, so peers stop placing
// partitions on it, while it keeps serving; it hands its partitions to
// their new owners and flushes its hints, and then Run returns. It
// returns at once; a store that runs alone has nothing to drain.
func (s *Store) Drain() {
	if s.node != nil {
		go s.node.drain()
	}
}

// Kill stops a cluster node's gossip without a goodbye and ends Run
// without draining, as close to kill -9 as a process can get while its
// tests go on: peers find out by failed probes.
func (s *Store) Kill() {
	if s.node != nil {
		s.node.kill()
	}
}

// Ready reports whether the store serves: always when it runs alone; a
// cluster node once it joined (phase active or leaving).
func (s *Store) Ready() bool {
	return s.node == nil || s.node.Phase() != membership.PhaseJoining
}

// ReplicationStatus returns a cluster node's replication status (zero for
// a store that runs alone).
func (s *Store) ReplicationStatus() repl.Status {
	if s.node == nil {
		return repl.Status{}
	}
	return s.node.rep.Status()
}

// WriteStatus writes the store's part of the admin /status page.
func (s *Store) WriteStatus(w io.Writer) {
	st := s.eng.Stats()
	fmt.Fprintf(w, "keys %d (with TTL %d), tombstones %d, memory %d bytes\n", st.Keys, st.Expires, st.Tombstones, st.UsedBytes)
	if s.node != nil {
		s.node.writeStatus(w)
	}
}

// Exec implements server.Handler.
func (s *Store) Exec(c *server.Conn, spec *command.Spec, args [][]byte) {
	if (spec.ID == command.FlushAll || spec.ID == command.FlushDB) && !s.cfg.AllowFlush {
		c.W.Error("ERR " + strings.ToUpper(spec.Name) + " is disabled on corral; start it with --allow-flush to accept it")
		return
	}
	if s.node != nil {
		s.execCluster(c, spec, args)
		return
	}
	s.execLocal(c, spec, args)
}

// execLocal runs a data command on this node's engine, reading through to
// the origin when there is one.
func (s *Store) execLocal(c *server.Conn, spec *command.Spec, args [][]byte) {
	if s.rt != nil {
		switch {
		case spec.ID == command.Get:
			s.serveGet(c, args[1])
			return
		case spec.ID == command.MGet:
			s.serveMGet(c, args[1:])
			return
		case spec.ID == command.FlushAll || spec.ID == command.FlushDB:
			s.rt.flush()
		case spec.ID == command.Del || spec.ID == command.Unlink || spec.ID == command.GetDel:
			spec.ForEachKey(args, s.rt.invalidate)
		}
		// Other writes need nothing here: each one that changes a key
		// changes its Version, which voids what read-through loaded for
		// it, and one that changes nothing (SET NX on a held key) keeps it.
	}
	if !spec.HasFlag(command.DenyOOM) {
		s.exec(&c.W, spec, args, c.Now())
		return
	}
	now := c.Now()
	if !s.admitWrite(now.UnixMilli()) {
		c.W.Error(string(command.ErrOOM))
		return
	}
	s.exec(&c.W, spec, args, now)
	s.reclaim(now.UnixMilli())
}

// exec runs one data command against the engine at time now.
func (s *Store) exec(w *resp.Writer, spec *command.Spec, args [][]byte, now time.Time) {
	s.execData(w, spec, args, now.UnixMilli())
}

// clientDeadline returns the deadline a client asked for (unix ms, 0 for
// none), spread by the TTL jitter when the store jitters client TTLs.
// Deadlines already past stay as they are: they delete the key.
func (s *Store) clientDeadline(at, nowMs int64) int64 {
	if !s.cfg.JitterClientTTL || at <= nowMs || at-nowMs > math.MaxInt64/int64(time.Millisecond) {
		return at // none, already past, or too far off to spread without overflow
	}
	ttl := time.Duration(at-nowMs) * time.Millisecond
	return nowMs + xfetch.Jitter(ttl, s.cfg.Defenses.Jitter, s.rand()).Milliseconds()
}

// InfoSections implements server.Handler: memory, stats (added to the
// server's), replication and keyspace.
func (s *Store) InfoSections() []server.InfoSection {
	return []server.InfoSection{
		{Name: "memory", Append: s.infoMemory},
		{Name: "stats", Append: s.infoStats},
		{Name: "replication", Append: func(dst []byte) []byte {
			if s.node == nil {
				return append(dst, "role:store\r\nnode_id:\r\ncluster_phase:alone\r\n"...)
			}
			return s.node.infoReplication(dst)
		}},
		{Name: "keyspace", Append: func(dst []byte) []byte {
			st := s.eng.Stats()
			if st.Keys == 0 {
				return dst
			}
			return append(dst, "db0:keys="+itoa(int64(st.Keys))+",expires="+itoa(int64(st.Expires))+",avg_ttl=0\r\n"...)
		}},
	}
}

// GossipAddr returns a cluster node's bound gossip address ("" alone).
func (s *Store) GossipAddr() string {
	if s.node == nil || s.node.mem.Load() == nil {
		return ""
	}
	return s.node.mem.Load().GossipAddr()
}

// Owners returns the store nodes a cluster node currently places
// partitions on (nil alone).
func (s *Store) Owners() []string {
	if s.node == nil {
		return nil
	}
	return s.node.table.Load().Nodes()
}

// AntiEntropyRound runs one anti-entropy round now on a cluster node (for
// tests and operators; nodes run them every --ae-interval by themselves).
func (s *Store) AntiEntropyRound(ctx context.Context) repl.RoundStats {
	if s.node == nil {
		return repl.RoundStats{}
	}
	return s.node.rep.Round(ctx)
}
