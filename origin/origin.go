package origin

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"corral/internal/clock"
)

// ErrTooLarge reports a value larger than Config.MaxBytes. Load wraps it
// with the origin and the limit.
var ErrTooLarge = errors.New("origin: value too large")

// Result is what the origin answered for one key.
type Result struct {
	// Value is the value when Found; the caller owns it.
	Value []byte

	// Found is false for a negative answer: HTTP 404 or 410, or a key
	// missing from a Redis origin.
	Found bool

	// TTL is how long the tier may cache the answer; never negative. When
	// Found it comes from the HTTP headers (Cache-Control s-maxage, else
	// max-age, minus Age; else Expires minus Date, or minus now without a
	// usable Date) or the Redis key's remaining TTL, else Config.DefaultTTL.
	// For a negative answer it is Config.NegativeTTL.
	TTL time.Duration

	// NoStore reports that the answer must not be cached: the origin said so
	// (Cache-Control no-store, no-cache or private) or left it no time
	// (max-age=0, an Expires in the past, a TTL of 0). The tier returns the
	// value to the client but keeps no copy. TTL is then 0.
	NoStore bool
}

// loader is one kind of origin. Both methods must be safe for concurrent
// use; load must honour ctx.
type loader interface {
	load(ctx context.Context, key string) (Result, error)
	close() error
}

// Origin loads keys from the application's origin. All its methods are safe
// for concurrent use.
type Origin struct {
	name    string // the URL with any password redacted
	timeout time.Duration
	loader  loader
	log     *slog.Logger

	closeOnce sync.Once
	closeErr  error // what the one close returned
}

// New returns an Origin for cfg after validating it. It does not connect:
// the first Load does.
func New(cfg Config) (*Origin, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	k, redisOpt, _ := parseURL(cfg.URL) // Validate has checked it
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	o := &Origin{
		name:    redact(cfg.URL),
		timeout: cfg.Timeout,
	}
	o.log = log.With("component", "origin", "target", o.name)
	switch k {
	case kindHTTP:
		o.loader = newHTTPLoader(cfg, clock.Or(cfg.Clock))
	case kindRedis:
		o.loader = newRedisLoader(cfg, redisOpt, o.name)
	}
	o.log.Debug("origin ready", "timeout", cfg.Timeout, "max_bytes", cfg.MaxBytes)
	return o, nil
}

// Load fetches key from the origin. It gives up after Config.Timeout or when
// ctx is done, whichever comes first; the error then satisfies
// errors.Is(err, context.DeadlineExceeded) (or context.Canceled). A negative
// answer is a Result with Found false, not an error. Errors name the origin
// and, for HTTP, the status.
func (o *Origin) Load(ctx context.Context, key string) (Result, error) {
	ctx, cancel := context.WithTimeout(ctx, o.timeout)
	defer cancel()
	res, err := o.loader.load(ctx, key)
	if err != nil {
		err = withContextErr(ctx, err)
		o.log.Debug("origin load failed", "err", err)
		return Result{}, err
	}
	return res, nil
}

// String returns the origin's URL with any password replaced by "xxxxx",
// for logs, metric labels and error texts.
func (o *Origin) String() string { return o.name }

// Close releases the Origin's connections. Load must not be called after
// Close. Closing twice returns the first Close's result.
func (o *Origin) Close() error {
	o.closeOnce.Do(func() { o.closeErr = o.loader.close() })
	return o.closeErr
}

// withContextErr makes an error caused by ctx ending say so: clients report
// a deadline as an I/O timeout, which errors.Is does not match with
// context.DeadlineExceeded. ctx counts as ended once its deadline has passed,
// even if its timer has not fired yet.
func withContextErr(ctx context.Context, err error) error {
	cerr := ctx.Err()
	if d, ok := ctx.Deadline(); cerr == nil && ok && !time.Now().Before(d) {
		// A socket deadline set from ctx's can fire before ctx's own timer.
		cerr = context.DeadlineExceeded
	}
	if cerr == nil || errors.Is(err, cerr) {
		return err
	}
	return fmt.Errorf("%w (%w)", err, cerr)
}
