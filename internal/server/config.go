package server

import (
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"corral/internal/acl"
	"corral/internal/clock"
	"corral/internal/resp"
)

// Config configures a Server. The zero value of each field means its
// default, as DefaultConfig sets it.
type Config struct {
	// Addr is the TCP listen address, e.g. ":6379". Required.
	Addr string
	// Role names the role in metrics, INFO and logs: "proxy" or "store".
	Role string
	// MaxClients bounds concurrent client connections (Redis maxclients).
	// Default 10000. Connections beyond it get Redis's
	// "ERR max number of clients reached" and are closed.
	MaxClients int
	// IdleTimeout closes clients idle longer than this (Redis timeout):
	// clients that sent no byte, or accepted no byte of their pending
	// replies, for that long. It is measured on the system clock whatever
	// Clock is. 0, the default, never closes idle clients.
	IdleTimeout time.Duration
	// ProtoMaxBulkLen bounds one request argument, bytes (Redis
	// proto-max-bulk-len). Default 512mb.
	ProtoMaxBulkLen int64
	// QueryBufferLimit bounds a client's unprocessed input, bytes (Redis
	// client-query-buffer-limit). Default 1gb.
	QueryBufferLimit int64
	// OutputHardLimit closes a client whose pending replies exceed this
	// many bytes (Redis client-output-buffer-limit, normal class, hard
	// limit). 0, the default as in Redis, sets no limit.
	OutputHardLimit int64
	// OutputSoftLimit and OutputSoftTime close a client whose pending
	// replies stay above OutputSoftLimit bytes for OutputSoftTime
	// without draining below it: a reader too slow for its replies. Both
	// must be set for the soft limit to act; measured on the system clock.
	OutputSoftLimit int64
	OutputSoftTime  time.Duration
	// ShutdownTimeout bounds how long Run waits, once its context is done,
	// for in-flight commands; then it cancels Conn.Context, closes the
	// connections left and returns. Default 10s.
	ShutdownTimeout time.Duration
	// RequirePass, when set, is the default user's password (Redis
	// requirepass): clients must AUTH before other commands.
	RequirePass string
	// Users are the users clients AUTH as (--users-file), with the
	// default user built from RequirePass unless Users defines it; nil
	// means only the default user.
	Users *acl.File
	// Version is corral's version, reported by INFO.
	Version string
	// Clock tells the time; nil means the system clock.
	Clock clock.Clock
	// Logger receives the server's logs; nil discards them.
	Logger *slog.Logger
	// Registerer receives the server's metrics; nil registers nothing.
	Registerer prometheus.Registerer

	// TLSAddr, when set, is a second listen address, e.g. ":6380", whose
	// clients speak RESP over TLS (Redis tls-port). Its clients are served
	// exactly like Addr's and share MaxClients and every limit. With
	// TLSAddr set, Addr may be empty: no plaintext listener.
	TLSAddr string
	// TLS is TLSAddr's server configuration (see internal/tlsconf);
	// required with TLSAddr.
	TLS *tls.Config
	// TLSHandshakeTimeout bounds a TLS client's handshake, which runs on
	// the client's own goroutine: a client that stalls is closed after it.
	// 0 means 10s.
	TLSHandshakeTimeout time.Duration

	// IOLoops, when positive, serves plaintext clients from that many
	// event loops (epoll, Linux only) instead of a goroutine per client:
	// each loop owns its clients' sockets, reads their requests, runs the
	// commands the Handler can answer at once (InlineHandler) and writes
	// the replies, with no goroutine woken per request. A command that
	// may wait (an upstream read, say) moves its client to a goroutine
	// until its buffered requests are done. TLS clients, and every client
	// on other systems, keep their goroutine. 0, the default, uses none.
	IOLoops int
}

// maxIOLoops bounds Config.IOLoops.
const maxIOLoops = 256

// DefaultConfig returns the defaults, which match Redis's.
func DefaultConfig() Config {
	return Config{
		Addr:             ":6379",
		Role:             "proxy",
		MaxClients:       10000,
		ProtoMaxBulkLen:  resp.DefaultMaxBulkLen,
		QueryBufferLimit: resp.DefaultMaxQueryBuffer,
		ShutdownTimeout:  10 * time.Second,
	}
}

// Validate reports every problem with the configuration at once.
func (c Config) Validate() error {
	var errs []error
	if c.Addr == "" && c.TLSAddr == "" {
		errs = append(errs, errors.New("server: listen address is empty"))
	}
	if c.MaxClients < 1 {
		errs = append(errs, fmt.Errorf("server: maxclients %d must be at least 1", c.MaxClients))
	}
	if c.IdleTimeout < 0 {
		errs = append(errs, fmt.Errorf("server: timeout %v must not be negative", c.IdleTimeout))
	}
	if c.ProtoMaxBulkLen < 1 {
		errs = append(errs, fmt.Errorf("server: proto-max-bulk-len %d must be positive", c.ProtoMaxBulkLen))
	}
	if c.QueryBufferLimit < 1 {
		errs = append(errs, fmt.Errorf("server: client-query-buffer-limit %d must be positive", c.QueryBufferLimit))
	}
	if c.OutputHardLimit < 0 || c.OutputSoftLimit < 0 || c.OutputSoftTime < 0 {
		errs = append(errs, fmt.Errorf("server: client-output-buffer-limit %d %d %v must not be negative",
			c.OutputHardLimit, c.OutputSoftLimit, c.OutputSoftTime))
	}
	if c.IOLoops < 0 || c.IOLoops > maxIOLoops {
		errs = append(errs, fmt.Errorf("server: io-loops %d must be between 0 and %d", c.IOLoops, maxIOLoops))
	}
	if c.ShutdownTimeout <= 0 {
		errs = append(errs, fmt.Errorf("server: shutdown timeout %v must be positive", c.ShutdownTimeout))
	}
	errs = append(errs, c.validateTLS()...)
	return errors.Join(errs...)
}
