package admin

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
)

// ErrAlreadyListening is returned by a second call to Listen.
var ErrAlreadyListening = errors.New("admin: already listening")

// ErrAlreadyRun is returned by a second call to Run.
var ErrAlreadyRun = errors.New("admin: Run called more than once")

// Server is the admin HTTP server. Build it with New, then call Run (and
// Listen first when the bound address is needed before serving). Its
// methods are safe for concurrent use.
type Server struct {
	cfg     Config
	log     *slog.Logger
	handler http.Handler

	drainOnce sync.Once   // runs cfg.Drain
	draining  atomic.Bool // set once Drain has been requested

	listening chan struct{} // closed by a successful Listen

	mu  sync.Mutex   // guards ln and ran
	ln  net.Listener // nil until Listen, and always nil when disabled
	ran bool
}

// New validates cfg and returns a Server that has not started listening.
func New(cfg Config) (*Server, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.ShutdownTimeout == 0 {
		cfg.ShutdownTimeout = DefaultShutdownTimeout
	}
	if cfg.ReadHeaderTimeout == 0 {
		cfg.ReadHeaderTimeout = DefaultReadHeaderTimeout
	}
	lg := cfg.Logger
	if lg == nil {
		lg = slog.New(slog.DiscardHandler)
	}
	s := &Server{
		cfg:       cfg,
		log:       lg.With("component", "admin"),
		listening: make(chan struct{}),
	}
	s.handler = s.routes()
	return s, nil
}

// Handler returns the server's handler, for tests with net/http/httptest or
// for mounting under another server.
func (s *Server) Handler() http.Handler { return s.handler }

// Listen binds Config.Addr without serving yet, so that Addr is known before
// Run is called. With Addr "" it binds nothing and succeeds. Run calls it
// when it has not been called.
func (s *Server) Listen() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	select {
	case <-s.listening:
		return ErrAlreadyListening
	default:
	}
	if s.cfg.Addr != "" {
		ln, err := net.Listen("tcp", s.cfg.Addr)
		if err != nil {
			return fmt.Errorf("admin: listen %s: %w", s.cfg.Addr, err)
		}
		s.ln = ln
		s.log.Info("admin listening", "addr", ln.Addr().String())
	}
	close(s.listening)
	return nil
}

// Listening returns a channel closed once the server has bound its address
// (or, when disabled, once Listen or Run has been called).
func (s *Server) Listening() <-chan struct{} { return s.listening }

// Addr returns the bound address, for example "[::]:9121" or
// "127.0.0.1:41234" for a ":0" request; "" before Listen and when disabled.
func (s *Server) Addr() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ln == nil {
		return ""
	}
	return s.ln.Addr().String()
}

// Draining reports whether /drain has been requested.
func (s *Server) Draining() bool { return s.draining.Load() }

// Run serves until ctx is done, then shuts down gracefully: it stops
// accepting, cancels the contexts of requests in progress and waits for them
// for at most Config.ShutdownTimeout before closing what is left. It returns
// nil after a shutdown caused by ctx, and an error when listening or serving
// fails. When disabled (Addr ""), Run just waits for ctx. Run may be called
// once.
func (s *Server) Run(ctx context.Context) error {
	s.mu.Lock()
	if s.ran {
		s.mu.Unlock()
		return ErrAlreadyRun
	}
	s.ran = true
	s.mu.Unlock()

	if err := s.Listen(); err != nil && !errors.Is(err, ErrAlreadyListening) {
		return err
	}
	s.mu.Lock()
	ln := s.ln
	s.mu.Unlock()
	if ln == nil {
		<-ctx.Done()
		return nil
	}

	srv := &http.Server{
		Handler:           s.handler,
		ReadHeaderTimeout: s.cfg.ReadHeaderTimeout,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
		BaseContext:       func(net.Listener) context.Context { return ctx },
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()

	select {
	case err := <-served:
		return fmt.Errorf("admin: serve %s: %w", ln.Addr(), err)
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.cfg.ShutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		s.log.Warn("admin shutdown not graceful, closing connections", "err", err)
		_ = srv.Close()
	}
	if err := <-served; !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("admin: serve %s: %w", ln.Addr(), err)
	}
	s.log.Info("admin stopped")
	return nil
}
