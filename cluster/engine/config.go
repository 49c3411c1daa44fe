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
	// do not sweep in lockstep. It is used only by New. Nil means a source
	// seeded from the time.
	Rand *rand.Rand
	// ExpiryInterval is how often Run calls ExpireTick. Default 100ms.
	ExpiryInterval time.Duration
	// ExpiryBudget is the most records one ExpireTick examines. Default 2000.
	ExpiryBudget int
	// TombstoneTTL is how long a tombstone is kept after its key died
	// (deleted or expired), so that anti-entropy can spread it before it is
	// collected. Default 1h.
	TombstoneTTL time.Duration
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
	return errors.Join(errs...)
}
