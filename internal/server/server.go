// Package server is the RESP server both corral roles run: it accepts
// clients, enforces Redis's limits, parses requests, answers the
// connection-level commands (PING, HELLO, AUTH, CLIENT, COMMAND, INFO, ...)
// itself and hands every data command to the role's Handler.
package server

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"corral/internal/acl"
	"corral/internal/clock"
	"corral/internal/command"
)

// Handler executes a role's data commands.
type Handler interface {
	// Exec runs one data command and writes exactly one reply to c.W.
	// args[0] is the command name; spec is its table entry, arity already
	// checked. args alias the connection's read buffer and are valid only
	// during the call. Exec runs on the connection's goroutine: commands of
	// one connection run in order, those of different connections
	// concurrently.
	Exec(c *Conn, spec *command.Spec, args [][]byte)
	// InfoSections lists the INFO sections the role adds, in order, with a
	// function appending each one's "key:value\r\n" lines.
	InfoSections() []InfoSection
}

// InlineHandler is implemented by a Handler that can answer some data
// commands without waiting, which event loops (Config.IOLoops) then run
// in place, with no goroutine. ExecInline either writes exactly one reply
// to c.W and reports true, or writes nothing and reports false: the
// command then runs through Exec on a goroutine. It must not block, and
// should decide quickly: it runs on a loop serving many clients.
type InlineHandler interface {
	ExecInline(c *Conn, spec *command.Spec, args [][]byte) bool
}

// InternalHandler is implemented by a Handler that also serves the
// cluster's internal commands: names starting with "CORRAL." (any case),
// which are not in the command table. ExecInternal writes exactly one reply
// to c.W, like Exec; the connection must have authenticated.
type InternalHandler interface {
	ExecInternal(c *Conn, args [][]byte)
}

// InfoSection is one INFO section a role contributes. A section named like
// one of the server's own (server, clients, stats) adds its lines after
// the server's.
type InfoSection struct {
	Name   string // lower case, e.g. "keyspace"
	Append func(dst []byte) []byte
}

// Server is a RESP server. Create it with New, then call Run.
type Server struct {
	cfg     Config
	handler Handler
	inline  InlineHandler // handler's, or nil
	clock   clock.Clock
	log     *slog.Logger
	metrics *metrics
	started time.Time
	users   *acl.Users

	nextID  atomic.Int64
	closing atomic.Bool

	mu    sync.Mutex   // guards ln, tln, conns, loops, nextLoop
	ln    net.Listener // nil without Config.Addr
	tln   net.Listener // nil without Config.TLSAddr
	conns map[*Conn]struct{}
	wg    sync.WaitGroup // one per connection

	loops       []*ioLoop // while Run serves, with Config.IOLoops
	activeLoops int       // loops[:activeLoops] take new clients
	nextLoop    int
	stopBalance chan struct{}
	noBalance   bool // tests move clients between loops themselves
}

// New validates cfg and returns a Server that dispatches data commands to h.
func New(cfg Config, h Handler) (*Server, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if h == nil {
		return nil, errors.New("server: nil handler")
	}
	users, err := acl.New(cfg.RequirePass, cfg.Users)
	if err != nil {
		return nil, err
	}
	lg := cfg.Logger
	if lg == nil {
		lg = slog.New(slog.DiscardHandler)
	}
	clk := clock.Or(cfg.Clock)
	inline, _ := h.(InlineHandler)
	return &Server{
		cfg:     cfg,
		handler: h,
		inline:  inline,
		clock:   clk,
		log:     lg.With("component", "server", "role", cfg.Role),
		metrics: newMetrics(cfg.Registerer, cfg.Role),
		started: clk.Now(),
		users:   users,
		conns:   make(map[*Conn]struct{}),
	}, nil
}

// Listen binds the listen addresses: Addr, and TLSAddr when set. Run calls
// it when it has not been called; calling it first lets a caller learn
// Addr and TLSAddr before serving.
func (s *Server) Listen() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ln != nil || s.tln != nil {
		return nil
	}
	var ln, tln net.Listener
	var err error
	if s.cfg.Addr != "" {
		if ln, err = net.Listen("tcp", s.cfg.Addr); err != nil {
			return fmt.Errorf("server: listen %s: %w", s.cfg.Addr, err)
		}
	}
	if s.cfg.TLSAddr != "" {
		if tln, err = net.Listen("tcp", s.cfg.TLSAddr); err != nil {
			if ln != nil {
				ln.Close()
			}
			return fmt.Errorf("server: listen (TLS) %s: %w", s.cfg.TLSAddr, err)
		}
	}
	s.ln, s.tln = ln, tln
	return nil
}

