package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime"
	"strings"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/redis/go-redis/v9"
	"golang.org/x/sync/errgroup"

	"corral/cluster"
	"corral/cluster/engine"
	"corral/internal/acl"
	"corral/internal/admin"
	"corral/internal/hugepage"
	"corral/internal/resp"
	"corral/internal/server"
	"corral/origin"
	"corral/proxy"
)

// commonFlags are the flags every role takes.
type commonFlags struct {
	listen, admin     string
	requirepass       string
	usersFile         string
	users             *acl.File // loaded from usersFile by setup
	maxclients        int
	timeout           time.Duration
	protoMaxBulkLen   int64
	queryBufferLimit  int64
	outHard, outSoft  int64
	outSoftTime       time.Duration
	maxmemory         int64
	allowFlush        bool
	hugePages         bool
	logLevel, logForm string
	tls               tlsFlags
}

func (f *flags) common(c *commonFlags, defListen string) {
	f.StringVar(&c.listen, "listen", defListen, "RESP `address` clients connect to (\"\" or 0 with --tls-listen: TLS only)")
	f.StringVar(&c.admin, "admin", ":9121", "admin HTTP `address` (/metrics, /ready, /alive, /drain, /status, /debug/pprof/); empty disables")
	f.StringVar(&c.requirepass, "requirepass", "", "`password` clients must AUTH with (the default user's); a proxy with --seeds gives it to the store nodes too")
	f.StringVar(&c.usersFile, "users-file", "", "ACL users `file`: lines like \"user alice on #<sha256 of password> ~cache:* +@read\" (see README); read at start")
	f.IntVar(&c.maxclients, "maxclients", 10000, "maximum concurrent client connections")
	f.Var(secondsFlag{&c.timeout}, "timeout", "close clients idle this long, in `seconds` or as a duration (0 never)")
	f.size(&c.protoMaxBulkLen, "proto-max-bulk-len", resp.DefaultMaxBulkLen, "largest request argument (`size`: 512mb, 1gb, ...)")
	f.size(&c.queryBufferLimit, "client-query-buffer-limit", resp.DefaultMaxQueryBuffer, "largest unprocessed input per client (`size`)")
	f.Var(outputLimitFlag{&c.outHard, &c.outSoft, &c.outSoftTime}, "client-output-buffer-limit",
		"limits on pending replies, as `hard soft seconds`: close a client whose replies exceed hard bytes, or stay above soft bytes for that many seconds (Redis's normal class; \"0 0 0\" no limit)")
	f.size(&c.maxmemory, "maxmemory", 0, "bound on cached data (`size`, 0 none): a store's keys, values and per-record overhead, kept under it by --maxmemory-policy; a proxy's L1 is capped at it (the smaller of it and --l1-max-bytes)")
	f.BoolVar(&c.allowFlush, "allow-flush", false, "accept FLUSHALL and FLUSHDB")
	// A store's heap is its data, bounded by --maxmemory and often by a
	// GOMEMLIMIT at the container's limit: huge pages keep partly used
	// stretches resident whole, so a store asks for them only when told.
	f.BoolVar(&c.hugePages, "huge-pages", f.role != "store", "ask Linux for transparent huge pages on the heap (MADV_HUGEPAGE, then MADV_COLLAPSE of what was touched before; for the kernel's \"madvise\" setting): cached data is read at random, and on small pages most reads also miss the TLB. The cost: up to 2 MiB more resident per partly used stretch of heap, and page faults that may wait for compaction; false leaves the heap to the kernel's setting (default: on for proxy and dev, off for store)")
	f.StringVar(&c.logLevel, "log-level", "info", "log `level`: debug, info, warn, error")
	f.StringVar(&c.logForm, "log-format", "auto", "log `format`: text, json, or auto (text on a terminal, json otherwise)")
	f.tlsKnobs(&c.tls)
}

