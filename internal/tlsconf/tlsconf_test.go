package tlsconf

import (
	"bytes"
	"context"
	"crypto/tls"
	"io"
	"log/slog"
	"math/big"
	"net"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"corral/internal/clock"
	"corral/internal/testkit"
)

// afterClock is a clock.Fake whose After fires on Advance.
type afterClock struct {
	*clock.Fake
	mu      sync.Mutex // guards waiters
	waiters []waiter
}

type waiter struct {
	at time.Time
	ch chan time.Time
}

func newAfterClock() *afterClock { return &afterClock{Fake: clock.NewFake(time.Unix(1e9, 0))} }

func (c *afterClock) After(d time.Duration) <-chan time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	ch := make(chan time.Time, 1)
	c.waiters = append(c.waiters, waiter{c.Now().Add(d), ch})
	return ch
}

func (c *afterClock) Advance(d time.Duration) {
	c.Fake.Advance(d)
	now := c.Now()
	c.mu.Lock()
	defer c.mu.Unlock()
	kept := c.waiters[:0]
	for _, w := range c.waiters {
		if w.at.After(now) {
			kept = append(kept, w)
			continue
		}
		w.ch <- now
	}
	c.waiters = kept
}

// fixture is a CA, a server certificate and a client certificate in a
// temporary directory.
type fixture struct {
	dir            string
	ca             *testkit.CA
	server, client testkit.CertFiles
}

func newFixture(t *testing.T) *fixture {
	dir := t.TempDir()
	ca := testkit.NewCA(t, dir, "test")
	return &fixture{dir: dir, ca: ca, server: ca.Issue(t, dir, "server"), client: ca.Issue(t, dir, "client")}
}

// serve runs a TLS echo-less server with cfg that completes handshakes and
// returns its address.
func serve(t *testing.T, cfg *tls.Config) string {
	t.Helper()
	ln, err := tls.Listen("tcp", "127.0.0.1:0", cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				_ = c.SetDeadline(time.Now().Add(5 * time.Second))
				if err := c.(*tls.Conn).Handshake(); err == nil {
					c.Write([]byte("ok"))
				} else {
					t.Logf("server handshake: %v", err)
				}
			}()
		}
	}()
	return ln.Addr().String()
}

// dial handshakes with addr and returns the server's serial, or the error.
func dial(addr string, cfg *tls.Config) (*big.Int, error) {
	c, err := tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", addr, cfg)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	// With TLS 1.3 a refused client certificate shows on the first read.
	buf := make([]byte, 2)
	if _, err := io.ReadFull(c, buf); err != nil {
		return nil, err
	}
	return c.ConnectionState().PeerCertificates[0].SerialNumber, nil
}

func newReloader(t *testing.T, f *fixture, ca bool, clk clock.Clock) *Reloader {
	t.Helper()
	cfg := Config{CertFile: f.server.Cert, KeyFile: f.server.Key, Clock: clk, PollInterval: time.Second}
	if ca {
		cfg.CAFile = f.ca.File
	}
	r, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func serverAddr(t *testing.T, r *Reloader) string {
	t.Helper()
	sc, err := r.ServerConfig()
	if err != nil {
		t.Fatal(err)
	}
	return serve(t, sc)
}

func TestValidate(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  Config
		want string
	}{
		{"cert without key", Config{CertFile: "c"}, "--tls-key"},
		{"key without cert", Config{KeyFile: "k"}, "--tls-cert"},
		{"nothing", Config{}, "nothing to load"},
		{"negative interval", Config{CAFile: "ca", PollInterval: -1}, "negative"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.cfg.Validate()
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Validate = %v, want an error naming %q", err, tc.want)
			}
		})
	}
}

func TestNewRejectsBadFiles(t *testing.T) {
	f := newFixture(t)
	garbage := f.dir + "/garbage.pem"
	if err := os.WriteFile(garbage, []byte("not pem"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		cfg  Config
		want string
	}{
		{"missing cert", Config{CertFile: f.dir + "/nope.pem", KeyFile: f.server.Key}, "nope.pem"},
		{"key of another cert", Config{CertFile: f.server.Cert, KeyFile: f.client.Key}, "private key does not match"},
		{"bad PEM", Config{CertFile: garbage, KeyFile: f.server.Key}, "garbage.pem"},
		{"CA without certificates", Config{CertFile: f.server.Cert, KeyFile: f.server.Key, CAFile: garbage}, "--tls-ca"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := New(tc.cfg)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("New = %v, want an error naming %q", err, tc.want)
			}
		})
	}
}

func TestServerTLS12Minimum(t *testing.T) {
	f := newFixture(t)
	r := newReloader(t, f, false, nil)
	addr := serverAddr(t, r)
	cc := r.ClientConfig(true)
	cc.MaxVersion = tls.VersionTLS11
	cc.MinVersion = tls.VersionTLS10
	if _, err := dial(addr, cc); err == nil {
		t.Fatal("a TLS 1.1 client completed a handshake")
	}
	cc = &tls.Config{InsecureSkipVerify: true, MinVersion: tls.VersionTLS12, MaxVersion: tls.VersionTLS12}
	if _, err := dial(addr, cc); err != nil {
		t.Fatalf("TLS 1.2 client: %v", err)
	}
}

