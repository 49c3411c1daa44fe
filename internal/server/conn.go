package server

import (
	"context"
	"errors"
	"io"
	"net"
	"os"
	"runtime/debug"
	"strings"
	"sync/atomic"
	"time"

	"corral/internal/acl"
	"corral/internal/command"
	"corral/internal/resp"
)

const (
	// flushThreshold flushes replies mid-batch once this many bytes wait,
	// so a long pipeline does not buffer all its replies.
	flushThreshold = 64 << 10
	// maxIdleWriteBuf is the reply buffer capacity kept between batches.
	maxIdleWriteBuf = 256 << 10
)

// Conn is one client connection. Its exported fields and methods are for
// handlers, which run on the connection's own goroutine; nothing here is
// safe for use from other goroutines except where noted.
type Conn struct {
	// W buffers the replies; handlers write exactly one reply per command.
	W resp.Writer
	// State is the role's per-connection state, owned by the Handler.
	State any

	srv   *Server
	nc    net.Conn
	rd    *resp.Reader
	ctx   context.Context
	id    int64
	addr  string
	laddr string

	created time.Time
	now     time.Time // when the current command started

	timing       *command.Spec // the last command, its latency not yet recorded
	timingFailed bool          // it replied with an error

	// user is the authenticated user, nil before AUTH when the default
	// user needs a password (or is off). Set on the connection's
	// goroutine; userName, its name for CLIENT LIST, is guarded by srv.mu.
	user       *acl.User
	closeAfter bool // QUIT or a protocol error: close once replies are out

	// Read by CLIENT LIST from other goroutines.
	lastCmd atomic.Pointer[command.Spec]
	lastAt  atomic.Int64 // unix nanoseconds

	// Set on the connection's goroutine, read by CLIENT LIST from others;
	// guarded by srv.mu.
	name     string
	userName string
	libName  string
	libVer   string

	// A client served by an event loop (Config.IOLoops) has no nc: lp owns
	// its socket fd. The fields below belong to the loop, except that
	// while busy the goroutine running its commands owns the Conn (and
	// reads busy); see ioLoop.
	lp         *ioLoop
	fd         int
	busy       bool      // a goroutine runs its commands
	canRead    bool      // the socket may have unread input
	peerClosed bool      // epoll reported the end of the input (RDHUP, HUP, ERR)
	queued     bool      // in its loop's ready list
	dead       bool      // closed
	dropNow    bool      // set by the goroutine: close without flushing
	woff       int       // bytes of W already written
	lastIO     time.Time // last byte read or written
	softSince  time.Time // pending replies above the soft limit since
	moveTo     *ioLoop   // the loop to move to once no goroutine runs it
}

func newConn(ctx context.Context, s *Server, nc net.Conn) *Conn {
	now := s.clock.Now()
	c := &Conn{
		srv:     s,
		nc:      nc,
		ctx:     ctx,
		id:      s.nextID.Add(1),
		addr:    nc.RemoteAddr().String(),
		laddr:   nc.LocalAddr().String(),
		created: now,
		user:    s.initialUser(),
	}
	if c.user != nil {
		c.userName = c.user.Name()
	}
	c.lastAt.Store(now.UnixNano())
	c.rd = resp.NewReader(nc)
	c.rd.MaxBulkLen = s.cfg.ProtoMaxBulkLen
	c.rd.MaxQueryBuffer = s.cfg.QueryBufferLimit
	c.rd.BeforeRead = c.beforeRead
	return c
}

// Context returns the server's context for commands. It stays live while
// a graceful shutdown lets in-flight commands finish, and is done once
// ShutdownTimeout forces the remaining connections closed (or Run has
// returned). Handlers derive per-operation deadlines from it and must return
// soon after it is done: a handler ignoring it outlives Run.
func (c *Conn) Context() context.Context { return c.ctx }

// Now returns the time the current command started; handlers use it
// instead of reading the clock again.
func (c *Conn) Now() time.Time { return c.now }

// ID returns the client id (CLIENT ID).
func (c *Conn) ID() int64 { return c.id }

// RemoteAddr returns the client's address.
func (c *Conn) RemoteAddr() string { return c.addr }

