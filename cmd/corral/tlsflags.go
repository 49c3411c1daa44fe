package main

import (
	"context"
	"crypto/tls"
	"errors"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"

	"corral/internal/server"
	"corral/internal/tlsconf"
)

// tlsFlags are --tls-listen, --tls-cert, --tls-key and --tls-ca.
type tlsFlags struct {
	listen, cert, key, ca string
}

func (f *flags) tlsKnobs(t *tlsFlags) {
	f.StringVar(&t.listen, "tls-listen", "", "RESP-over-TLS `address` clients connect to (e.g. :6380), served beside --listen; TLS 1.2 or later. With it, --listen \"\" or 0 turns the plaintext port off")
	f.StringVar(&t.cert, "tls-cert", "", "PEM certificate `file` (chain, leaf first) for --tls-listen and, with --tls-ca, for connections to other corral nodes; reloaded on SIGHUP and when it changes")
	f.StringVar(&t.key, "tls-key", "", "PEM private key `file` of --tls-cert")
	f.StringVar(&t.ca, "tls-ca", "", "PEM CA `file`: clients of --tls-listen must present a certificate it signed (mTLS), and nodes dial each other's TLS ports verifying against it (names are not checked: use a CA of the cluster's own)")
}

// any reports whether a TLS flag was given.
func (t *tlsFlags) any() bool { return t.listen != "" || t.cert != "" || t.key != "" || t.ca != "" }

// load checks the flags and loads the files; nil without TLS flags.
func (t *tlsFlags) load(lg *slog.Logger) (*tlsconf.Reloader, error) {
	if !t.any() {
		return nil, nil
	}
	var errs []error
	if t.listen != "" && (t.cert == "" || t.key == "") {
		errs = append(errs, errors.New("--tls-listen needs --tls-cert and --tls-key"))
	}
	if (t.cert == "") != (t.key == "") {
		errs = append(errs, errors.New("--tls-cert and --tls-key go together"))
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	r, err := tlsconf.New(tlsconf.Config{CertFile: t.cert, KeyFile: t.key, CAFile: t.ca, Logger: lg})
	if err != nil {
		return nil, errors.New(strings.TrimPrefix(err.Error(), "tlsconf: "))
	}
	return r, nil
}

// plainListen maps --listen "0" (Redis's port 0) to "": no plaintext port.
func plainListen(listen string) string {
	if listen == "0" {
		return ""
	}
	return listen
}

// applyServer adds the TLS listener to s.
func (t *tlsFlags) applyServer(s *server.Config, r *tlsconf.Reloader) error {
	s.Addr = plainListen(s.Addr)
	if t.listen == "" {
		if s.Addr == "" {
			return errors.New("--listen is empty: give an address, or --tls-listen to serve TLS only")
		}
		return nil
	}
	sc, err := r.ServerConfig()
	if err != nil {
		return err
	}
	s.TLSAddr, s.TLS = t.listen, sc
	return nil
}

// internalTLS returns the client TLS configuration for connections to
// other corral nodes: with a certificate and a CA, mutual TLS verified
// against the CA, names unchecked (nodes are dialed at pod IPs); else nil,
// plaintext.
func internalTLS(r *tlsconf.Reloader) *tls.Config {
	if r == nil || !r.HasCA() || r.Leaf() == nil {
		return nil
	}
	return r.ClientConfig(false)
}

// reloadRole reloads the certificates on SIGHUP and when the files change.
type reloadRole struct {
	r   *tlsconf.Reloader
	hup chan os.Signal
}

func newReloadRole(r *tlsconf.Reloader) *reloadRole {
	return &reloadRole{r: r, hup: make(chan os.Signal, 1)}
}

// Listen starts catching SIGHUP, before the process reports it started.
func (rr *reloadRole) Listen() error {
	signal.Notify(rr.hup, syscall.SIGHUP)
	return nil
}

// Run reloads on SIGHUP and polls the files until ctx is done. A failed
// reload is logged and keeps the previous certificate.
func (rr *reloadRole) Run(ctx context.Context) error {
	defer signal.Stop(rr.hup)
	var wg sync.WaitGroup
	defer wg.Wait()
	wg.Go(func() { _ = rr.r.Watch(ctx) })
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-rr.hup:
			_ = rr.r.Reload()
		}
	}
}
