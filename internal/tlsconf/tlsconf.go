package tlsconf

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"corral/internal/clock"
)

// ErrNoCertificate is returned by ServerConfig for a Reloader configured
// with a CA only.
var ErrNoCertificate = errors.New("tlsconf: no certificate configured (--tls-cert, --tls-key)")

// Config names the files a Reloader loads.
type Config struct {
	// CertFile and KeyFile are the PEM certificate (chain, leaf first) and
	// its private key. Both or neither; neither is only useful for a
	// client that verifies servers against CAFile and presents nothing.
	CertFile, KeyFile string
	// CAFile, when set, holds the PEM certificates of the CAs that sign
	// client certificates (a server then requires one) and the certificates
	// of other corral nodes (ClientConfig verifies against it).
	CAFile string
	// PollInterval is how often Watch checks the files for changes.
	// Default 10s.
	PollInterval time.Duration
	// Clock paces Watch; nil means the system clock. When it implements
	// AfterClock, Watch waits on it, so a test clock drives the polls.
	Clock clock.Clock
	// Logger receives reloads and their failures; nil discards them.
	Logger *slog.Logger
}

// AfterClock is a clock.Clock that can also wait; see Config.Clock.
type AfterClock interface {
	clock.Clock
	// After returns a channel that receives the time once d has passed on
	// this clock.
	After(d time.Duration) <-chan time.Time
}

// Validate reports every problem with the configuration at once. It does
// not read the files; New does.
func (c Config) Validate() error {
	var errs []error
	if (c.CertFile == "") != (c.KeyFile == "") {
		errs = append(errs, errors.New("tlsconf: a certificate and its key go together: set both --tls-cert and --tls-key"))
	}
	if c.CertFile == "" && c.CAFile == "" {
		errs = append(errs, errors.New("tlsconf: nothing to load: set --tls-cert and --tls-key, or --tls-ca"))
	}
	if c.PollInterval < 0 {
		errs = append(errs, fmt.Errorf("tlsconf: poll interval %v must not be negative", c.PollInterval))
	}
	return errors.Join(errs...)
}

// Reloader holds the current certificate and CA pool loaded from Config's
// files. All its methods are safe for concurrent use; the configurations
// it returns read its current state on every handshake.
type Reloader struct {
	cfg   Config
	clock clock.Clock
	log   *slog.Logger
	cur   atomic.Pointer[state]

	mu   sync.Mutex // serializes Reload and Check; guards seen
	seen [sha256.Size]byte
}

// state is one successful load.
type state struct {
	cert   *tls.Certificate // nil without CertFile
	pool   *x509.CertPool   // nil without CAFile
	server *tls.Config      // nil without cert
}

// New validates cfg and loads the files; it fails when they cannot be
// loaded.
func New(cfg Config) (*Reloader, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.PollInterval == 0 {
		cfg.PollInterval = 10 * time.Second
	}
	lg := cfg.Logger
	if lg == nil {
		lg = slog.New(slog.DiscardHandler)
	}
	r := &Reloader{cfg: cfg, clock: clock.Or(cfg.Clock), log: lg.With("component", "tls")}
	files, sum, err := r.read()
	if err != nil {
		return nil, err
	}
	st, err := r.build(files)
	if err != nil {
		return nil, err
	}
	r.seen = sum
	r.cur.Store(st)
	return r, nil
}

// files are the raw contents of the configured files.
type files struct{ cert, key, ca []byte }

// read reads every configured file and returns their contents with a
// digest of them all.
func (r *Reloader) read() (files, [sha256.Size]byte, error) {
	var f files
	var errs []error
	for _, x := range []struct {
		name string
		path string
		dst  *[]byte
	}{{"--tls-cert", r.cfg.CertFile, &f.cert}, {"--tls-key", r.cfg.KeyFile, &f.key}, {"--tls-ca", r.cfg.CAFile, &f.ca}} {
		if x.path == "" {
			continue
		}
		b, err := os.ReadFile(x.path)
		if err != nil {
			errs = append(errs, fmt.Errorf("tlsconf: %s: %w", x.name, err))
		}
		*x.dst = b
	}
	h := sha256.New()
	for _, b := range [][]byte{f.cert, f.key, f.ca} {
		fmt.Fprintf(h, "%d:", len(b))
		h.Write(b)
	}
	var sum [sha256.Size]byte
	h.Sum(sum[:0])
	return f, sum, errors.Join(errs...)
}

// build parses the files into a state.
func (r *Reloader) build(f files) (*state, error) {
	st := &state{}
	if r.cfg.CertFile != "" {
		cert, err := tls.X509KeyPair(f.cert, f.key)
		if err != nil {
			return nil, fmt.Errorf("tlsconf: --tls-cert %s with --tls-key %s: %w", r.cfg.CertFile, r.cfg.KeyFile, err)
		}
		st.cert = &cert
	}
	if r.cfg.CAFile != "" {
		st.pool = x509.NewCertPool()
		if !st.pool.AppendCertsFromPEM(f.ca) {
			return nil, fmt.Errorf("tlsconf: --tls-ca %s: no PEM certificate found", r.cfg.CAFile)
		}
	}
	if st.cert != nil {
		st.server = &tls.Config{
			MinVersion:   tls.VersionTLS12,
			Certificates: []tls.Certificate{*st.cert},
		}
		if st.pool != nil {
			st.server.ClientCAs = st.pool
			st.server.ClientAuth = tls.RequireAndVerifyClientCert
		}
	}
	return st, nil
}

