package cluster

import (
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"corral/cluster/engine"
	"corral/internal/clock"
	"corral/internal/server"
	"corral/shed"
	"corral/xfetch"
)

// Config configures a store node.
type Config struct {
	// Server configures the RESP server. Its Clock, Logger and Registerer
	// default to the store's.
	Server server.Config
	// Engine configures the storage engine (partitions, expiry, tombstones).
	// Its Clock and Logger default to the store's.
	Engine engine.Config
	// Origin is the read-through origin: a GET or MGET of a key the store
	// does not hold loads it from there, one load per key at a time.
	// Nil (the default) disables read-through.
	Origin Loader
	// OriginName names the origin in errors, logs and metric labels; it
	// must carry no secret. Default "origin".
	OriginName string
	// Defenses are the stampede defenses of read-through: XFetch's beta
	// for early refreshes, the jitter of the TTLs the store chooses, and
	// the stale-while-revalidate and stale-if-error windows.
	Defenses xfetch.Config
	// NoCollapse switches collapsing of origin loads off: every miss loads
	// on its own. Only for showing what collapsing buys (corral bench
	// ablation); never in production.
	NoCollapse bool
	// JitterClientTTL spreads TTLs that clients give (SET EX, EXPIRE, ...)
	// by Defenses.Jitter too. Default false: they stay exact.
	JitterClientTTL bool
	// Rand draws the random numbers of XFetch, jitter and retry backoff;
	// nil means math/rand/v2's. It must be safe for concurrent use.
	Rand xfetch.Rand
	// Admission sheds origin loads: an adaptive concurrency limit with a
	// bounded queue wait and optional rate limits. Its Name defaults to
	// OriginName, its Clock and Registerer to the store's.
	Admission shed.Config
	// Breaker guards the origin: while it is open, reads are served stale
	// or fail fast. Its Target defaults to OriginName, its Clock, Logger
	// and Registerer to the store's.
	Breaker shed.BreakerConfig
	// LoadedMaxBytes bounds the memory of what read-through remembers
	// beside the engine: stale copies and negative entries. Default 64mb.
	LoadedMaxBytes int64
	// DataDir, when set, holds the store's snapshot (corral.snap): loaded
	// on start, before the store serves, and written every
	// SnapshotInterval and on a graceful shutdown, so a restart does not
	// empty the cache. A corrupt or truncated snapshot is reported and set
	// aside (the node refills from its replicas); one older than the
	// tombstone TTL is skipped, since deletes it missed are forgotten.
	DataDir string
	// SnapshotInterval is how often the snapshot is written. Default 1m.
	SnapshotInterval time.Duration
	// Cluster makes the store a node of a cluster; nil (the default) runs
	// it alone, serving every key itself.
	Cluster *ClusterConfig
	// AllowFlush accepts FLUSHALL and FLUSHDB. Default false: they are
	// refused with an error naming the flag.
	AllowFlush bool
	// Clock tells the time; nil means the system clock.
	Clock clock.Clock
	// Logger receives logs; nil discards them.
	Logger *slog.Logger
	// Registerer receives metrics; nil registers nothing.
	Registerer prometheus.Registerer
}

// DefaultConfig returns the defaults: the RESP server on :7379.
func DefaultConfig() Config {
	scfg := server.DefaultConfig()
	scfg.Addr = ":7379"
	scfg.Role = "store"
	return Config{
		Server:           scfg,
		Engine:           engine.DefaultConfig(),
		Defenses:         xfetch.DefaultConfig(),
		Admission:        shed.DefaultConfig(),
		Breaker:          shed.DefaultBreakerConfig(),
		LoadedMaxBytes:   64 << 20,
		SnapshotInterval: time.Minute,
	}
}

// Validate reports every problem with the configuration at once.
func (c Config) Validate() error {
	scfg := c.Server
	errs := []error{scfg.Validate(), c.Engine.Validate(), c.Defenses.Validate(), c.Admission.Validate(), c.Breaker.Validate()}
	if cc := c.Cluster; cc != nil {
		errs = append(errs, cc.Repl.Validate())
		if cc.Membership.NodeID == "" {
			errs = append(errs, errors.New("cluster: --node-id is empty"))
		}
	}
	if c.DataDir != "" && c.SnapshotInterval <= 0 {
		errs = append(errs, fmt.Errorf("cluster: --snapshot-interval %v must be positive", c.SnapshotInterval))
	}
	if c.Origin != nil && c.LoadedMaxBytes < 1<<20 {
		errs = append(errs, fmt.Errorf("cluster: --stale-max-bytes %d must be at least 1mb", c.LoadedMaxBytes))
	}
	return errors.Join(errs...)
}
