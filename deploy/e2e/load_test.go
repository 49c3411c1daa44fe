//go:build e2e

package e2e

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
)

// newClient connects to a proxy as an application would: AUTH with the
// Secret's requirepass, no retries of its own (the load retries once).
func newClient(p *pod, password string, poolSize int) *redis.Client {
	return redis.NewClient(&redis.Options{
		Addr:         fmt.Sprintf("%s:%d", p.ip, port(p.c, "resp")),
		Password:     password,
		MaxRetries:   -1,
		DialTimeout:  2 * time.Second,
		ReadTimeout:  3 * time.Second,
		WriteTimeout: 3 * time.Second,
		PoolSize:     poolSize,
	})
}

// retryPause is how long a client waits before its one retry.
const retryPause = 100 * time.Millisecond

// once runs op, and once more after retryPause if it failed. It returns
// the first attempt's error and the final one.
func once(ctx context.Context, op func() error) (first, final error) {
	first = op()
	if first == nil {
		return nil, nil
	}
	select {
	case <-ctx.Done():
		return first, ctx.Err()
	case <-time.After(retryPause):
	}
	return first, op()
}

// ledger holds every write a proxy acknowledged: key → value. Keys are
// written once, so an acknowledged value is the only right answer.
type ledger struct {
	mu    sync.Mutex // guards acked
	acked map[string]string
}

func (l *ledger) ack(k, v string) {
	l.mu.Lock()
	l.acked[k] = v
	l.mu.Unlock()
}

func (l *ledger) len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.acked)
}

// verify reads every acknowledged key back, alternating the proxies, in
// MGET batches, and reports those missing or different.
func (l *ledger) verify(ctx context.Context, clients []*redis.Client) error {
	l.mu.Lock()
	keys := make([]string, 0, len(l.acked))
	for k := range l.acked {
		keys = append(keys, k)
	}
	want := maps.Clone(l.acked)
	l.mu.Unlock()
	slices.Sort(keys)
	var lost []string
	for i := 0; i < len(keys); i += 500 {
		batch := keys[i:min(i+500, len(keys))]
		c := clients[(i/500)%len(clients)]
		var vals []any
		_, err := once(ctx, func() error {
			var err error
			vals, err = c.MGet(ctx, batch...).Result()
			return err
		})
		if err != nil {
			return fmt.Errorf("verify: MGET of %d keys: %w", len(batch), err)
		}
		for j, k := range batch {
			if s, _ := vals[j].(string); s != want[k] {
				lost = append(lost, fmt.Sprintf("%s = %.40q, want %q", k, vals[j], want[k]))
			}
		}
	}
	if len(lost) > 0 {
		return fmt.Errorf("%d of %d acknowledged writes lost or wrong, e.g. %s", len(lost), len(keys), strings.Join(lost[:min(5, len(lost))], "; "))
	}
	return nil
}

// counts are what the steady load saw; fields are updated atomically.
type counts struct {
	ops          atomic.Int64 // write-then-read pairs completed or failed
	retried      atomic.Int64 // operations whose first attempt failed
	clientErrors atomic.Int64 // operations that failed on the retry too
	staleReads   atomic.Int64 // a read through the other proxy right after an acknowledged write missed it
}

// snapshot is a copy of counts at one moment.
type snapshot struct{ ops, retried, clientErrors, staleReads int64 }

func (c *counts) snapshot() snapshot {
	return snapshot{c.ops.Load(), c.retried.Load(), c.clientErrors.Load(), c.staleReads.Load()}
}

func (s snapshot) sub(o snapshot) snapshot {
	return snapshot{s.ops - o.ops, s.retried - o.retried, s.clientErrors - o.clientErrors, s.staleReads - o.staleReads}
}

// steady is a steady write-then-read load through both proxies, the way a
// cache's clients use it: each worker SETs a new key through one proxy
// and GETs it through the other, retrying a failed command once.
type steady struct {
	led    *ledger
	counts counts
	errMu  sync.Mutex // guards errs
	errs   []string   // the first 200 failures
	stale  []string   // the first 20 reads that missed a fresh write
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

func startSteady(ctx context.Context, led *ledger, clients []*redis.Client, workers int, pause time.Duration, prefix string) *steady {
	ctx, cancel := context.WithCancel(ctx)
	s := &steady{led: led, cancel: cancel}
	for w := range workers {
		s.wg.Go(func() {
			for n := 0; ctx.Err() == nil; n++ {
				s.step(ctx, clients[w%len(clients)], clients[(w+1)%len(clients)], fmt.Sprintf("%s:%d:%d", prefix, w, n))
				select {
				case <-ctx.Done():
				case <-time.After(pause):
				}
			}
		})
	}
	return s
}

func (s *steady) step(ctx context.Context, writer, reader *redis.Client, key string) {
	val := fmt.Sprintf("v:%s:%d", key, time.Now().UnixNano())
	first, err := once(ctx, func() error { return writer.Set(ctx, key, val, 0).Err() })
	if ctx.Err() != nil {
		return // stopping: neither counted nor acknowledged
	}
	s.counts.ops.Add(1)
	if first != nil {
		s.counts.retried.Add(1)
	}
	if err != nil {
		s.fail("SET", key, err)
		return
	}
	s.led.ack(key, val)
	var got string
	first, err = once(ctx, func() error {
		var err error
		got, err = reader.Get(ctx, key).Result()
		if errors.Is(err, redis.Nil) {
			got, err = "", nil
		}
		return err
	})
	if ctx.Err() != nil {
		return
	}
	if first != nil {
		s.counts.retried.Add(1)
	}
	switch {
	case err != nil:
		s.fail("GET", key, err)
	case got != val:
		s.counts.staleReads.Add(1)
		s.errMu.Lock()
		if len(s.stale) < 20 {
			s.stale = append(s.stale, fmt.Sprintf("GET %s = %.40q right after SET %q (%s)", key, got, val, time.Now().Format("15:04:05.000")))
		}
		s.errMu.Unlock()
	}
}

func (s *steady) fail(cmd, key string, err error) {
	s.counts.clientErrors.Add(1)
	s.errMu.Lock()
	if len(s.errs) < 200 {
		s.errs = append(s.errs, fmt.Sprintf("%s %s: %v (%s)", cmd, key, err, time.Now().Format("15:04:05.000")))
	}
	s.errMu.Unlock()
}

// errorsSince returns the failures recorded after the first n, at most
// three of them.
func (s *steady) errorsSince(n int64) []string {
	s.errMu.Lock()
	defer s.errMu.Unlock()
	if int(n) >= len(s.errs) {
		return nil
	}
	return slices.Clone(s.errs[n:min(int(n)+3, len(s.errs))])
}

// staleSamples returns the reads that missed a fresh write, at most 20.
func (s *steady) staleSamples() []string {
	s.errMu.Lock()
	defer s.errMu.Unlock()
	return slices.Clone(s.stale)
}

func (s *steady) stop() {
	s.cancel()
	s.wg.Wait()
}
