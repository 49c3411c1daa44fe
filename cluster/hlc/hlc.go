// Package hlc implements a hybrid logical clock: timestamps that follow the
// wall clock in milliseconds but never go backwards and always move past any
// timestamp the node has seen from a peer. The store tier stamps every write
// with one, so last-writer-wins replication orders writes the way they
// happened even across nodes whose clocks disagree a little.
package hlc

import (
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"corral/internal/clock"
)

// logicalBits is how many low bits of a Timestamp hold the logical counter.
const logicalBits = 16

// MaxDrift is how far ahead of the local wall clock a remote timestamp may
// be before Update clamps it.
const MaxDrift = 5 * time.Second

// warnEvery is the minimum wall time between two clamp warnings.
const warnEvery = time.Second

// Timestamp is a hybrid logical clock reading: the wall clock in unix
// milliseconds in the high 48 bits and a logical counter in the low 16.
// Timestamps compare with <; the zero Timestamp means "none" and is older
// than every reading.
type Timestamp uint64

// FromWall returns the Timestamp for wall time ms (unix milliseconds) and
// logical counter n.
func FromWall(ms int64, n uint16) Timestamp {
	if ms < 0 {
		ms = 0
	}
	return Timestamp(uint64(ms)<<logicalBits | uint64(n))
}

// WallMs returns the wall-clock part of t in unix milliseconds.
func (t Timestamp) WallMs() int64 { return int64(t >> logicalBits) }

// Logical returns the logical counter of t.
func (t Timestamp) Logical() uint16 { return uint16(t) }

// String formats t as "<wall ms>.<logical>", e.g. "1700000000000.3".
func (t Timestamp) String() string {
	return fmt.Sprintf("%d.%d", t.WallMs(), t.Logical())
}

// Clock issues Timestamps. It is safe for concurrent use and lock-free.
type Clock struct {
	wall     clock.Clock
	logger   *slog.Logger
	last     atomic.Uint64 // the greatest Timestamp issued so far
	lastWarn atomic.Int64  // wall ms of the last clamp warning
	clamped  atomic.Uint64 // remote timestamps clamped since New
}

// New returns a Clock reading wall time from c (nil means clock.Real).
// A nil logger discards the clamp warnings.
func New(c clock.Clock, logger *slog.Logger) *Clock {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Clock{wall: clock.Or(c), logger: logger.With("component", "hlc")}
}

// wallTs returns the current wall clock as a Timestamp with counter 0.
func (h *Clock) wallTs() Timestamp { return FromWall(h.wall.Now().UnixMilli(), 0) }

// Now returns a Timestamp for a local event: max(previous+1, wall<<16). It is
// greater than every Timestamp this Clock returned or received before, even
// when the wall clock steps backwards.
func (h *Clock) Now() Timestamp {
	w := uint64(h.wallTs())
	for {
		prev := h.last.Load()
		next := max(prev+1, w)
		if h.last.CompareAndSwap(prev, next) {
			return Timestamp(next)
		}
	}
}

// Update records remote, a Timestamp received from a peer, and returns a new
// local Timestamp greater than both remote and everything issued before:
// max(local, remote)+1, and never below the wall clock. A remote more than
// MaxDrift ahead of the local wall clock is clamped to wall+MaxDrift, with a
// warning logged at most once a second, so that one peer with a broken clock
// cannot drag every node into its future.
func (h *Clock) Update(remote Timestamp) Timestamp {
	now := h.wall.Now().UnixMilli()
	w := uint64(FromWall(now, 0))
	limit := FromWall(now+MaxDrift.Milliseconds(), 0)
	if remote > limit {
		h.clamped.Add(1)
		h.warnClamp(now, remote, limit)
		remote = limit
	}
	for {
		prev := h.last.Load()
		next := max(prev+1, uint64(remote)+1, w)
		if h.last.CompareAndSwap(prev, next) {
			return Timestamp(next)
		}
	}
}

// Clamped reports how many remote Timestamps Update has clamped since New.
func (h *Clock) Clamped() uint64 { return h.clamped.Load() }

// warnClamp logs a clamp unless one was logged within warnEvery.
func (h *Clock) warnClamp(nowMs int64, remote, limit Timestamp) {
	prev := h.lastWarn.Load()
	if prev != 0 && nowMs-prev < warnEvery.Milliseconds() && nowMs >= prev {
		return
	}
	if !h.lastWarn.CompareAndSwap(prev, nowMs) {
		return
	}
	h.logger.Warn("remote clock too far ahead, clamping",
		"remote", remote.String(),
		"ahead_ms", remote.WallMs()-nowMs,
		"clamped_to", limit.String(),
		"max_drift", MaxDrift)
}
