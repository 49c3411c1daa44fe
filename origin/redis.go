package origin

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

// redisPoolSize is the connection pool of a Redis origin: enough for the
// store's concurrent misses, which collapse already bounds per key.
const redisPoolSize = 64

// redisLoader loads keys from a Redis server with GET and PTTL.
type redisLoader struct {
	client   *redis.Client
	name     string // the URL with any password redacted, for errors
	maxBytes int64
	defTTL   time.Duration
	negTTL   time.Duration
}

// newRedisLoader builds the loader for a validated Config and the options
// parsed from its URL. It does not connect.
func newRedisLoader(cfg Config, opt *redis.Options, name string) *redisLoader {
	opt.Protocol = 2
	opt.DisableIdentity = true // no CLIENT SETINFO on connect
	opt.MaxRetries = -1        // the caller's breaker and backoff decide on retries
	opt.DialerRetries = 1      // fail fast on a dead origin; the next load dials again
	opt.ContextTimeoutEnabled = true
	opt.DialTimeout = cfg.Timeout
	opt.ReadTimeout = cfg.Timeout
	opt.WriteTimeout = cfg.Timeout
	opt.PoolTimeout = cfg.Timeout
	opt.PoolSize = redisPoolSize
	opt.PipelinePoolSize = -1 // every load is a pipeline: share the one pool
	return &redisLoader{
		client:   redis.NewClient(opt),
		name:     name,
		maxBytes: cfg.MaxBytes,
		defTTL:   cfg.DefaultTTL,
		negTTL:   cfg.NegativeTTL,
	}
}

// load sends GET and PTTL for key in one round trip. A missing key is a
// negative answer; a key without expiry gets the default TTL.
func (l *redisLoader) load(ctx context.Context, key string) (Result, error) {
	pipe := l.client.Pipeline()
	get := pipe.Get(ctx, key)
	pttl := pipe.PTTL(ctx, key)
	if _, err := pipe.Exec(ctx); err != nil && !errors.Is(err, redis.Nil) {
		// A Redis error reply to one command (WRONGTYPE) is reported by that
		// command below. Anything else failed the round trip, including a
		// Redis error from setting up the connection (WRONGPASS, NOAUTH),
		// which go-redis does not copy into the commands.
		var rerr redis.Error
		if !errors.As(err, &rerr) || get.Err() == nil && pttl.Err() == nil {
			return Result{}, l.fail(key, err)
		}
	}
	v, err := get.Bytes()
	switch {
	case errors.Is(err, redis.Nil):
		return Result{TTL: l.negTTL, NoStore: l.negTTL <= 0}, nil
	case err != nil:
		return Result{}, l.fail(key, err)
	case int64(len(v)) > l.maxBytes:
		return Result{}, fmt.Errorf("%w: GET %q from %s: %d bytes, more than %d", ErrTooLarge, key, l.name, len(v), l.maxBytes)
	}
	d, err := pttl.Result()
	if err != nil {
		return Result{}, l.fail(key, err)
	}
	var ttl time.Duration
	switch {
	case d == -1: // no expiry
		ttl = l.defTTL
	case d > 0:
		ttl = d
	default: // -2: the key expired between GET and PTTL
	}
	return Result{Value: v, Found: true, TTL: ttl, NoStore: ttl <= 0}, nil
}

// fail names the origin and the key in err.
func (l *redisLoader) fail(key string, err error) error {
	return fmt.Errorf("origin: GET %q from %s: %w", key, l.name, err)
}

// close closes the connection pool.
func (l *redisLoader) close() error {
	if err := l.client.Close(); err != nil {
		return fmt.Errorf("origin: close %s: %w", l.name, err)
	}
	return nil
}
