package engine

import (
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"time"

	"corral/cluster/hlc"
	"corral/internal/clock"
)

// MaxPartitions is the largest accepted Config.Partitions.
const MaxPartitions = 1 << 20

// Config configures an Engine. Build one with DefaultConfig and adjust it.
type Config struct {
	// Partitions is the number of partitions P; a key lives in partition
	// xxhash64(key) % P. Every node of a cluster must use the same P.
	// Default 4096, at most MaxPartitions.
	Partitions int
	// Clock is read by background work (Run, Merge). Nil means clock.Real.
	Clock clock.Clock
	// HLC stamps versions. Nil means hlc.New(Clock, Logger).
	HLC *hlc.Clock
	// Rand picks the partition where the expiry sweep starts, so that nodes
	// do not sweep in lockstep, and seeds the source eviction samples keys
	// with. It is used only by New. Nil means a source seeded from the time.
	Rand *rand.Rand
	// ExpiryInterval is how often Run calls ExpireTick. Default 100ms.
	ExpiryInterval time.Duration
	// ExpiryBudget is the most records one ExpireTick examines. Default 2000.
	ExpiryBudget int
	// TombstoneTTL is how long a tombstone is kept after its key died
	// (deleted or expired), so that anti-entropy can spread it before it is
	// collected. Default 1h.
	TombstoneTTL time.Duration
	// MaxMemory bounds the accounted bytes of stored data (see
	// Engine.UsedBytes), in bytes: Reclaim evicts by Policy to stay under
	// it. Default 0: no limit.
	MaxMemory int64
	// Policy chooses what Reclaim evicts once UsedBytes exceeds MaxMemory.
	// Default (the zero value) AllKeysLRU.
	Policy Policy
	// EvictionSamples is how many keys Reclaim samples to pick each LRU or
	// TTL victim (Redis's maxmemory-samples). 0 means the default, 5; at
	// most 64.
	EvictionSamples int
	// EvictedTombstoneTTL is how long the tombstone an eviction leaves is
	// kept, so that replication and anti-entropy spread it to the other
	// owners, which drop the key too, before it is collected. Shorter than
	// TombstoneTTL, because a full store evicts keys steadily and their
	// tombstones count toward MaxMemory. 0 means the default: 30s, or
	// TombstoneTTL if that is shorter. At most TombstoneTTL.
	EvictedTombstoneTTL time.Duration
	// Logger receives the engine's logs. Nil discards them.
	Logger *slog.Logger
}

// DefaultConfig returns the default Config.
func DefaultConfig() Config {
	return Config{
		Partitions:     4096,
		ExpiryInterval: 100 * time.Millisecond,
		ExpiryBudget:   2000,
		TombstoneTTL:   time.Hour,

		Policy:              AllKeysLRU,
		EvictionSamples:     5,
		EvictedTombstoneTTL: 30 * time.Second,
	}
}

// ErrInvalidConfig is wrapped by every error Validate returns.
var ErrInvalidConfig = errors.New("engine: invalid config")

// Validate reports every problem with c at once, each wrapping
// ErrInvalidConfig.
func (c Config) Validate() error {
	var errs []error
	bad := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("%w: "+format, append([]any{ErrInvalidConfig}, args...)...))
	}
	if c.Partitions < 1 || c.Partitions > MaxPartitions {
		bad("Partitions %d not in [1, %d]", c.Partitions, MaxPartitions)
	}
	if c.ExpiryInterval <= 0 {
		bad("ExpiryInterval %v must be positive", c.ExpiryInterval)
	}
	if c.ExpiryBudget < 1 {
		bad("ExpiryBudget %d must be at least 1", c.ExpiryBudget)
	}
	if c.TombstoneTTL < time.Millisecond {
		bad("TombstoneTTL %v must be at least 1ms", c.TombstoneTTL)
	}
	if c.MaxMemory < 0 {
		bad("MaxMemory %d must not be negative", c.MaxMemory)
	}
	if c.Policy >= numPolicies {
		bad("Policy %d unknown", c.Policy)
	}
	if c.EvictionSamples < 0 || c.EvictionSamples > 64 {
		bad("EvictionSamples %d not in [0, 64]", c.EvictionSamples)
	}
	if c.EvictedTombstoneTTL < 0 || c.EvictedTombstoneTTL > c.TombstoneTTL {
		bad("EvictedTombstoneTTL %v not in [0, TombstoneTTL %v]", c.EvictedTombstoneTTL, c.TombstoneTTL)
	}
	return errors.Join(errs...)
}