// RemoteHost returns the client's address without its port: the key of
// per-client limits, which must not reset when a client reconnects or
// grow with the size of its connection pool.
func (c *Conn) RemoteHost() string {
	if host, _, err := net.SplitHostPort(c.addr); err == nil {
		return host
	}
	return c.addr
}

// Proto returns the negotiated protocol version, 2 or 3.
func (c *Conn) Proto() int {
	if c.W.Proto == 3 {
		return 3
	}
	return 2
}

// serve runs the connection until the client leaves, breaks the protocol
// or the server shuts down.
func (c *Conn) serve() {
	// Unregister before closing, so that a client seeing the connection
	// end (QUIT, a limit, an error) finds its slot already free.
	defer func() {
		if r := recover(); r != nil {
			// One command's bug must not take down every client: log it
			// with its stack and drop this connection only.
			c.srv.log.Error("panic serving client; connection closed", "client", c.addr,
				"panic", r, "stack", string(debug.Stack()))
			c.srv.metrics.panics.Inc()
		}
		if c.timing != nil {
			c.settle(c.srv.clock.Now())
		}
		c.srv.unregister(c)
		c.nc.Close()
	}()
	for {
		c.rd.AuthRequired = c.user == nil
		args, err := c.rd.ReadCommand()
		if err != nil {
			c.finish(err)
			return
		}
		if isSecurityAttack(args[0]) {
			c.srv.log.Warn("possible security attack: HTTP or similar request on the RESP port; connection closed", "client", c.addr)
			return
		}
		c.dispatch(args, false)
		switch c.after() {
		case stepDrop:
			return
		case stepClose:
			c.flush()
			return
		case stepFlush:
			if err := c.flush(); err != nil {
				c.finish(err)
				return
			}
		}
	}
}

// step is what a connection does after a command.
type step uint8

const (
	stepOn    step = iota // run the next one
	stepFlush             // send the replies first
	stepClose             // send the replies and close (QUIT, a protocol error)
	stepDrop              // close at once: the output limit was broken
)

// after applies the output limits and QUIT after a command.
func (c *Conn) after() step {
	if hard := c.srv.cfg.OutputHardLimit; hard > 0 && int64(c.W.Len()) > hard {
		c.W.Reset(0)
		c.finish(errOutputLimit)
		return stepDrop
	}
	switch {
	case c.closeAfter:
		return stepClose
	case c.W.Len() >= flushThreshold:
		return stepFlush
	}
	return stepOn
}

// finish handles the error that ended the read loop.
func (c *Conn) finish(err error) {
	var pe *resp.ProtocolError
	switch {
	case errors.As(err, &pe):
		c.srv.metrics.protocolErrors.Inc()
		c.W.Error(pe.Reply())
		if c.lp == nil { // a loop flushes it before closing
			c.flush()
		}
		c.srv.log.Debug("protocol error; closing client", "client", c.addr, "err", pe.Msg)
	case errors.Is(err, resp.ErrQueryBufferLimit):
		c.srv.metrics.rejected.WithLabelValues("query_buffer").Inc()
		c.srv.log.Warn("closing client that reached max query buffer length", "client", c.addr,
			"limit", c.srv.cfg.QueryBufferLimit)
	case errors.Is(err, errOutputLimit):
		c.srv.metrics.rejected.WithLabelValues("output_buffer").Inc()
		c.srv.metrics.outputLimited.Add(1)
		c.srv.log.Warn("closing client that reached its output buffer limit", "client", c.addr,
			"hard", c.srv.cfg.OutputHardLimit, "soft", c.srv.cfg.OutputSoftLimit, "soft_seconds", c.srv.cfg.OutputSoftTime.Seconds())
	case errors.Is(err, os.ErrDeadlineExceeded) && !c.srv.closing.Load():
		c.srv.metrics.rejected.WithLabelValues("idle_timeout").Inc()
		c.srv.log.Debug("closing idle client", "client", c.addr)
	case errors.Is(err, io.EOF), errors.Is(err, net.ErrClosed), errors.Is(err, os.ErrDeadlineExceeded):
	default:
		c.srv.log.Debug("client connection failed", "client", c.addr, "err", err)
	}
}

