package load

import (
	"bytes"
	"context"
	"errors"
	"net"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/redis/go-redis/v9/maintnotifications"
)

// RESPConfig configures a RESP executor.
type RESPConfig struct {
	// Addr is the target's host:port. Required.
	Addr string
	// Password, when set, authenticates every connection.
	Password string
	// Conns is the connection pool's size: at least the run's Conns.
	// Default 50.
	Conns int
	// Timeout bounds each command's network reads and writes. Default 5s.
	Timeout time.Duration
	// WriteTTL is the expiry of SETs; 0 writes without one.
	WriteTTL time.Duration
	// Value is the payload of SETs.
	Value []byte
}

// RESP executes GETs and SETs over go-redis, one dedicated connection per
// worker. It speaks RESP2 and sends nothing but the data commands and
// PING (no HELLO, CLIENT SETINFO or maintenance notifications), so any
// Redis-compatible target works, proxies such as twemproxy included.
type RESP struct {
	cfg RESPConfig
	rdb *redis.Client
}

// NewRESP returns a RESP executor; Close releases its connections.
func NewRESP(cfg RESPConfig) *RESP {
	if cfg.Conns <= 0 {
		cfg.Conns = DefaultConns
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 5 * time.Second
	}
	return &RESP{cfg: cfg, rdb: NewClient(cfg.Addr, cfg.Password, cfg.Conns, cfg.Timeout)}
}

// NewClient returns a go-redis client of addr as the load generator
// configures it: RESP2, no retries, no HELLO, identity or maintenance
// commands, pool pool connections, timeout on every network step.
func NewClient(addr, password string, pool int, timeout time.Duration) *redis.Client {
	dialer := &net.Dialer{Timeout: timeout, KeepAlive: 5 * time.Minute}
	return redis.NewClient(&redis.Options{
		Addr: addr,
		Dialer: func(ctx context.Context, network, addr string) (net.Conn, error) {
			c, err := dialer.DialContext(ctx, network, addr)
			if err != nil {
				return nil, err
			}
			return &noHelloConn{Conn: c}, nil
		},
		Password:                 password,
		Protocol:                 2,
		PoolSize:                 pool,
		MaxRetries:               -1,
		DisableIdentity:          true,
		MaintNotificationsConfig: &maintnotifications.Config{Mode: maintnotifications.ModeDisabled},
		ContextTimeoutEnabled:    true,
		DialTimeout:              timeout,
		ReadTimeout:              timeout,
		WriteTimeout:             timeout,
		PoolTimeout:              timeout,
	})
}

// Client returns the underlying client, for setup such as prefilling.
func (e *RESP) Client() *redis.Client { return e.rdb }

// Close closes every connection.
func (e *RESP) Close() error { return e.rdb.Close() }

// Session returns a connection of its own for worker, already answering
// PING.
func (e *RESP) Session(ctx context.Context, _ int) (Session, error) {
	c := e.rdb.Conn()
	if err := c.Ping(ctx).Err(); err != nil {
		_ = c.Close()
		return nil, err
	}
	return &respSession{cfg: &e.cfg, conn: c}, nil
}

type respSession struct {
	cfg  *RESPConfig
	conn *redis.Conn
}

func (s *respSession) Close() error { return s.conn.Close() }

func (s *respSession) Do(ctx context.Context, ops []Op) {
	if len(ops) == 1 {
		op := &ops[0]
		if op.Write {
			op.Err = s.conn.Set(ctx, op.Key, s.cfg.Value, s.cfg.WriteTTL).Err()
		} else {
			setRead(op, s.conn.Get(ctx, op.Key).Err())
		}
		return
	}
	pipe := s.conn.Pipeline()
	cmds := make([]redis.Cmder, len(ops))
	for i := range ops {
		if ops[i].Write {
			cmds[i] = pipe.Set(ctx, ops[i].Key, s.cfg.Value, s.cfg.WriteTTL)
		} else {
			cmds[i] = pipe.Get(ctx, ops[i].Key)
		}
	}
	_, _ = pipe.Exec(ctx)
	for i, c := range cmds {
		if ops[i].Write {
			ops[i].Err = c.Err()
		} else {
			setRead(&ops[i], c.Err())
		}
	}
}

// setRead records a GET's outcome: nil is a miss, not an error.
func setRead(op *Op, err error) {
	if errors.Is(err, redis.Nil) {
		op.Miss = true
		return
	}
	op.Err = err
}

// noHelloConn answers go-redis's HELLO itself, as a server without HELLO
// would ("ERR unknown command"), so that go-redis goes on in RESP2 without
// sending it. go-redis sends HELLO first on every connection, even for
// RESP2, and proxies such as twemproxy close the connection on a command
// they do not know.
type noHelloConn struct {
	net.Conn
	checked bool   // the first write has been looked at
	reply   []byte // the made-up reply still to be read
}

// helloReply is what a server without HELLO answers.
const helloReply = "-ERR unknown command 'HELLO'\r\n"

func (c *noHelloConn) Write(p []byte) (int, error) {
	if !c.checked {
		c.checked = true
		if isHello(p) {
			c.reply = []byte(helloReply)
			return len(p), nil
		}
	}
	return c.Conn.Write(p)
}

func (c *noHelloConn) Read(p []byte) (int, error) {
	if len(c.reply) > 0 {
		n := copy(p, c.reply)
		c.reply = c.reply[n:]
		return n, nil
	}
	return c.Conn.Read(p)
}

// isHello reports whether p is one RESP command whose name is HELLO.
func isHello(p []byte) bool {
	if len(p) == 0 || p[0] != '*' {
		return false
	}
	_, rest, ok := bytes.Cut(p, []byte("\r\n"))
	return ok && len(rest) >= 11 && bytes.EqualFold(rest[:11], []byte("$5\r\nhello\r\n"))
}
