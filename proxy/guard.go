package proxy

import (
	"context"
	"errors"
	"fmt"

	"github.com/redis/go-redis/v9"

	"corral/internal/clock"
	"corral/shed"
)

// guard stands in front of every upstream round trip: the rate limits and
// the adaptive admission limiter shed load, and each upstream's breaker
// fails fast while that upstream is failing. L1 hits never pass through it.
type guard struct {
	adm *shed.Admission
}

// newGuard builds the admission shared by every upstream round trip.
func newGuard(cfg Config, name string, clk clock.Clock) (guard, error) {
	acfg := cfg.Admission
	if acfg.Name == "" {
		acfg.Name = name
	}
	if acfg.Clock == nil {
		acfg.Clock = clk
	}
	if acfg.Registerer == nil {
		acfg.Registerer = cfg.Registerer
	}
	adm, err := shed.New(acfg)
	if err != nil {
		return guard{}, fmt.Errorf("proxy: %w", err)
	}
	return guard{adm: adm}, nil
}

// admit asks for a round trip to up on behalf of client. On success, the
// caller must call done with the round trip's error exactly once.
func (g *guard) admit(ctx context.Context, client string, up *upstream) (done func(err error), err error) {
	up.inflight.Add(1) // keeps a retired upstream's pool open (upstreams.sweep)
	ticket, err := g.adm.Admit(ctx, client)
	if err != nil {
		up.inflight.Add(-1)
		return nil, err
	}
	brkDone, err := up.brk.Allow()
	if err != nil {
		ticket.Release(shed.Ignored)
		up.inflight.Add(-1)
		return nil, err
	}
	return func(err error) {
		defer up.inflight.Add(-1)
		if isReply(err) {
			err = nil // the upstream answered: not a failure of the target
		}
		brkDone(err)
		ticket.Release(shed.OutcomeOf(err))
	}, nil
}

// isReply reports whether err is an error reply from the upstream (or a
// nil reply), as opposed to a failed round trip.
func isReply(err error) bool {
	var rerr redis.Error
	return errors.Is(err, redis.Nil) || errors.As(err, &rerr)
}

// staleReason names why a read was answered stale, for
// corral_stale_served_total.
func staleReason(err error) string {
	switch {
	case errors.Is(err, shed.ErrOverloaded), errors.Is(err, shed.ErrRateLimited):
		return "shed"
	case errors.Is(err, shed.ErrOpen):
		return "breaker"
	default:
		return "error"
	}
}