func (c *commonFlags) serverConfig(role string) server.Config {
	s := server.DefaultConfig()
	s.Addr = c.listen
	s.Role = role
	s.MaxClients = c.maxclients
	s.IdleTimeout = c.timeout
	s.ProtoMaxBulkLen = c.protoMaxBulkLen
	s.QueryBufferLimit = c.queryBufferLimit
	s.OutputHardLimit, s.OutputSoftLimit, s.OutputSoftTime = c.outHard, c.outSoft, c.outSoftTime
	s.RequirePass = c.requirepass
	s.Users = c.users
	s.Version = version
	return s
}

// newLogger builds the process logger from --log-level and --log-format.
func newLogger(level, format string, out io.Writer) (lg *slog.Logger, err error) {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(level)); err != nil {
		return nil, usagef("invalid --log-level %q: use debug, info, warn or error", level)
	}
	opts := &slog.HandlerOptions{Level: lv}
	switch format {
	case "text":
		lg = slog.New(slog.NewTextHandler(out, opts))
	case "json":
		lg = slog.New(slog.NewJSONHandler(out, opts))
	case "auto":
		lg = slog.New(slog.NewJSONHandler(out, opts))
		if f, ok := out.(*os.File); ok {
			if st, err := f.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
				lg = slog.New(slog.NewTextHandler(out, opts))
			}
		}
	default:
		return nil, usagef("invalid --log-format %q: use text, json or auto", format)
	}
	// go-redis logs through a process-wide logger; cmd owns the process.
	redis.SetLogger(redisLogger{lg})
	return lg, nil
}

// newRegistry returns the process's metrics registry.
func newRegistry() *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return reg
}

// role is what runRole drives: a proxy, a store, or both.
type role interface {
	Listen() error
	Run(ctx context.Context) error
}

// lifecycle is the process state the admin endpoints report.
type lifecycle struct {
	name    string
	ready   atomic.Bool
	leaving atomic.Bool
	log     *slog.Logger
	status  func(w io.Writer)
	readyFn func() bool // the role's own readiness (a store: joined the cluster)
	drain   func()      // the role's drain (a store: hand partitions off, then exit)
}

// routerRole runs a proxy's cluster membership beside the proxy.
type routerRole struct{ r *cluster.Router }

func (routerRole) Listen() error                    { return nil }
func (rr routerRole) Run(ctx context.Context) error { return rr.r.Run(ctx) }

func (l *lifecycle) phase() string {
	switch {
	case l.leaving.Load():
		return "leaving"
	case l.ready.Load():
		return "active"
	}
	return "joining"
}

// runRoles binds the roles' listeners, then serves them and the admin
// endpoints until ctx is done or one of them fails.
func runRoles(ctx context.Context, lc *lifecycle, c *commonFlags, reg *prometheus.Registry, roles ...role) error {
	for _, r := range roles {
		if err := r.Listen(); err != nil {
			return err
		}
	}
	adm, err := admin.New(admin.Config{
		Addr:     c.admin,
		Gatherer: reg,
		Ready: func() bool {
			return lc.ready.Load() && (lc.readyFn == nil || lc.readyFn())
		},
		Drain: func() {
			lc.leaving.Store(true)
			if lc.drain != nil {
				lc.log.Info("drain requested: phase leaving; handing partitions off, then exiting")
				lc.drain()
				return
			}
			lc.log.Info("drain requested: phase leaving; still serving until shutdown")
		},
		Status: func(w io.Writer) {
			fmt.Fprintf(w, "corral %s %s\nphase: %s\n\n", lc.name, version, lc.phase())
			if lc.status != nil {
				lc.status(w)
			}
		},
		Logger: lc.log,
	})
	if err != nil {
		return err
	}
	if err := adm.Listen(); err != nil {
		return err
	}
	// A role that returns ends the process, even without an error: a store
	// whose drain (/drain) has finished exits, admin server included.
	runCtx, stop := context.WithCancel(ctx)
	defer stop()
	g, gctx := errgroup.WithContext(runCtx)
	for _, r := range roles {
		g.Go(func() error {
			defer stop()
			return r.Run(gctx)
		})
	}
	g.Go(func() error { return adm.Run(gctx) })
	if c.hugePages {
		g.Go(func() error { hugepage.Keep(gctx, lc.log); return nil })
	}
	lc.ready.Store(true)
	lc.log.Info("corral started", "role", lc.name, "version", version, "admin", adm.Addr())
	notifyStarted(ctx, roles, adm.Addr())
	err = g.Wait()
	lc.log.Info("corral stopped", "role", lc.name)
	return err
}