func TestMutualTLS(t *testing.T) {
	f := newFixture(t)
	r := newReloader(t, f, true, nil)
	addr := serverAddr(t, r)
	other := testkit.NewCA(t, f.dir, "other")
	stranger := other.Issue(t, f.dir, "stranger")

	clientWith := func(files *testkit.CertFiles) *Reloader {
		cfg := Config{CAFile: f.ca.File}
		if files != nil {
			cfg.CertFile, cfg.KeyFile = files.Cert, files.Key
		}
		c, err := New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	if _, err := dial(addr, clientWith(nil).ClientConfig(false)); err == nil {
		t.Error("a client without a certificate was accepted")
	}
	if _, err := dial(addr, clientWith(&stranger).ClientConfig(false)); err == nil {
		t.Error("a client with another CA's certificate was accepted")
	}
	if got, err := dial(addr, clientWith(&f.client).ClientConfig(false)); err != nil || got.Cmp(f.server.Serial) != 0 {
		t.Errorf("client of the CA: serial %v, %v; want %v", got, err, f.server.Serial)
	}
}

func TestClientConfigVerifiesServer(t *testing.T) {
	f := newFixture(t)
	other := testkit.NewCA(t, f.dir, "other")
	impostor := other.Issue(t, f.dir, "impostor")
	srv, err := New(Config{CertFile: impostor.Cert, KeyFile: impostor.Key})
	if err != nil {
		t.Fatal(err)
	}
	addr := serverAddr(t, srv)
	client := newReloader(t, f, true, nil) // trusts f.ca only
	for _, checkName := range []bool{false, true} {
		if _, err := dial(addr, client.ClientConfig(checkName)); err == nil {
			t.Errorf("checkName %v: a server with another CA's certificate was trusted", checkName)
		}
	}

	// Name checking: the certificate names 127.0.0.1 and localhost.
	good := serverAddr(t, newReloader(t, f, false, nil))
	cc := client.ClientConfig(true)
	cc.ServerName = "corral-store-0.example"
	if _, err := dial(good, cc); err == nil {
		t.Error("checkName: a certificate not naming the server was trusted")
	}
	cc = client.ClientConfig(false)
	cc.ServerName = "corral-store-0.example"
	if _, err := dial(good, cc); err != nil {
		t.Errorf("without checkName, a certificate of the CA: %v", err)
	}
}

func TestReloadAndWatch(t *testing.T) {
	f := newFixture(t)
	clk := newAfterClock()
	var logs bytes.Buffer
	var logMu sync.Mutex
	cfg := Config{CertFile: f.server.Cert, KeyFile: f.server.Key, Clock: clk, PollInterval: time.Second,
		Logger: slog.New(slog.NewTextHandler(&lockedWriter{&logMu, &logs}, nil))}
	r, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	addr := serverAddr(t, r)
	trust := &tls.Config{InsecureSkipVerify: true}
	serialIs := func(want *big.Int) func() bool {
		return func() bool {
			got, err := dial(addr, trust)
			return err == nil && got.Cmp(want) == 0
		}
	}
	if !serialIs(f.server.Serial)() {
		t.Fatal("the server does not serve its certificate")
	}

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.Watch(ctx) }()
	defer func() {
		cancel()
		if err := <-done; err != context.Canceled {
			t.Errorf("Watch = %v, want context.Canceled", err)
		}
	}()

	// A rotation the watch loop notices once the clock moves on.
	second := f.ca.Issue(t, f.dir, "server")
	testkit.Eventually(t, func() bool {
		clk.Advance(time.Second)
		return serialIs(second.Serial)()
	}, 10*time.Second, "the watch loop to load the rotated certificate")

	// A broken replacement: the certificate of another key. The old one
	// stays; Reload says why.
	third := f.ca.Issue(t, f.dir, "third")
	if err := os.Rename(third.Cert, f.server.Cert); err != nil {
		t.Fatal(err)
	}
	if err := r.Reload(); err == nil || !strings.Contains(err.Error(), "private key does not match") {
		t.Errorf("Reload of a mismatched pair = %v", err)
	}
	if tried, err := r.Check(); tried || err != nil {
		t.Errorf("Check of unchanged broken files = %v, %v; want no retry", tried, err)
	}
	clk.Advance(time.Second)
	if !serialIs(second.Serial)() {
		t.Error("a broken rotation replaced the served certificate")
	}
	// The missing key arrives: Reload (what SIGHUP calls) picks the pair up.
	if err := os.Rename(third.Key, f.server.Key); err != nil {
		t.Fatal(err)
	}
	if err := r.Reload(); err != nil {
		t.Fatalf("Reload: %v", err)
	}
	if !serialIs(third.Serial)() {
		t.Error("Reload did not serve the new certificate")
	}
	if r.Leaf().SerialNumber.Cmp(third.Serial) != 0 {
		t.Errorf("Leaf serial %v, want %v", r.Leaf().SerialNumber, third.Serial)
	}
	logMu.Lock()
	defer logMu.Unlock()
	if !strings.Contains(logs.String(), "keeping the previous certificate") {
		t.Errorf("no log of the failed reload:\n%s", logs.String())
	}
}

type lockedWriter struct {
	mu *sync.Mutex
	w  *bytes.Buffer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