// Addr returns the bound plaintext address, or "" before Listen and
// without one.
func (s *Server) Addr() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ln == nil {
		return ""
	}
	return s.ln.Addr().String()
}

// TLSAddr returns the bound TLS address, or "" before Listen and without
// one.
func (s *Server) TLSAddr() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.tln == nil {
		return ""
	}
	return s.tln.Addr().String()
}

// Clients returns the number of connected clients.
func (s *Server) Clients() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.conns)
}

// Run serves clients until ctx is done, then shuts down gracefully: it stops
// accepting, closes idle connections, lets every other connection finish the
// commands it already received, flushes their replies and closes them. After
// ShutdownTimeout it cancels the context handlers run under (Conn.Context),
// closes the remaining connections and returns without waiting for handlers
// still running: a handler that ignores its context cannot be interrupted,
// its goroutine ends when it returns and its reply is dropped.
func (s *Server) Run(ctx context.Context) error {
	if err := s.Listen(); err != nil {
		return err
	}
	s.mu.Lock()
	ln, tln := s.ln, s.tln
	s.mu.Unlock()

	if ln != nil && s.cfg.IOLoops > 0 && loopsSupported {
		if err := s.startLoops(); err != nil {
			ln.Close()
			if tln != nil {
				tln.Close()
			}
			return err
		}
		defer s.stopLoops()
	}
	// Commands outlive ctx during the graceful part of the shutdown.
	connCtx, cancelConns := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelConns()
	acceptDone := make(chan error, 2)
	loops := 0
	if ln != nil {
		s.log.Info("listening", "addr", ln.Addr().String())
		loops++
		go func() { acceptDone <- s.acceptLoop(connCtx, ln, nil) }()
	}
	if tln != nil {
		s.log.Info("listening", "addr", tln.Addr().String(), "tls", true)
		loops++
		tc := s.cfg.tlsConfig()
		go func() { acceptDone <- s.acceptLoop(connCtx, tln, tc) }()
	}

	var err error
	select {
	case <-ctx.Done():
	case err = <-acceptDone:
		loops--
	}
	s.shutdown(cancelConns)
	for ; loops > 0; loops-- {
		<-acceptDone
	}
	return err
}

// acceptLoop accepts clients on ln until it is closed. With tc set they
// speak TLS: the handshake runs on each client's goroutine, so a client
// that stalls in it holds up nobody else.
func (s *Server) acceptLoop(ctx context.Context, ln net.Listener, tc *tls.Config) error {
	var delay time.Duration
	for {
		nc, err := ln.Accept()
		if err != nil {
			if s.closing.Load() || errors.Is(err, net.ErrClosed) {
				return nil
			}
			// Out of file descriptors and the like: back off as net/http does.
			delay = min(max(2*delay, 5*time.Millisecond), time.Second)
			s.log.Warn("accept failed; retrying", "err", err, "delay", delay)
			time.Sleep(delay)
			continue
		}
		delay = 0
		var tconn *tls.Conn
		if tc != nil {
			tconn = tls.Server(nc, tc) // no I/O until the handshake
			nc = tconn
		}
		c, onLoop, ok := s.register(ctx, nc, tc == nil)
		if !ok || onLoop {
			continue
		}
		go func() {
			defer s.wg.Done()
			if tconn != nil && !s.handshake(c, tconn) {
				return
			}
			c.serve()
		}()
	}
}