// startedKey is the context key under which an in-process caller (corral
// bench's launcher) passes a startedFunc to a role.
type startedKey struct{}

// startedFunc learns where a role serves once every listener is bound:
// the RESP address clients use (the last role's: the proxy of dev) and the
// admin address ("" when disabled). Ports given as 0 are reported bound.
type startedFunc func(respAddr, adminAddr string)

// notifyStarted calls the startedFunc ctx carries, if any.
func notifyStarted(ctx context.Context, roles []role, adminAddr string) {
	f, ok := ctx.Value(startedKey{}).(startedFunc)
	if !ok || len(roles) == 0 {
		return
	}
	var addr string
	if a, ok := roles[len(roles)-1].(interface{ Addr() string }); ok {
		addr = a.Addr()
	}
	f(addr, adminAddr)
}

type proxyFlags struct {
	upstream        string
	l1MaxAge        time.Duration
	l1MaxBytes      int64
	upstreamTimeout time.Duration
	upstreamPool    int
	ioLoops         int
}

func (f *flags) proxyKnobs(p *proxyFlags, withUpstream bool) {
	if withUpstream {
		f.StringVar(&p.upstream, "upstream", "", "the RESP upstream, `redis://host:port` (a corral store or any Redis)")
	}
	f.DurationVar(&p.l1MaxAge, "l1-max-age", time.Second, "longest time the proxy serves a value from its L1 without asking upstream (0 disables the L1)")
	f.size(&p.l1MaxBytes, "l1-max-bytes", 128<<20, "L1 cache capacity (`size`)")
	f.DurationVar(&p.upstreamTimeout, "upstream-timeout", 3*time.Second, "bound on one upstream command; keep it above the stores' --origin-timeout")
	f.IntVar(&p.upstreamPool, "upstream-pool", 64, "pooled connections to the upstream")
	f.IntVar(&p.ioLoops, "io-loops", min(runtime.GOMAXPROCS(0), 64), "most event loops (epoll, Linux) serving plaintext clients, by default one per usable core: L1 hits are answered on a loop, other commands on a goroutine; one loop runs until it is saturated, then more start; 0 gives every client its own goroutine")
}

// l1Bytes returns the L1's capacity: --l1-max-bytes, capped by --maxmemory
// when that is set. A cap under the L1's 1mb minimum is refused with a
// message naming both flags, rather than the L1's own.
func (p *proxyFlags) l1Bytes(c *commonFlags) (int64, error) {
	if c.maxmemory == 0 || c.maxmemory >= p.l1MaxBytes {
		return p.l1MaxBytes, nil
	}
	if c.maxmemory < 1<<20 && p.l1MaxAge > 0 {
		return 0, fmt.Errorf("--maxmemory %s caps the L1 (--l1-max-bytes) below its 1mb minimum: give at least 1mb, or disable the L1 with --l1-max-age 0", formatSize(c.maxmemory))
	}
	return c.maxmemory, nil
}

func (p *proxyFlags) config(c *commonFlags, lg *slog.Logger, reg prometheus.Registerer) (proxy.Config, error) {
	cfg := proxy.DefaultConfig()
	cfg.Server = c.serverConfig("proxy")
	if p.ioLoops < 0 || p.ioLoops > 64 {
		return cfg, usagef("invalid --io-loops %d: give 0 to 64", p.ioLoops)
	}
	cfg.Server.IOLoops = p.ioLoops
	cfg.Upstream = p.upstream
	cfg.L1MaxAge = p.l1MaxAge
	l1, err := p.l1Bytes(c)
	if err != nil {
		return cfg, err
	}
	cfg.L1MaxBytes = l1
	cfg.UpstreamTimeout = p.upstreamTimeout
	cfg.UpstreamPoolSize = p.upstreamPool
	cfg.AllowFlush = c.allowFlush
	cfg.Logger = lg
	cfg.Registerer = reg
	return cfg, nil
}