// beforeRead runs whenever the reader is about to block: it sends the
// replies of the batch just processed and, while the server is shutting
// down, refuses to wait for more input.
func (c *Conn) beforeRead() error {
	if c.timing != nil {
		c.settle(c.srv.clock.Now())
	}
	if err := c.flush(); err != nil {
		return err
	}
	switch {
	case c.srv.closing.Load():
		return net.ErrClosed
	case c.srv.cfg.IdleTimeout > 0:
		// Socket deadlines are wall-clock times, whatever Config.Clock says.
		if err := c.nc.SetReadDeadline(time.Now().Add(c.srv.cfg.IdleTimeout)); err != nil {
			return err
		}
		if c.srv.closing.Load() { // shutdown raced the new deadline
			return net.ErrClosed
		}
	}
	return nil
}

// flush sends the buffered replies. With an IdleTimeout, a client that
// accepts no reply byte for that long is given up on (os.ErrDeadlineExceeded),
// as Redis closes a client without any interaction, read or write, for its
// timeout; a client that keeps accepting bytes keeps the connection. With
// a soft output limit, a client whose pending replies stay above it for
// OutputSoftTime is given up on however many bytes it accepts meanwhile
// (errOutputLimit).
func (c *Conn) flush() error {
	if c.W.Len() == 0 {
		return nil
	}
	cfg := &c.srv.cfg
	b := c.W.Bytes()
	var err error
	var softUntil time.Time // when the pending bytes' stay above the soft limit ends the client
	deadline := false       // a write deadline is set on the socket
	for len(b) > 0 {
		// Socket deadlines are wall-clock times, whatever Config.Clock says.
		var dl time.Time
		now := time.Now()
		if cfg.IdleTimeout > 0 {
			dl = now.Add(cfg.IdleTimeout)
		}
		if cfg.OutputSoftLimit > 0 && cfg.OutputSoftTime > 0 && int64(len(b)) > cfg.OutputSoftLimit {
			if softUntil.IsZero() {
				softUntil = now.Add(cfg.OutputSoftTime)
			}
			if dl.IsZero() || softUntil.Before(dl) {
				dl = softUntil
			}
		} else {
			softUntil = time.Time{}
		}
		if !dl.IsZero() || deadline {
			if err = c.nc.SetWriteDeadline(dl); err != nil {
				break
			}
			deadline = !dl.IsZero()
		}
		var n int
		n, err = c.nc.Write(b)
		b = b[n:]
		if err == nil || !errors.Is(err, os.ErrDeadlineExceeded) {
			break
		}
		if !softUntil.IsZero() && !time.Now().Before(softUntil) {
			err = errOutputLimit
			break
		}
		if n == 0 {
			break
		}
		err = nil // progress within the timeout: wait another one
	}
	c.W.Reset(maxIdleWriteBuf)
	return err
}

// errOutputLimit ends a client that broke its output buffer limit.
var errOutputLimit = errors.New("output buffer limit reached")

// interrupt wakes the connection if it is blocked reading, so it notices
// the shutdown. Safe to call from any goroutine, under srv.mu.
func (c *Conn) interrupt() {
	if c.lp != nil {
		c.lp.post(c, msgInterrupt)
		return
	}
	c.nc.SetReadDeadline(time.Unix(1, 0))
}

// kill closes the connection at once. Safe to call from any goroutine,
// under srv.mu.
func (c *Conn) kill() {
	if c.lp != nil {
		c.lp.post(c, msgKill)
		return
	}
	c.nc.Close()
}