// Reload re-reads the files now. On error the previous certificate and CA
// pool stay in use and the error, naming the file, is returned and logged.
func (r *Reloader) Reload() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.applyLocked(r.read())
}

// applyLocked installs what read returned, or logs and returns why it
// cannot.
func (r *Reloader) applyLocked(f files, sum [sha256.Size]byte, err error) error {
	r.seen = sum
	var st *state
	if err == nil {
		st, err = r.build(f)
	}
	if err != nil {
		r.log.Error("TLS reload failed; keeping the previous certificate", "err", err)
		return err
	}
	r.cur.Store(st)
	attrs := []any{"cert", r.cfg.CertFile, "ca", r.cfg.CAFile}
	if leaf := st.leaf(); leaf != nil {
		attrs = append(attrs, "serial", leaf.SerialNumber.String(), "not_after", leaf.NotAfter)
	}
	r.log.Info("TLS certificates loaded", attrs...)
	return nil
}

// leaf returns the parsed leaf certificate, or nil.
func (st *state) leaf() *x509.Certificate {
	if st.cert == nil {
		return nil
	}
	return st.cert.Leaf // tls.X509KeyPair fills it in
}

// Check reloads when the files' contents changed since the last load or
// attempt, and reports whether it tried. A failed attempt is not retried
// until the files change again.
func (r *Reloader) Check() (bool, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	f, sum, err := r.read()
	if sum == r.seen {
		return false, nil // unchanged, or still the same broken state
	}
	return true, r.applyLocked(f, sum, err)
}

// Watch calls Check every PollInterval until ctx is done; it returns
// ctx.Err(). Failures are logged (by Reload) and do not stop it.
func (r *Reloader) Watch(ctx context.Context) error {
	for {
		if err := r.wait(ctx); err != nil {
			return err
		}
		_, _ = r.Check()
	}
}

// wait waits one PollInterval on the clock.
func (r *Reloader) wait(ctx context.Context) error {
	var fired <-chan time.Time
	if ac, ok := r.clock.(AfterClock); ok {
		fired = ac.After(r.cfg.PollInterval)
	} else {
		t := time.NewTimer(r.cfg.PollInterval)
		defer t.Stop()
		fired = t.C
	}
	select {
	case <-fired:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Leaf returns the current certificate's leaf, or nil without one.
func (r *Reloader) Leaf() *x509.Certificate { return r.cur.Load().leaf() }

// HasCA reports whether a CA is configured: servers then require client
// certificates, and corral nodes can verify each other.
func (r *Reloader) HasCA() bool { return r.cfg.CAFile != "" }

// ServerConfig returns a server configuration that serves the current
// certificate, with TLS 1.2 or later, and requires a client certificate
// signed by the current CA when one is configured.
func (r *Reloader) ServerConfig() (*tls.Config, error) {
	if r.cfg.CertFile == "" {
		return nil, ErrNoCertificate
	}
	return &tls.Config{
		MinVersion: tls.VersionTLS12,
		GetConfigForClient: func(*tls.ClientHelloInfo) (*tls.Config, error) {
			return r.cur.Load().server, nil
		},
	}, nil
}

// ClientConfig returns a client configuration for connections to other
// corral nodes or to an upstream: TLS 1.2 or later, the current
// certificate presented when the server asks for one, and the server's
// chain verified against the current CA (the system roots without one).
//
// With checkName false the server's name is not checked: store nodes are
// dialed at pod IPs their certificates rarely name, so a node is trusted
// for holding a certificate the cluster's CA signed. That CA must then be
// the cluster's own. With checkName true the certificate must also be
// valid for the server name the connection dials (its host, or
// tls.Config.ServerName), as for an --upstream rediss:// URL.
func (r *Reloader) ClientConfig(checkName bool) *tls.Config {
	return &tls.Config{
		MinVersion: tls.VersionTLS12,
		// The standard verification reads a fixed RootCAs; VerifyConnection
		// below verifies against the current pool instead, so a reloaded
		// CA applies to the next connection.
		InsecureSkipVerify: true,
		GetClientCertificate: func(*tls.CertificateRequestInfo) (*tls.Certificate, error) {
			if c := r.cur.Load().cert; c != nil {
				return c, nil
			}
			return &tls.Certificate{}, nil // none: the server decides
		},
		VerifyConnection: func(cs tls.ConnectionState) error {
			return r.verifyServer(cs, checkName)
		},
	}
}

// verifyServer verifies a server's certificate chain against the current
// pool, and its name when checkName.
func (r *Reloader) verifyServer(cs tls.ConnectionState, checkName bool) error {
	if len(cs.PeerCertificates) == 0 {
		return errors.New("tlsconf: the server presented no certificate")
	}
	opts := x509.VerifyOptions{
		Roots:         r.cur.Load().pool,
		Intermediates: x509.NewCertPool(),
		KeyUsages:     []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	if checkName {
		opts.DNSName = cs.ServerName
	}
	for _, c := range cs.PeerCertificates[1:] {
		opts.Intermediates.AddCert(c)
	}
	if _, err := cs.PeerCertificates[0].Verify(opts); err != nil {
		return fmt.Errorf("tlsconf: server certificate: %w", err)
	}
	return nil
}
