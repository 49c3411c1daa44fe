package cluster

import (
	"errors"
	"log/slog"

	"github.com/prometheus/client_golang/prometheus"

	"corral/cluster/engine"
	"corral/internal/clock"
	"corral/internal/server"
)

// Config configures a store node.
type Config struct {
	// Server configures the RESP server. Its Clock, Logger and Registerer
	// default to the store's.
	Server server.Config
	// Engine configures the storage engine (partitions, expiry, tombstones).
	// Its Clock and Logger default to the store's.
	Engine engine.Config
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
	return Config{Server: scfg, Engine: engine.DefaultConfig()}
}

// Validate reports every problem with the configuration at once.
func (c Config) Validate() error {
	scfg := c.Server
	return errors.Join(scfg.Validate(), c.Engine.Validate())
}
