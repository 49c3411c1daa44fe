package server

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"time"
)

// defaultTLSHandshakeTimeout is Config.TLSHandshakeTimeout's default.
const defaultTLSHandshakeTimeout = 10 * time.Second

// validateTLS reports the problems of the TLS fields.
func (c Config) validateTLS() []error {
	var errs []error
	if c.TLSAddr != "" && c.TLS == nil {
		errs = append(errs, errors.New("server: a TLS listen address needs a TLS configuration (--tls-cert, --tls-key)"))
	}
	if c.TLSAddr == "" && c.TLS != nil {
		errs = append(errs, errors.New("server: a TLS configuration without a TLS listen address (--tls-listen)"))
	}
	if c.TLS != nil && c.TLS.MinVersion != 0 && c.TLS.MinVersion < tls.VersionTLS12 {
		errs = append(errs, fmt.Errorf("server: TLS minimum version %#x is below TLS 1.2", c.TLS.MinVersion))
	}
	if c.TLSHandshakeTimeout < 0 {
		errs = append(errs, fmt.Errorf("server: TLS handshake timeout %v must not be negative", c.TLSHandshakeTimeout))
	}
	return errs
}

// tlsConfig returns the TLS configuration listeners use: Config.TLS with
// TLS 1.2 as the floor.
func (c Config) tlsConfig() *tls.Config {
	tc := c.TLS.Clone()
	if tc.MinVersion < tls.VersionTLS12 {
		tc.MinVersion = tls.VersionTLS12
	}
	return tc
}

// handshake completes a TLS client's handshake on its own goroutine,
// bounded by TLSHandshakeTimeout and by a shutdown (which sets a past read
// deadline on the connection). A client that fails or stalls is counted
// (corral_rejected_connections_total{reason="tls_handshake"}), logged at
// debug, unregistered and closed; handshake then reports false.
func (s *Server) handshake(c *Conn, tc *tls.Conn) bool {
	d := s.cfg.TLSHandshakeTimeout
	if d == 0 {
		d = defaultTLSHandshakeTimeout
	}
	ctx, cancel := context.WithTimeout(c.ctx, d)
	defer cancel()
	err := tc.HandshakeContext(ctx)
	if err == nil {
		return true
	}
	if !s.closing.Load() {
		s.metrics.rejected.WithLabelValues("tls_handshake").Inc()
		s.log.Debug("TLS handshake failed; connection closed", "client", c.addr, "err", err)
	}
	s.unregister(c)
	tc.Close()
	return false
}