// dispatch looks the command up, checks arity and authentication, and runs
// it: connection commands here, data commands in the role's Handler. On an
// event loop (inline) it runs only what the Handler can answer at once and
// otherwise reports false, having written nothing: the caller runs it again
// on a goroutine.
func (c *Conn) dispatch(args [][]byte, inline bool) bool {
	spec, errText := command.Resolve(args)
	if spec == nil {
		if ih, ok := c.srv.handler.(InternalHandler); ok && isInternal(args[0]) {
			// A peer proves itself with CORRAL.AUTH and the cluster
			// secret; any other internal command needs a user allowed
			// every command on every key (the default user, or a peer).
			switch {
			case isInternalAuth(args[0]):
			case c.user == nil:
				c.W.Error(string(command.ErrNoAuth))
				return true
			case !c.user.Unrestricted():
				c.srv.metrics.denied.WithLabelValues("noperm").Inc()
				c.W.Error("NOPERM this user has no permissions to run the '" + strings.ToLower(string(args[0])) + "' command")
				return true
			}
			if inline {
				return false
			}
			now := c.srv.clock.Now()
			c.settle(now)
			c.now = now
			ih.ExecInternal(c, args)
			return true
		}
		c.W.Error(errText)
		if strings.HasPrefix(errText, "ERR unknown command") {
			c.srv.metrics.unknown.Inc()
		}
		return true
	}
	if c.user == nil {
		if !spec.HasFlag(command.NoAuth) {
			c.srv.metrics.denied.WithLabelValues("noauth").Inc()
			c.W.Error(string(command.ErrNoAuth))
			return true
		}
	} else if !c.user.Unrestricted() {
		if e := c.user.Check(spec, args); e != "" {
			c.W.Error(e)
			c.srv.metrics.denied.WithLabelValues("noperm").Inc()
			return true
		}
	}
	now := c.srv.clock.Now()
	c.settle(now)
	c.now = now
	start := len(c.W.Bytes())
	switch {
	case spec.HasFlag(command.Connection):
		c.execConn(spec, args)
	case !inline:
		c.srv.handler.Exec(c, spec, args)
	case c.srv.inline == nil || !c.srv.inline.ExecInline(c, spec, args):
		return false
	}
	c.timing = spec
	c.timingFailed = len(c.W.Bytes()) > start && c.W.Bytes()[start] == '-'
	c.lastCmd.Store(spec)
	c.lastAt.Store(now.UnixNano())
	return true
}

// settle records the latency of the command still being timed, which
// ended at now. A pipelined command's end is the next one's start, so the
// clock is read once per command plus once per batch.
func (c *Conn) settle(now time.Time) {
	if c.timing != nil {
		c.srv.metrics.commands.observe(c.id, c.timing.ID, now.Sub(c.now), c.timingFailed)
		c.timing = nil
	}
}

// isSecurityAttack reports the commands Redis treats as a cross-protocol
// attack (an HTTP request sent to the RESP port): "POST" and "Host:".
func isSecurityAttack(name []byte) bool {
	switch len(name) {
	case 4:
		return (name[0]|0x20) == 'p' && (name[1]|0x20) == 'o' && (name[2]|0x20) == 's' && (name[3]|0x20) == 't'
	case 5:
		return (name[0]|0x20) == 'h' && (name[1]|0x20) == 'o' && (name[2]|0x20) == 's' && (name[3]|0x20) == 't' && name[4] == ':'
	}
	return false
}

// internalPrefix starts the names of the commands nodes of a cluster send
// each other (CORRAL.APPLY, ...). They are not in the command table, so
// COMMAND and clients never see them.
const internalPrefix = "corral."

// isInternal reports whether name starts with internalPrefix, in any case.
func isInternal(name []byte) bool {
	if len(name) <= len(internalPrefix) {
		return false
	}
	for i := range len(internalPrefix) {
		if name[i]|0x20 != internalPrefix[i] {
			return false
		}
	}
	return true
}

// isInternalAuth reports whether name is CORRAL.AUTH, in any case.
func isInternalAuth(name []byte) bool {
	return len(name) == len(internalPrefix)+4 && isInternal(name) &&
		strings.EqualFold(string(name[len(internalPrefix):]), "auth")
}

// initialUser is the user a new or RESET connection is: the default user
// when it is enabled and needs no password, else nobody until AUTH.
func (s *Server) initialUser() *acl.User {
	if d := s.users.Default(); d.Enabled() && d.NoPass() {
		return d
	}
	return nil
}

// setUser makes u the connection's user (nil: not authenticated).
func (c *Conn) setUser(u *acl.User) {
	c.user = u
	name := ""
	if u != nil {
		name = u.Name()
	}
	c.srv.mu.Lock()
	c.userName = name
	c.srv.mu.Unlock()
}

// AuthenticatePeer makes the connection a cluster peer's, allowed every
// command on every key, once the handler has checked the peer's proof of
// the cluster secret (CORRAL.AUTH).
func (c *Conn) AuthenticatePeer() { c.setUser(peerUser) }

// peerUser is the identity of authenticated cluster peers.
var peerUser = acl.Superuser("corral-peer")