// register admits a new connection, or rejects it with Redis's maxclients
// error. As in Redis, only admitted connections count as received. With
// loop set and event loops running, one of them takes the connection
// (onLoop); otherwise the caller serves it.
func (s *Server) register(ctx context.Context, nc net.Conn, loop bool) (c *Conn, onLoop, ok bool) {
	s.mu.Lock()
	if s.closing.Load() {
		s.mu.Unlock()
		nc.Close()
		return nil, false, false
	}
	if len(s.conns) >= s.cfg.MaxClients {
		s.mu.Unlock()
		s.metrics.rejected.WithLabelValues("maxclients").Inc()
		s.metrics.rejectedMax.Add(1)
		if _, ok := nc.(*tls.Conn); ok {
			// Writing the error would mean a handshake here, in the
			// accept loop: a TLS client is just closed.
			nc.Close()
			return nil, false, false
		}
		// A socket deadline is a wall-clock time, whatever Config.Clock says.
		nc.SetWriteDeadline(time.Now().Add(time.Second))
		nc.Write([]byte("-ERR max number of clients reached\r\n"))
		nc.Close()
		return nil, false, false
	}
	c = newConn(ctx, s, nc)
	s.conns[c] = struct{}{}
	s.wg.Add(1)
	if loop && len(s.loops) > 0 {
		lp := s.loops[s.nextLoop%s.activeLoops]
		s.nextLoop++
		switch err := lp.attach(c); {
		case err == nil:
			onLoop = true
		case errors.Is(err, errLoopStopped):
			// A loop that failed: the client gets a goroutine.
		default:
			delete(s.conns, c)
			s.wg.Done()
			s.mu.Unlock()
			s.log.Warn("client not taken by an io loop; closed", "client", c.addr, "err", err)
			return nil, false, false
		}
	}
	s.mu.Unlock()
	s.metrics.connections.Inc()
	s.metrics.totalConns.Add(1)
	s.metrics.clients.Inc()
	return c, onLoop, true
}

func (s *Server) unregister(c *Conn) {
	s.mu.Lock()
	delete(s.conns, c)
	s.mu.Unlock()
	s.metrics.clients.Dec()
}

// shutdown stops accepting and closes connections gracefully; after
// ShutdownTimeout it cancels the handlers' context with cancelConns, closes
// the connections left and returns.
func (s *Server) shutdown(cancelConns context.CancelFunc) {
	s.closing.Store(true)
	s.mu.Lock()
	if s.ln != nil {
		s.ln.Close()
	}
	if s.tln != nil {
		s.tln.Close()
	}
	for c := range s.conns {
		c.interrupt()
	}
	s.mu.Unlock()

	done := make(chan struct{})
	go func() { s.wg.Wait(); close(done) }()
	timer := time.NewTimer(s.cfg.ShutdownTimeout)
	defer timer.Stop()
	select {
	case <-done:
		return
	case <-timer.C:
	}
	cancelConns()
	s.mu.Lock()
	n := len(s.conns)
	for c := range s.conns {
		c.kill()
	}
	s.mu.Unlock()
	s.log.Warn("shutdown timeout: closed busy connections", "connections", n)
}

// startLoops starts Config.IOLoops event loops, the first taking clients,
// and the balancer that puts the others to work under load.
func (s *Server) startLoops() error {
	loops := make([]*ioLoop, 0, s.cfg.IOLoops)
	for range s.cfg.IOLoops {
		lp, err := newLoop(s)
		if err != nil {
			for _, lp := range loops {
				lp.stop(nil)
			}
			return err
		}
		loops = append(loops, lp)
	}
	for _, lp := range loops {
		go lp.run()
	}
	stop := make(chan struct{})
	s.mu.Lock()
	s.loops, s.activeLoops, s.stopBalance = loops, 1, stop
	s.mu.Unlock()
	s.metrics.ioLoops.Set(1)
	if len(loops) > 1 && !s.noBalance {
		go s.balance(loops, stop)
	}
	return nil
}

// stopLoops stops the event loops, closing the clients they still hold
// (there are some only after a shutdown timeout), and waits for them.
func (s *Server) stopLoops() {
	s.mu.Lock()
	loops := s.loops
	s.loops = nil
	if s.stopBalance != nil {
		close(s.stopBalance)
		s.stopBalance = nil
	}
	s.mu.Unlock()
	for _, lp := range loops {
		lp.post(nil, msgStop)
	}
	for _, lp := range loops {
		<-lp.done
	}
}

// forEachConn calls fn for every connected client, under the server lock.
func (s *Server) forEachConn(fn func(c *Conn)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for c := range s.conns {
		fn(c)
	}
}