// setup parses a role's command line and builds the process logger and
// metrics registry from it.
func setup(f *flags, c *commonFlags, args []string, getenv func(string) string, stderr io.Writer) (*slog.Logger, *prometheus.Registry, error) {
	if err := f.parse(args, getenv); err != nil {
		return nil, nil, err
	}
	lg, err := newLogger(c.logLevel, c.logForm, stderr)
	if err != nil {
		return nil, nil, err
	}
	if c.usersFile != "" {
		if c.users, err = acl.LoadFile(c.usersFile); err != nil {
			return nil, nil, usagef("%v", err)
		}
		users, err := acl.New(c.requirepass, c.users)
		if err != nil {
			return nil, nil, usagef("%v", err)
		}
		lg.Info("users loaded", "file", c.usersFile, "users", users.Names())
		if d := users.Default(); d.Enabled() && d.NoPass() {
			lg.Warn("the default user needs no password: clients that do not AUTH may run every command; set --requirepass or define \"user default off\" (or with a password) in the users file",
				"file", c.usersFile)
		}
	}
	return lg, newRegistry(), nil
}

func runProxy(ctx context.Context, args []string, getenv func(string) string, stderr io.Writer) error {
	var c commonFlags
	var p proxyFlags
	f := newFlags("proxy", "The client-facing proxy: answers GETs from its L1 cache, collapses misses, forwards the rest upstream.", stderr)
	var d defenseFlags
	f.common(&c, ":6379")
	f.proxyKnobs(&p, true)
	f.defenses(&d)
	var cf clusterFlags
	var s storeFlags
	f.clusterKnobs(&cf, false)
	f.storeKnobs(&s)
	var negTTL time.Duration
	f.DurationVar(&negTTL, "negative-ttl", 5*time.Second, "accepted so that proxy and store take the same flags; negative entries are the store's (see corral store --help)")
	lg, reg, err := setup(f, &c, args, getenv, stderr)
	if err != nil {
		return err
	}
	switch {
	case p.upstream == "" && cf.seeds == "":
		return usagef("corral proxy: --upstream or --seeds is required (for example --upstream redis://127.0.0.1:7379, or --seeds corral-store:7946)")
	case p.upstream != "" && cf.seeds != "":
		return usagef("corral proxy: --upstream and --seeds are exclusive: one upstream, or a store cluster")
	}
	rl, err := c.tls.load(lg)
	if err != nil {
		return usagef("corral proxy: %v", err)
	}
	pcfg, err := p.config(&c, lg, reg)
	if err != nil {
		return usagef("corral proxy: %v", err)
	}
	if err := d.applyProxy(&pcfg); err != nil {
		return usagef("corral proxy: %v", err)
	}
	if err := c.tls.applyServer(&pcfg.Server, rl); err != nil {
		return usagef("corral proxy: %v", err)
	}
	if strings.HasPrefix(p.upstream, "rediss://") && rl != nil {
		// An upstream named by URL is checked against that name too.
		pcfg.UpstreamTLS = rl.ClientConfig(true)
	}
	internal := internalTLS(rl)
	router, err := cf.router(s.partitions, plainListen(c.listen), internal != nil, lg)
	if err != nil {
		return usagef("corral proxy: %v", err)
	}
	roles := []role{}
	if rl != nil {
		roles = append(roles, newReloadRole(rl))
	}
	if router != nil {
		pcfg.Router = router
		pcfg.UpstreamPassword = c.requirepass    // stores and proxies share --requirepass
		pcfg.UpstreamAuth = router.AuthCommand() // or, with --cluster-secret, its token
		pcfg.UpstreamTLS = internal              // stores' TLS ports, when they have them
		roles = append(roles, routerRole{router})
	}
	px, err := proxy.New(pcfg)
	if err != nil {
		return usagef("corral proxy: %v", err)
	}
	lc := &lifecycle{name: "proxy", log: lg}
	if router != nil {
		lc.readyFn = func() bool { return len(router.Nodes()) > 0 }
	}
	return runRoles(ctx, lc, &c, reg, append(roles, px)...)
}

