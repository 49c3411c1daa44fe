package admin

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Config configures the admin HTTP server.
type Config struct {
	// Addr is the TCP address to listen on, for example ":9121" or
	// "127.0.0.1:0". "" disables the server: Run then just waits for its
	// context. Default ":9121".
	Addr string

	// Gatherer is served at /metrics in the Prometheus text format. Nil
	// makes /metrics answer 501 Not Implemented.
	Gatherer prometheus.Gatherer

	// Ready decides /ready: 200 "ready\n" when it returns true, 503
	// "not ready\n" otherwise. Nil means always ready.
	Ready func() bool

	// Alive decides /alive: 200 "alive\n" when it returns true, 503
	// "not alive\n" otherwise. Nil means always alive.
	Alive func() bool

	// Drain is called, at most once and on the request's goroutine, by the
	// first GET or POST to /drain; every such request, the first included,
	// then answers 200 "draining\n". Requests arriving while the first call
	// runs wait for it. Nil makes /drain answer 501 Not Implemented.
	Drain func()

	// Status writes the human-readable text/plain page served at /status.
	// Nil serves a minimal page with readiness, liveness and drain state.
	Status func(w io.Writer)

	// Logger receives the server's own log lines. Nil discards them.
	Logger *slog.Logger

	// ShutdownTimeout bounds the graceful shutdown once Run's context is
	// done; connections still open after it are closed. 0 means the default,
	// 5s.
	ShutdownTimeout time.Duration

	// ReadHeaderTimeout bounds reading a request's headers. 0 means the
	// default, 10s.
	ReadHeaderTimeout time.Duration
}

// Defaults used for zero Config durations.
const (
	DefaultShutdownTimeout   = 5 * time.Second
	DefaultReadHeaderTimeout = 10 * time.Second
)

// DefaultConfig returns the Config the roles start from: listening on :9121,
// with every callback unset.
func DefaultConfig() Config {
	return Config{Addr: ":9121"}
}

// ErrInvalidConfig is matched by every error Validate returns.
var ErrInvalidConfig = errors.New("admin: invalid config")

// Validate reports every problem in c at once.
func (c Config) Validate() error {
	var errs []error
	if c.Addr != "" {
		if _, port, err := net.SplitHostPort(c.Addr); err != nil {
			errs = append(errs, fmt.Errorf("%w: addr %q: %w", ErrInvalidConfig, c.Addr, err))
		} else if _, err := net.LookupPort("tcp", port); err != nil {
			errs = append(errs, fmt.Errorf("%w: addr %q: bad port: %w", ErrInvalidConfig, c.Addr, err))
		}
	}
	if c.ShutdownTimeout < 0 {
		errs = append(errs, fmt.Errorf("%w: shutdown timeout %v is negative", ErrInvalidConfig, c.ShutdownTimeout))
	}
	if c.ReadHeaderTimeout < 0 {
		errs = append(errs, fmt.Errorf("%w: read header timeout %v is negative", ErrInvalidConfig, c.ReadHeaderTimeout))
	}
	return errors.Join(errs...)
}
