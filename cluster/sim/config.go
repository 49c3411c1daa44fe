package sim

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"corral/cluster/repl"
)

// KillPolicy decides when the schedule may kill a store node.
type KillPolicy uint8

const (
	// KillWhenReplicated, the default, is the operational rule: a node may
	// be killed only while fewer than Replicas-1 nodes are down and the
	// cluster is fully replicated, which the simulation checks from the
	// engines directly (every owner in the placement is up and holds the
	// latest acknowledged write of every key, or a later one).
	KillWhenReplicated KillPolicy = iota
	// KillWhenGaugeZero replaces the oracle by what an operator sees: the
	// underreplicated partitions reported by repl.Status, summed over the
	// live nodes, must be 0 (and fewer than Replicas-1 nodes down).
	KillWhenGaugeZero
	// KillAnytime kills while fewer than Replicas nodes are down, whatever
	// the replication state: it breaks the rule on purpose.
	KillAnytime
)

func (k KillPolicy) String() string {
	switch k {
	case KillWhenGaugeZero:
		return "gauge"
	case KillAnytime:
		return "anytime"
	}
	return "replicated"
}

// Sabotage breaks the system on purpose, so that tests can show the
// checker catches what it claims to catch. The zero value breaks nothing.
type Sabotage uint8

const (
	// BlindApply makes every replicated record overwrite the receiver's
	// copy with a fresh version, as a Merge that ignored versions would.
	BlindApply Sabotage = 1 << iota
	// NoAntiEntropy skips every anti-entropy round (and so handoff).
	NoAntiEntropy
	// DropTombstones loses tombstones carried by Apply (replication,
	// hints, anti-entropy pushes).
	DropTombstones
)

// Config describes one simulated run. ConfigFor draws a varied one from a
// seed; every field can be changed before Run.
type Config struct {
	// Seed drives every decision of the run.
	Seed uint64
	// Steps is the number of steps of the fault phase.
	Steps int
	// Nodes is the number of store nodes, named n0, n1, ...
	Nodes int
	// Replicas is the replication factor RF.
	Replicas int
	// Partitions is the partition count P.
	Partitions int
	// Keys is the size of the key space clients write to.
	Keys int
	// Acks is the write ack mode: AckAll or AckQuorum. AckOne replicates on
	// goroutines, whose order a deterministic simulation cannot fix.
	Acks repl.AckMode
	// HintsPerPeer, HintBatch and AERate are passed to repl.Config
	// (AERate 0: no bound).
	HintsPerPeer, HintBatch, AERate int
	// TombstoneTTL is the engines' tombstone grace period in simulated
	// time. A warm restart (with the node's data) happens only after less
	// than half of it down, and a late message older than half of it is
	// lost, so that anti-entropy has the other half to spread deletes.
	TombstoneTTL time.Duration
	// MaxConvergeRounds bounds the rounds (every live node flushes its
	// hints and runs anti-entropy once) after the heal.
	MaxConvergeRounds int
	// KillPolicy decides when a node may be killed.
	KillPolicy KillPolicy
	// Sabotage breaks things on purpose (tests of the checker only).
	Sabotage Sabotage
	// FullTrace keeps every event in Result.Trace, not only the last ones.
	FullTrace bool
}

// ConfigFor returns the configuration of seed: the cluster's shape (3 to 5
// nodes, RF 2 or 3, 16 to 64 partitions, ack mode, hint and repair limits)
// is drawn from the seed, so that many seeds cover many shapes.
func ConfigFor(seed uint64, steps int) Config {
	r := rand.New(rand.NewPCG(seed, streamConfig))
	c := Config{
		Seed:              seed,
		Steps:             steps,
		Nodes:             3 + r.IntN(3),
		Replicas:          2,
		Partitions:        []int{16, 32, 64}[r.IntN(3)],
		Keys:              []int{48, 96, 160}[r.IntN(3)],
		Acks:              repl.AckAll,
		HintsPerPeer:      100_000,
		HintBatch:         512,
		TombstoneTTL:      30 * time.Second,
		MaxConvergeRounds: 4,
	}
	if c.Nodes >= 4 && r.IntN(10) < 3 {
		c.Replicas = 3
	}
	if r.IntN(4) == 0 {
		c.Acks = repl.AckQuorum
	}
	if r.IntN(5) == 0 {
		c.HintsPerPeer = 6 // overflowing queues leave the rest to anti-entropy
	}
	if r.IntN(4) == 0 {
		c.HintBatch = 3
	}
	if r.IntN(5) == 0 {
		// A tight repair budget: rounds defer work to later rounds.
		c.AERate = 20
		c.MaxConvergeRounds = 4 + c.Keys*c.Replicas/c.AERate
	}
	return c
}

// Validate reports every problem with c at once.
func (c Config) Validate() error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf("sim: "+format, args...)) }
	if c.Steps < 0 {
		bad("Steps %d must not be negative", c.Steps)
	}
	if c.Replicas < 1 {
		bad("Replicas %d must be at least 1", c.Replicas)
	}
	if c.Nodes < c.Replicas+1 || c.Nodes > 16 {
		bad("Nodes %d not in [Replicas+1, 16]", c.Nodes)
	}
	if c.Partitions < 1 || c.Partitions > 4096 {
		bad("Partitions %d not in [1, 4096]", c.Partitions)
	}
	if c.Keys < 1 || c.Keys > 100_000 {
		bad("Keys %d not in [1, 100000]", c.Keys)
	}
	if c.Acks != repl.AckAll && c.Acks != repl.AckQuorum {
		bad("Acks %v: only all and quorum replicate synchronously", c.Acks)
	}
	if c.HintsPerPeer < 0 || c.HintBatch < 1 || c.AERate < 0 {
		bad("HintsPerPeer %d, HintBatch %d, AERate %d out of range", c.HintsPerPeer, c.HintBatch, c.AERate)
	}
	if c.TombstoneTTL < time.Second {
		bad("TombstoneTTL %v must be at least 1s", c.TombstoneTTL)
	}
	if c.MaxConvergeRounds < 1 {
		bad("MaxConvergeRounds %d must be at least 1", c.MaxConvergeRounds)
	}
	if c.KillPolicy > KillAnytime {
		bad("unknown KillPolicy %d", c.KillPolicy)
	}
	return errors.Join(errs...)
}

// String summarises the shape of the run, for failure messages.
func (c Config) String() string {
	s := fmt.Sprintf("seed %d: %d steps, %d nodes, RF %d, %d partitions, %d keys, acks %v, hints %d/%d, ae-rate %d, kill %v",
		c.Seed, c.Steps, c.Nodes, c.Replicas, c.Partitions, c.Keys, c.Acks, c.HintsPerPeer, c.HintBatch, c.AERate, c.KillPolicy)
	if c.Sabotage != 0 {
		s += fmt.Sprintf(", sabotage %#x", uint8(c.Sabotage))
	}
	return s
}

// Random streams derived from the seed: each concern draws from its own,
// so that a change in one (say, one more drop decision) does not reshuffle
// the others.
const (
	streamConfig   = 1
	streamSchedule = 2
	streamNet      = 3
	streamEngines  = 4
)
