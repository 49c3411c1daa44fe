package proxy

import (
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"

	"corral/internal/clock"
	"corral/internal/server"
	"corral/shed"
	"corral/xfetch"
)

// Config configures a Proxy.
type Config struct {
	// Server configures the client-facing RESP server. Its Clock, Logger and
	// Registerer default to the proxy's.
	Server server.Config
	// Upstream is the RESP server behind the proxy, "redis://host:port[/db]":
	// a corral store or any Redis. Exactly one of Upstream and Router is
	// required.
	Upstream string
	// UpstreamPassword authenticates the proxy to store nodes reached
	// through Router (with --upstream, the URL carries the password).
	UpstreamPassword string
	// UpstreamAuth, when set, is the command the proxy sends on every new
	// connection to a store node reached through Router instead of a
	// password (cluster.Router.AuthCommand: the cluster secret's token).
	UpstreamAuth []any
	// UpstreamTLS is the client TLS configuration of upstreams reached over
	// TLS: an Upstream "rediss://host:port" (its ServerName is set to the
	// URL's host), and the store nodes Router names "rediss://host:port".
	// Nil leaves a rediss:// Upstream to go-redis's defaults (system roots,
	// no client certificate) and refuses routed TLS nodes.
	UpstreamTLS *tls.Config
	// Router routes commands to a store cluster: each key to its primary
	// owner (the next owner when the primary fails), keyless commands to
	// any store node.
	Router Router
	// L1MaxAge bounds how long the proxy serves a value from its in-process
	// cache without asking the upstream; an entry also never outlives the
	// upstream TTL it was read with. Default 1s; 0 disables the L1.
	L1MaxAge time.Duration
	// L1MaxBytes bounds the L1's size: keys, values and per-entry overhead.
	// Default 128mb.
	L1MaxBytes int64
	// UpstreamTimeout bounds one upstream command, including waiting for a
	// pooled connection. Default 3s, above a store's default origin timeout
	// (2s): a proxy that gives up first takes a store waiting on a slow
	// origin for a failing one.
	UpstreamTimeout time.Duration
	// UpstreamPoolSize is the number of pooled connections to the upstream.
	// Default 64.
	UpstreamPoolSize int
	// Defenses are the stampede defenses: XFetch's beta for early
	// refreshes of L1 entries, the TTL jitter of L1 lifetimes and
	// stale-if-error, which serves an expired L1 entry while the upstream
	// fails. (Stale-while-revalidate applies at the store: serving an L1
	// entry past its lifetime would break the --l1-max-age bound on how
	// stale a value another proxy wrote can be.)
	Defenses xfetch.Config
	// NoCollapse switches request collapsing off: every L1 miss makes its
	// own upstream read. Only for showing what collapsing buys (corral
	// bench ablation); never in production.
	NoCollapse bool
	// Rand draws the random numbers of XFetch and jitter; nil means
	// math/rand/v2's. It must be safe for concurrent use.
	Rand xfetch.Rand
	// Admission sheds upstream round trips: an adaptive concurrency limit
	// with a bounded queue wait and optional rate limits. L1 hits never go
	// through it. Its Name defaults to "upstream", its Clock and
	// Registerer to the proxy's.
	Admission shed.Config
	// Breaker guards the upstream: while it is open, reads fail fast or
	// are served stale. Its Target defaults to "upstream <addr>", its
	// Clock, Logger and Registerer to the proxy's.
	Breaker shed.BreakerConfig
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

// DefaultConfig returns the defaults.
func DefaultConfig() Config {
	return Config{
		Server:           server.DefaultConfig(),
		L1MaxAge:         time.Second,
		L1MaxBytes:       128 << 20,
		UpstreamTimeout:  3 * time.Second,
		UpstreamPoolSize: 64,
		Defenses:         xfetch.DefaultConfig(),
		Admission:        shed.DefaultConfig(),
		Breaker:          shed.DefaultBreakerConfig(),
	}
}

// Validate reports every problem with the configuration at once.
func (c Config) Validate() error {
	var errs []error
	switch {
	case c.Upstream == "" && c.Router == nil:
		errs = append(errs, errors.New("proxy: no upstream: set --upstream redis://host:port or --seeds of a store cluster"))
	case c.Upstream != "" && c.Router != nil:
		errs = append(errs, errors.New("proxy: --upstream and --seeds are exclusive: one upstream, or a cluster"))
	case c.Router != nil:
	default:
		if _, err := redis.ParseURL(c.Upstream); err != nil {
			errs = append(errs, fmt.Errorf("proxy: upstream %q: %w", c.Upstream, err))
		}
	}
	if c.L1MaxAge < 0 {
		errs = append(errs, fmt.Errorf("proxy: l1-max-age %v must not be negative", c.L1MaxAge))
	}
	if c.L1MaxAge > 0 && c.L1MaxBytes < 1<<20 {
		errs = append(errs, fmt.Errorf("proxy: l1-max-bytes %d must be at least 1mb", c.L1MaxBytes))
	}
	if c.UpstreamTimeout <= 0 {
		errs = append(errs, fmt.Errorf("proxy: upstream timeout %v must be positive", c.UpstreamTimeout))
	}
	if c.UpstreamPoolSize < 1 {
		errs = append(errs, fmt.Errorf("proxy: upstream pool size %d must be at least 1", c.UpstreamPoolSize))
	}
	errs = append(errs, c.Defenses.Validate(), c.Admission.Validate(), c.Breaker.Validate())
	return errors.Join(errs...)
}
