package admin

import (
	"bytes"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/pprof"

	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Bodies of the probe and drain replies, part of the contract with
// Kubernetes manifests and scripts.
const (
	bodyReady     = "ready\n"
	bodyNotReady  = "not ready\n"
	bodyAlive     = "alive\n"
	bodyNotAlive  = "not alive\n"
	bodyDraining  = "draining\n"
	bodyEndpoints = "/metrics /ready /alive /drain /status /debug/pprof/\n"
)

// routes builds the server's own mux.
func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", s.handleIndex)
	mux.Handle("GET /metrics", s.metricsHandler())
	mux.HandleFunc("GET /ready", s.handleReady)
	mux.HandleFunc("GET /alive", s.handleAlive)
	mux.HandleFunc("GET /drain", s.handleDrain)
	mux.HandleFunc("POST /drain", s.handleDrain)
	mux.HandleFunc("GET /status", s.handleStatus)

	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	return mux
}

// text writes a text/plain reply that caches must not keep.
func text(w http.ResponseWriter, code int, body string) {
	h := w.Header()
	h.Set("Content-Type", "text/plain; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(code)
	_, _ = io.WriteString(w, body)
}

func (s *Server) handleIndex(w http.ResponseWriter, _ *http.Request) {
	text(w, http.StatusOK, "corral admin\n"+bodyEndpoints)
}

func (s *Server) metricsHandler() http.Handler {
	if s.cfg.Gatherer == nil {
		return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			text(w, http.StatusNotImplemented, "metrics not configured\n")
		})
	}
	return promhttp.HandlerFor(s.cfg.Gatherer, promhttp.HandlerOpts{
		ErrorLog:      slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
		ErrorHandling: promhttp.ContinueOnError,
	})
}

// ready and alive evaluate the probe callbacks; nil means true.
func (s *Server) ready() bool { return s.cfg.Ready == nil || s.cfg.Ready() }
func (s *Server) alive() bool { return s.cfg.Alive == nil || s.cfg.Alive() }

func (s *Server) handleReady(w http.ResponseWriter, _ *http.Request) {
	if s.ready() {
		text(w, http.StatusOK, bodyReady)
		return
	}
	text(w, http.StatusServiceUnavailable, bodyNotReady)
}

func (s *Server) handleAlive(w http.ResponseWriter, _ *http.Request) {
	if s.alive() {
		text(w, http.StatusOK, bodyAlive)
		return
	}
	text(w, http.StatusServiceUnavailable, bodyNotAlive)
}

func (s *Server) handleDrain(w http.ResponseWriter, r *http.Request) {
	if s.cfg.Drain == nil {
		text(w, http.StatusNotImplemented, "drain not supported\n")
		return
	}
	s.drainOnce.Do(func() {
		s.log.Info("drain requested", "method", r.Method, "remote", r.RemoteAddr)
		s.draining.Store(true)
		s.cfg.Drain()
	})
	text(w, http.StatusOK, bodyDraining)
}

func (s *Server) handleStatus(w http.ResponseWriter, _ *http.Request) {
	var buf bytes.Buffer
	if s.cfg.Status != nil {
		s.cfg.Status(&buf)
	} else {
		fmt.Fprintf(&buf, "corral\nready: %t\nalive: %t\ndraining: %t\nendpoints: %s",
			s.ready(), s.alive(), s.Draining(), bodyEndpoints)
	}
	text(w, http.StatusOK, buf.String())
}
