package bench

import (
	"context"
	"time"
)

// outageTimer switches the origin off and on during a run.
type outageTimer struct {
	start func(time.Time)
	stop  func()
}

func (r *runner) outage(ctx context.Context, e *env, spec runSpec) outageTimer {
	if !spec.outage {
		return outageTimer{start: func(time.Time) {}, stop: func() {}}
	}
	set := func(down bool) {
		if e.sim != nil {
			e.sim.SetDown(down)
			return
		}
		action := "recover"
		if down {
			action = "fail"
		}
		if err := postOrigin(ctx, r.hc, r.cfg.OriginStats, action); err != nil && r.cfg.Logger != nil {
			r.cfg.Logger.Warn("switching the origin", "action", action, "err", err)
		}
	}
	octx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	started := false
	return outageTimer{
		start: func(t0 time.Time) {
			started = true
			go func() {
				defer close(done)
				if sleep(octx, time.Until(t0.Add(r.cfg.OutageStart))) != nil {
					return
				}
				set(true)
				defer set(false)
				_ = sleep(octx, r.cfg.OutageLength)
			}()
		},
		stop: func() {
			cancel()
			if started {
				<-done
			}
		},
	}
}

// sleep waits d on a real timer, or until ctx is done.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(max(d, 0))
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
