// Package cluster is corral's store tier. For now a store is a single node:
// a RESP server over a partitioned in-memory engine with TTLs, hybrid
// logical clock versions and tombstones; membership, placement, replication
// and anti-entropy build on the same engine.
package cluster

import (
	"context"
	"log/slog"
	"math"
	"strings"
	"time"

	"golang.org/x/sync/errgroup"

	"corral/cluster/engine"
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
	newMetrics(cfg.Registerer, s.eng, s.clock)
	if s.rt, err = newReadThrough(cfg, s.eng, s.clock, lg); err != nil {
		return nil, err
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
	return s, nil
}

// Listen binds the RESP address so Addr is known before Run.
func (s *Store) Listen() error { return s.srv.Listen() }

// Addr returns the bound RESP address.
func (s *Store) Addr() string { return s.srv.Addr() }

// Engine returns the node's storage engine.
func (s *Store) Engine() *engine.Engine { return s.eng }

// Run serves until ctx is done: the RESP server and the engine's active
// expiry. It returns after a graceful shutdown.
func (s *Store) Run(ctx context.Context) error {
	g, ctx := errgroup.WithContext(ctx)
	g.Go(func() error { return s.eng.Run(ctx) })
	g.Go(func() error { return s.srv.Run(ctx) })
	if s.rt != nil {
		g.Go(func() error { return s.rt.run(ctx) })
	}
	return g.Wait()
}

// Exec implements server.Handler.
func (s *Store) Exec(c *server.Conn, spec *command.Spec, args [][]byte) {
	if (spec.ID == command.FlushAll || spec.ID == command.FlushDB) && !s.cfg.AllowFlush {
		c.W.Error("ERR " + strings.ToUpper(spec.Name) + " is disabled on corral; start it with --allow-flush to accept it")
		return
	}
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
	s.exec(&c.W, spec, args, c.Now())
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

// InfoSections implements server.Handler: keyspace and memory.
func (s *Store) InfoSections() []server.InfoSection {
	return []server.InfoSection{
		{Name: "memory", Append: func(dst []byte) []byte {
			return server.InfoInt(dst, "used_memory_dataset", s.eng.Stats().UsedBytes)
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