type storeFlags struct {
	partitions       int
	dataDir          string
	snapshotInterval time.Duration
	policy           string
	samples          int
}

// memoryKnobs are the eviction flags of the roles that hold data; the
// limit itself is the common --maxmemory.
func (f *flags) memoryKnobs(s *storeFlags) {
	f.StringVar(&s.policy, "maxmemory-policy", "allkeys-lru", "what a store over --maxmemory evicts: allkeys-lru, allkeys-random, volatile-lru, volatile-random, volatile-ttl, or noeviction (refuse writes with OOM). Redis defaults to noeviction; corral, a cache, to allkeys-lru")
	f.IntVar(&s.samples, "maxmemory-samples", 5, "keys sampled per eviction by the LRU and TTL policies (1-64; more is closer to exact and slower)")
}

// memory applies --maxmemory, --maxmemory-policy and --maxmemory-samples
// to cfg's engine.
func (s *storeFlags) memory(cfg *cluster.Config, maxmemory int64) error {
	pol, err := engine.ParsePolicy(s.policy)
	if err != nil {
		return fmt.Errorf("--maxmemory-policy: %w", err)
	}
	if s.samples < 1 || s.samples > 64 {
		return fmt.Errorf("--maxmemory-samples %d not in [1, 64]", s.samples)
	}
	cfg.Engine.MaxMemory = maxmemory
	cfg.Engine.Policy = pol
	cfg.Engine.EvictionSamples = s.samples
	return nil
}

// dataKnobs are the snapshot flags of the roles that hold data.
func (f *flags) dataKnobs(s *storeFlags) {
	f.StringVar(&s.dataDir, "data-dir", "", "`directory` for the snapshot that makes restarts warm: loaded before serving, written periodically and at shutdown (empty: no snapshots)")
	f.DurationVar(&s.snapshotInterval, "snapshot-interval", time.Minute, "how often the snapshot in --data-dir is written")
}

func (f *flags) storeKnobs(s *storeFlags) {
	f.IntVar(&s.partitions, "partitions", 4096, "number of partitions keys are hashed into (the same on every node)")
}

func (s *storeFlags) config(c *commonFlags, serverCfg server.Config, lg *slog.Logger, reg prometheus.Registerer) cluster.Config {
	cfg := cluster.DefaultConfig()
	cfg.Server = serverCfg
	cfg.Engine.Partitions = s.partitions
	cfg.DataDir = s.dataDir
	cfg.SnapshotInterval = s.snapshotInterval
	cfg.AllowFlush = c.allowFlush
	cfg.Logger = lg
	cfg.Registerer = reg
	return cfg
}

func runStore(ctx context.Context, args []string, getenv func(string) string, stderr io.Writer) error {
	var c commonFlags
	var s storeFlags
	f := newFlags("store", "A store node: partitioned in-memory data with TTLs, versions and tombstones.", stderr)
	var d defenseFlags
	var o originFlags
	f.common(&c, ":7379")
	f.storeKnobs(&s)
	f.dataKnobs(&s)
	f.memoryKnobs(&s)
	f.defenses(&d)
	f.originKnobs(&o)
	var cf clusterFlags
	f.clusterKnobs(&cf, true)
	lg, reg, err := setup(f, &c, args, getenv, stderr)
	if err != nil {
		return err
	}
	rl, err := c.tls.load(lg)
	if err != nil {
		return usagef("corral store: %v", err)
	}
	scfg := s.config(&c, c.serverConfig("store"), lg, reg)
	if err := s.memory(&scfg, c.maxmemory); err != nil {
		return usagef("corral store: %v", err)
	}
	if err := c.tls.applyServer(&scfg.Server, rl); err != nil {
		return usagef("corral store: %v", err)
	}
	if err := cf.applyStore(&scfg, c.admin, lg); err != nil {
		return usagef("corral store: %v", err)
	}
	scfg.Cluster.TLS = internalTLS(rl) // peers' TLS ports, when they have them
	org, err := o.applyStore(&scfg, &d)
	if err != nil {
		return usagef("corral store: %v", err)
	}
	defer closeOrigin(org)
	st, err := cluster.New(scfg)
	if err != nil {
		return usagef("corral store: %v", err)
	}
	lc := &lifecycle{name: "store", log: lg, status: st.WriteStatus, readyFn: st.Ready, drain: st.Drain}
	if rl != nil {
		return runRoles(ctx, lc, &c, reg, newReloadRole(rl), st)
	}
	return runRoles(ctx, lc, &c, reg, st)
}

