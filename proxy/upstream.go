package proxy

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"corral/internal/resp"
	"corral/shed"
)

// upstream is the RESP server behind the proxy, reached through go-redis
// with a connection pool. Commands go out in RESP2; replies are re-encoded
// for each client's protocol.
type upstream struct {
	addr   string
	client *redis.Client
	brk    *shed.Breaker // fails fast while this upstream is failing

	inflight atomic.Int64 // round trips admitted or waiting for admission (guard.admit)
	goneAt   time.Time    // when its address left the Router's view; zero while in it (upstreams.mu)
}

func newUpstream(cfg Config, url string) (*upstream, error) {
	opt, err := redis.ParseURL(url)
	if err != nil {
		return nil, fmt.Errorf("proxy: upstream %q: %w", url, err)
	}
	if opt.TLSConfig != nil && cfg.UpstreamTLS != nil {
		// rediss://: go-redis set the server name to the URL's host.
		tc := cfg.UpstreamTLS.Clone()
		tc.ServerName = opt.TLSConfig.ServerName
		opt.TLSConfig = tc
	}
	opt.Protocol = 2
	opt.DisableIdentity = true
	opt.PoolSize = cfg.UpstreamPoolSize
	opt.MaxRetries = -1   // a retried INCR could apply twice
	opt.DialerRetries = 1 // fail fast on a dead upstream; the next command dials again
	opt.ContextTimeoutEnabled = true
	opt.ReadTimeout = cfg.UpstreamTimeout
	opt.WriteTimeout = cfg.UpstreamTimeout
	opt.DialTimeout = cfg.UpstreamTimeout
	opt.PoolTimeout = cfg.UpstreamTimeout
	if auth := cfg.UpstreamAuth; auth != nil && cfg.Router != nil {
		opt.OnConnect = func(ctx context.Context, cn *redis.Conn) error {
			return cn.Do(ctx, auth...).Err()
		}
	}
	return &upstream{addr: opt.Addr, client: redis.NewClient(opt)}, nil
}

// getResult is one key's GET reply with the TTL it had.
type getResult struct {
	value     []byte
	found     bool
	wrongType bool          // MGET only: the key holds another type (nil, not cached)
	ttl       time.Duration // negative: no TTL
}

// get reads each key's value and remaining TTL in one pipelined round trip:
// PTTL, GET, PTTL per key. The value's TTL is the smaller of the two PTTLs,
// so a write landing between the commands can shorten the L1 lifetime but
// not stretch it past the TTL the value had. For MGET (forMGet), a key of
// another type reads as nil, as MGET answers; for GET it is the error.
func (u *upstream) get(ctx context.Context, forMGet bool, keys ...string) ([]getResult, error) {
	pipe := u.client.Pipeline()
	gets := make([]*redis.StringCmd, len(keys))
	ttls := make([]*redis.DurationCmd, len(keys))
	after := make([]*redis.DurationCmd, len(keys))
	for i, k := range keys {
		ttls[i] = pipe.PTTL(ctx, k)
		gets[i] = pipe.Get(ctx, k)
		after[i] = pipe.PTTL(ctx, k)
	}
	_, err := pipe.Exec(ctx)
	if err != nil && !errors.Is(err, redis.Nil) {
		// A per-command Redis error (WRONGTYPE, say) is reported by its
		// command; anything else failed the round trip.
		var rerr redis.Error
		if !errors.As(err, &rerr) || !anyFailed(gets, ttls, after) {
			// An error reply no command carries (WRONGPASS while the
			// pool set up the connection) failed the whole round trip.
			return nil, u.wrap(err)
		}
	}
	out := make([]getResult, len(keys))
	for i := range keys {
		v, gerr := gets[i].Bytes()
		switch {
		case gerr == nil:
			out[i] = getResult{value: v, found: true, ttl: -1}
		case errors.Is(gerr, redis.Nil):
			out[i] = getResult{ttl: -1}
		case forMGet && strings.HasPrefix(gerr.Error(), "WRONGTYPE"):
			out[i] = getResult{wrongType: true}
			continue
		default:
			return nil, gerr
		}
		if out[i].found {
			before := ttlOf(ttls[i])
			if ttls[i].Val() == -2 {
				// Missing before the GET, which found it: a read-through
				// store loaded it, and the PTTL after is its TTL.
				before = -1
			}
			out[i].ttl = minTTL(before, ttlOf(after[i]))
		}
	}
	return out, nil
}

// anyFailed reports whether any of the pipelined commands got an error
// (a nil reply counts as none).
func anyFailed(gets []*redis.StringCmd, ttls ...[]*redis.DurationCmd) bool {
	for _, c := range gets {
		if err := c.Err(); err != nil && !errors.Is(err, redis.Nil) {
			return true
		}
	}
	for _, cs := range ttls {
		for _, c := range cs {
			if c.Err() != nil {
				return true
			}
		}
	}
	return false
}

// ttlOf turns a PTTL reply into a TTL: negative for none (-1), zero when
// the key was missing (-2: it vanished around the GET) or on error.
func ttlOf(cmd *redis.DurationCmd) time.Duration {
	switch d, err := cmd.Result(); {
	case err != nil:
		return 0
	case d == -1:
		return -1
	case d < 0:
		return 0
	default:
		return d
	}
}

// minTTL is the shorter of two TTLs, where negative means none.
func minTTL(a, b time.Duration) time.Duration {
	switch {
	case a < 0:
		return b
	case b < 0:
		return a
	}
	return min(a, b)
}

// do forwards one command and writes its reply to w. status marks
// commands whose string reply is a simple string (+OK, TYPE's) rather than
// a bulk string; go-redis does not tell them apart. It returns the
// transport error, nil when the upstream answered (even with an error).
func (u *upstream) do(ctx context.Context, w *resp.Writer, args [][]byte, status bool) error {
	iargs := make([]any, len(args))
	for i, a := range args {
		iargs[i] = a
	}
	v, err := u.client.Do(ctx, iargs...).Result()
	switch {
	case errors.Is(err, redis.Nil):
		w.Null()
	case err != nil:
		var rerr redis.Error
		if errors.As(err, &rerr) {
			w.Error(rerr.Error())
			return nil
		}
		err = u.wrap(err)
		w.Error(errorReply(err))
		return err
	default:
		writeValue(w, v, status)
	}
	return nil
}

// wrap names the upstream in a transport error.
func (u *upstream) wrap(err error) error {
	return fmt.Errorf("proxy: upstream %s: %w", u.addr, err)
}

// errorReply turns a transport error into the client's error text. The
// "UPSTREAM" code is not one go-redis retries on.
func errorReply(err error) string {
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return "UPSTREAM timeout: " + err.Error()
	default:
		return "UPSTREAM unavailable: " + err.Error()
	}
}

// writeValue re-encodes a go-redis reply value.
func writeValue(w *resp.Writer, v any, status bool) {
	switch x := v.(type) {
	case nil:
		w.Null()
	case string:
		if status {
			w.Status(x)
		} else {
			w.BulkString(x)
		}
	case int64:
		w.Int(x)
	case []any:
		w.Array(len(x))
		for _, e := range x {
			writeValue(w, e, false)
		}
	case redis.Error:
		w.Error(x.Error())
	case error:
		w.Error(x.Error())
	default:
		w.Error(fmt.Sprintf("ERR proxy: unexpected upstream reply type %T", v))
	}
}

func (u *upstream) close() error { return u.client.Close() }
