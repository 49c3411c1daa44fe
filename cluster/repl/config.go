package repl

import (
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"corral/cluster/engine"
	"corral/cluster/placement"
	"corral/internal/clock"
	"corral/xfetch"
)

// AckMode is how many owners must have applied a write before it is
// acknowledged (--write-acks).
type AckMode uint8

const (
	// AckAll waits for every owner that can be reached, at least one: the
	// default. Owners that cannot be reached get the write later.
	AckAll AckMode = iota
	// AckQuorum waits for a majority of the replication factor.
	AckQuorum
	// AckOne acknowledges once the receiving owner applied the write and
	// replicates in the background.
	AckOne
)

// ParseAckMode parses "all", "quorum" or "one".
func ParseAckMode(s string) (AckMode, error) {
	switch strings.ToLower(s) {
	case "all":
		return AckAll, nil
	case "quorum":
		return AckQuorum, nil
	case "one":
		return AckOne, nil
	}
	return 0, fmt.Errorf("repl: --write-acks %q: want one, quorum or all", s)
}

func (m AckMode) String() string {
	switch m {
	case AckQuorum:
		return "quorum"
	case AckOne:
		return "one"
	}
	return "all"
}

// Config configures a Replicator.
type Config struct {
	// Self is this node's ID.
	Self string
	// Engine is this node's storage engine.
	Engine *engine.Engine
	// Transport reaches the peers.
	Transport Transport
	// Table returns the current placement over the active store nodes.
	Table func() *placement.Table
	// Replicas is the configured replication factor: a partition with
	// fewer owners than this counts as underreplicated. Default 2.
	Replicas int
	// Acks is how many owners a write waits for. Default AckAll.
	Acks AckMode
	// Timeout bounds one call to a peer. Default 1s.
	Timeout time.Duration
	// HintsPerPeer bounds the keys queued for one unreachable peer; past
	// it, hints are dropped and anti-entropy repairs instead. Default 100000.
	HintsPerPeer int
	// HintBatch is how many hinted keys go to a peer in one call. Default 512.
	HintBatch int
	// AEInterval is the anti-entropy period (--ae-interval); each round
	// starts after the interval plus up to a fifth of it of jitter.
	// Default 1s.
	AEInterval time.Duration
	// AEBatch is how many partition roots one call compares. Default 1024.
	AEBatch int
	// AERate bounds the records anti-entropy exchanges per second, so that
	// repair never starves client traffic; 0 means no bound. Default 50000.
	AERate int
	// Serial makes calls to several peers one after another instead of in
	// parallel, so a simulation runs deterministically.
	Serial bool
	// Clock tells the time; nil means the system clock.
	Clock clock.Clock
	// Rand chooses the jitter of rounds; nil means math/rand/v2's.
	Rand xfetch.Rand
	// Logger receives logs; nil discards them.
	Logger *slog.Logger
	// Registerer receives metrics; nil registers nothing.
	Registerer prometheus.Registerer
}

// DefaultConfig returns the defaults; Self, Engine, Transport and Table
// must be set.
func DefaultConfig() Config {
	return Config{
		Replicas:     2,
		Timeout:      time.Second,
		HintsPerPeer: 100_000,
		HintBatch:    512,
		AEInterval:   time.Second,
		AEBatch:      1024,
		AERate:       50_000,
	}
}

// Validate reports every problem with the knobs at once; New also checks
// that Self, Engine, Transport and Table are set.
func (c Config) Validate() error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf("repl: "+format, args...)) }
	if c.Replicas < 1 {
		bad("--replicas %d must be at least 1", c.Replicas)
	}
	if c.Acks > AckOne {
		bad("unknown ack mode %d", c.Acks)
	}
	if c.Timeout <= 0 {
		bad("Timeout %v must be positive", c.Timeout)
	}
	if c.HintsPerPeer < 0 || c.HintBatch < 1 {
		bad("HintsPerPeer %d must not be negative and HintBatch %d at least 1", c.HintsPerPeer, c.HintBatch)
	}
	if c.AEInterval <= 0 {
		bad("--ae-interval %v must be positive", c.AEInterval)
	}
	if c.AEBatch < 1 {
		bad("AEBatch %d must be at least 1", c.AEBatch)
	}
	if c.AERate < 0 {
		bad("AERate %d must not be negative", c.AERate)
	}
	return errors.Join(errs...)
}