func runDev(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	var c commonFlags
	var p proxyFlags
	var s storeFlags
	f := newFlags("dev", "A proxy and an embedded single-node store in one process, for development.", stderr)
	f.common(&c, ":6379")
	f.proxyKnobs(&p, false)
	f.storeKnobs(&s)
	f.dataKnobs(&s)
	f.memoryKnobs(&s)
	var d defenseFlags
	var o originFlags
	f.defenses(&d)
	f.originKnobs(&o)
	lg, reg, err := setup(f, &c, args, getenv, stderr)
	if err != nil {
		return err
	}
	rl, err := c.tls.load(lg)
	if err != nil {
		return usagef("corral dev: %v", err)
	}
	inner := c.serverConfig("store")
	inner.Addr = "127.0.0.1:0"
	inner.RequirePass = ""
	inner.Users = nil
	inner.MaxClients = max(c.maxclients, 10000)
	scfg := s.config(&c, inner, lg, reg)
	if err := s.memory(&scfg, c.maxmemory); err != nil {
		return usagef("corral dev: %v", err)
	}
	org, err := o.applyStore(&scfg, &d)
	if err != nil {
		return usagef("corral dev: %v", err)
	}
	if org != nil && p.upstreamTimeout <= o.cfg.Timeout {
		lg.Warn("--upstream-timeout is not above --origin-timeout: a slow origin makes the proxy count the store as failing and open its breaker",
			"upstream_timeout", p.upstreamTimeout, "origin_timeout", o.cfg.Timeout)
	}
	defer closeOrigin(org)
	st, err := cluster.New(scfg)
	if err != nil {
		return usagef("corral dev: %v", err)
	}
	if err := st.Listen(); err != nil {
		return err
	}
	p.upstream = "redis://" + st.Addr()
	pcfg, err := p.config(&c, lg, reg)
	if err != nil {
		return usagef("corral dev: %v", err)
	}
	if err := d.applyProxy(&pcfg); err != nil {
		return usagef("corral dev: %v", err)
	}
	if err := c.tls.applyServer(&pcfg.Server, rl); err != nil {
		return usagef("corral dev: %v", err)
	}
	px, err := proxy.New(pcfg)
	if err != nil {
		return usagef("corral dev: %v", err)
	}
	if err := px.Listen(); err != nil {
		return err
	}
	if a := px.Addr(); a != "" {
		fmt.Fprintf(stdout, "corral dev %s: proxy on %s, embedded store on %s\nconnect with:  redis-cli -p %s\n", version, a, st.Addr(), port(a))
	}
	if a := px.TLSAddr(); a != "" {
		fmt.Fprintf(stdout, "corral dev %s: proxy TLS on %s\nconnect with:  redis-cli -p %s --tls --cacert CA [--cert CERT --key KEY]\n", version, a, port(a))
	}
	roles := []role{st, px}
	if rl != nil {
		roles = append([]role{newReloadRole(rl)}, roles...)
	}
	return runRoles(ctx, &lifecycle{name: "dev", log: lg}, &c, reg, roles...)
}

// port returns the port of addr.
func port(addr string) string { return addr[strings.LastIndex(addr, ":")+1:] }

// closeOrigin releases the origin's connections at exit.
func closeOrigin(o *origin.Origin) {
	if o != nil {
		o.Close()
	}
}

// redisLogger routes go-redis's own log lines (pool dial failures and the
// like) into slog at debug level; the proxy counts and reports upstream
// errors itself.
type redisLogger struct{ log *slog.Logger }

func (l redisLogger) Printf(ctx context.Context, format string, v ...any) {
	l.log.DebugContext(ctx, fmt.Sprintf(format, v...), "component", "go-redis")
}
