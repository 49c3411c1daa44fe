package bench

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// warmConcurrency bounds the concurrent writes that prefill a run's
// keyspace, and warmReadConcurrency the reads that warm a cold cache
// through the origin.
const (
	warmConcurrency     = 64
	warmReadConcurrency = 16
)

// warm readies the cache: with prefill, MSETs every key; otherwise reads
// every key once (a naive client filling the misses itself), so that the
// measured run starts from a warm cache whose hot keys expire together.
func (r *runner) warm(ctx context.Context, c *redis.Client, prefill bool, fill func(context.Context, redis.Cmdable, string) error) error {
	keys := r.cfg.Workload.Keys
	if !prefill && keys > 10000 {
		return nil // too many to read one by one: the run starts cold
	}
	const batch = 1000
	var wg sync.WaitGroup
	errs := make(chan error, 1)
	conc := warmConcurrency
	if !prefill {
		conc = warmReadConcurrency
	}
	sem := make(chan struct{}, conc)
	step := uint64(1)
	if prefill {
		step = batch
	}
	for first := uint64(0); first < keys; first += step {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			var err error
			if prefill {
				kv := make([]any, 0, 2*batch)
				for k := first; k < min(first+batch, keys); k++ {
					kv = append(kv, r.wl.Key(k), r.wl.Value())
				}
				err = c.MSet(ctx, kv...).Err()
			} else {
				err = warmKey(ctx, c, r.wl.Key(first), fill)
			}
			if err != nil {
				select {
				case errs <- err:
				default:
				}
			}
		})
	}
	wg.Wait()
	select {
	case err := <-errs:
		return err
	default:
		return nil
	}
}

// warmTries bounds the attempts at warming one key: a cold start may be
// shed or hit a breaker, which is the tier protecting its origin.
const warmTries = 8

// warmKey reads key once (filling it on a miss when fill is set),
// retrying failures with a growing pause.
func warmKey(ctx context.Context, c *redis.Client, key string, fill func(context.Context, redis.Cmdable, string) error) error {
	var err error
	for try := range warmTries {
		err = c.Get(ctx, key).Err()
		if errors.Is(err, redis.Nil) {
			err = nil
			if fill != nil {
				err = fill(ctx, c, key)
			}
		}
		if err == nil || ctx.Err() != nil {
			return err
		}
		if sleep(ctx, time.Duration(try+1)*25*time.Millisecond) != nil {
			return err
		}
	}
	return err
}
