package engine

import (
	"context"
	"time"
)

// lockChunk is the most heap entries ExpireTick handles per lock
// acquisition, bounding how long it holds a partition's lock.
const lockChunk = 256

// Run expires records every Config.ExpiryInterval until ctx is done, then
// returns nil. Each tick calls ExpireTick with the time read from
// Config.Clock.
func (e *Engine) Run(ctx context.Context) error {
	t := time.NewTicker(e.cfg.ExpiryInterval)
	defer t.Stop()
	e.logger.Debug("expiry loop started", "interval", e.cfg.ExpiryInterval, "budget", e.cfg.ExpiryBudget)
	for {
		select {
		case <-ctx.Done():
			e.logger.Debug("expiry loop stopped")
			return nil
		case <-t.C:
			e.ExpireTick(e.clock.Now().UnixMilli())
		}
	}
}

// ExpireTick does one bounded round of active expiry at nowMs: live records
// whose deadline has passed become tombstones (their values are released)
// and tombstones older than TombstoneTTL are removed. It examines at most
// Config.ExpiryBudget records, all of them due except at most one per
// partition visited, skips partitions with nothing due without locking them,
// and resumes round-robin where the previous tick ran out of budget. It
// returns the number of records examined.
func (e *Engine) ExpireTick(nowMs int64) int {
	e.tickMu.Lock()
	defer e.tickMu.Unlock()
	budget := e.cfg.ExpiryBudget
	examined := 0
	n := len(e.parts)
	for i := 0; i < n && examined < budget; i++ {
		pi := (e.sweep + i) % n
		p := &e.parts[pi]
		for examined < budget && p.minDeadline.Load() <= nowMs {
			p.mu.Lock()
			examined += p.expireDueLocked(nowMs, min(budget-examined, lockChunk))
			p.mu.Unlock()
		}
		if examined >= budget {
			// Start the next tick here: this partition may still have due
			// records.
			e.sweep = pi
			return examined
		}
	}
	return examined
}
