package proxy

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"corral/internal/resp"
)

// upstream is the RESP server behind the proxy, reached through go-redis
// with a connection pool. Commands go out in RESP2; replies are re-encoded
// for each client's protocol.
type upstream struct {
	addr   string
	client *redis.Client
}

func newUpstream(cfg Config) (*upstream, error) {
	opt, err := redis.ParseURL(cfg.Upstream)
	if err != nil {
		return nil, fmt.Errorf("proxy: upstream %q: %w", cfg.Upstream, err)
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
	return &upstream{addr: opt.Addr, client: redis.NewClient(opt)}, nil
}

// getResult is one key's GET reply with the TTL it had.
type getResult struct {
	value []byte
	found bool
	ttl   time.Duration // negative: no TTL
}

// get reads each key's value and remaining TTL in one pipelined round trip
// (GET and PTTL per key).
func (u *upstream) get(ctx context.Context, keys ...string) ([]getResult, error) {
	pipe := u.client.Pipeline()
	gets := make([]*redis.StringCmd, len(keys))
	ttls := make([]*redis.DurationCmd, len(keys))
	for i, k := range keys {
		gets[i] = pipe.Get(ctx, k)
		ttls[i] = pipe.PTTL(ctx, k)
	}
	_, err := pipe.Exec(ctx)
	if err != nil && !errors.Is(err, redis.Nil) {
		// A per-command Redis error (WRONGTYPE, say) is reported by its
		// command; anything else failed the round trip.
		var rerr redis.Error
		if !errors.As(err, &rerr) {
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
		default:
			return nil, gerr
		}
		// PTTL: -1 no expiry, -2 no key: for a found value it vanished
		// meanwhile, so treat it as expiring now.
		switch d, terr := ttls[i].Result(); {
		case !out[i].found:
			out[i].ttl = -1
		case terr != nil:
			out[i].ttl = 0
		case d == -1:
			out[i].ttl = -1
		case d < 0:
			out[i].ttl = 0
		default:
			out[i].ttl = d
		}
	}
	return out, nil
}

// do forwards one command and writes its reply to w. status marks
// commands whose string reply is a simple string (+OK, TYPE's) rather than
// a bulk string; go-redis does not tell them apart.
func (u *upstream) do(ctx context.Context, w *resp.Writer, args [][]byte, status bool) {
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
			return
		}
		w.Error(errorReply(u.wrap(err)))
	default:
		writeValue(w, v, status)
	}
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
