package server_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"net"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"
	"github.com/redis/go-redis/v9/maintnotifications"

	"corral/internal/server"
	"corral/internal/testkit"
	"corral/internal/tlsconf"
)

// tlsFixture is a CA with a server and a client certificate.
type tlsFixture struct {
	dir            string
	ca             *testkit.CA
	server, client testkit.CertFiles
}

func newTLSFixture(t *testing.T) *tlsFixture {
	t.Helper()
	dir := t.TempDir()
	ca := testkit.NewCA(t, dir, "test")
	return &tlsFixture{dir: dir, ca: ca, server: ca.Issue(t, dir, "server"), client: ca.Issue(t, dir, "client")}
}

// startTLSServer serves plaintext on one port and TLS on another with the
// fixture's certificate (and, with mtls, its CA for client certificates).
func startTLSServer(t *testing.T, f *tlsFixture, mtls bool, edit func(*server.Config)) *testServer {
	t.Helper()
	cfg := tlsconf.Config{CertFile: f.server.Cert, KeyFile: f.server.Key}
	if mtls {
		cfg.CAFile = f.ca.File
	}
	r, err := tlsconf.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	sc, err := r.ServerConfig()
	if err != nil {
		t.Fatal(err)
	}
	return startServer(t, newRecordingHandler(), func(c *server.Config) {
		c.TLSAddr = "127.0.0.1:0"
		c.TLS = sc
		if edit != nil {
			edit(c)
		}
	})
}

// clientTLS returns a client configuration trusting the fixture's CA and
// presenting files (none when nil).
func (f *tlsFixture) clientTLS(files *testkit.CertFiles) *tls.Config {
	cc := &tls.Config{RootCAs: mustPool(f.ca), ServerName: "localhost", MinVersion: tls.VersionTLS12}
	if files != nil {
		cert, err := tls.LoadX509KeyPair(files.Cert, files.Key)
		if err != nil {
			panic(err) // the fixture wrote these files
		}
		cc.Certificates = []tls.Certificate{cert}
	}
	return cc
}

func mustPool(ca *testkit.CA) *x509.CertPool {
	p := x509.NewCertPool()
	p.AddCert(ca.Cert)
	return p
}

func goRedisTLS(t *testing.T, addr string, cc *tls.Config) *redis.Client {
	c := redis.NewClient(&redis.Options{
		Addr: addr, TLSConfig: cc, Protocol: 2, DisableIdentity: true, MaxRetries: -1,
		MaintNotificationsConfig: &maintnotifications.Config{Mode: maintnotifications.ModeDisabled},
	})
	t.Cleanup(func() { c.Close() })
	return c
}

func TestTLSGoRedis(t *testing.T) {
	f := newTLSFixture(t)
	ts := startTLSServer(t, f, false, nil)
	tlsAddr := ts.srv.TLSAddr()
	ctx := context.Background()
	c := goRedisTLS(t, tlsAddr, f.clientTLS(nil))
	if got, err := c.Ping(ctx).Result(); err != nil || got != "PONG" {
		t.Fatalf("PING over TLS = %q, %v", got, err)
	}
	if err := c.Set(ctx, "k", "over tls", 0).Err(); err != nil {
		t.Fatalf("SET over TLS: %v", err)
	}
	if got, err := c.Get(ctx, "k").Result(); err != nil || got != "over tls" {
		t.Fatalf("GET over TLS = %q, %v", got, err)
	}
	// The plaintext port serves the same data, and CLIENT LIST shows the
	// clients of both.
	plain := testkit.Dial(t, ts.addr)
	if got := plain.Do("GET", "k"); got != "$8\r\nover tls\r\n" {
		t.Fatalf("GET on the plaintext port = %q", got)
	}
	list := plain.Do("CLIENT", "LIST")
	_, tlsPort, _ := net.SplitHostPort(tlsAddr)
	if !strings.Contains(list, ":"+tlsPort+" ") || strings.Count(list, "id=") != 2 {
		t.Errorf("CLIENT LIST does not show the TLS client:\n%s", list)
	}
	if n := ts.srv.Clients(); n != 2 {
		t.Errorf("Clients() = %d, want 2", n)
	}
}

func TestTLSOnly(t *testing.T) {
	f := newTLSFixture(t)
	ts := startTLSServer(t, f, false, func(c *server.Config) { c.Addr = "" })
	if ts.srv.Addr() != "" {
		t.Errorf("Addr() = %q without a plaintext listener", ts.srv.Addr())
	}
	if got, err := goRedisTLS(t, ts.srv.TLSAddr(), f.clientTLS(nil)).Ping(context.Background()).Result(); err != nil || got != "PONG" {
		t.Fatalf("PING = %q, %v", got, err)
	}
}

func TestTLSConfigValidation(t *testing.T) {
	for _, tc := range []struct {
		name string
		edit func(*server.Config)
		want string
	}{
		{"TLS address without config", func(c *server.Config) { c.TLSAddr = ":0" }, "needs a TLS configuration"},
		{"config without address", func(c *server.Config) { c.TLS = &tls.Config{} }, "without a TLS listen address"},
		{"TLS 1.0", func(c *server.Config) { c.TLSAddr, c.TLS = ":0", &tls.Config{MinVersion: tls.VersionTLS10} }, "below TLS 1.2"},
		{"no listener at all", func(c *server.Config) { c.Addr = "" }, "listen address is empty"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := server.DefaultConfig()
			tc.edit(&cfg)
			if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Validate = %v, want %q", err, tc.want)
			}
		})
	}
}

// handshakeFails dials addr with cc and reports whether the TLS session
// failed before a PING was answered (with TLS 1.3 a refused client
// certificate shows on the first read, not in the handshake).
func handshakeFails(addr string, cc *tls.Config) bool {
	nc, err := tls.DialWithDialer(&net.Dialer{Timeout: waitTimeout}, "tcp", addr, cc)
	if err != nil {
		return true
	}
	defer nc.Close()
	_ = nc.SetDeadline(time.Now().Add(waitTimeout))
	if _, err := nc.Write([]byte("PING\r\n")); err != nil {
		return true
	}
	buf := make([]byte, 7)
	n, err := nc.Read(buf)
	return err != nil || string(buf[:n]) != "+PONG\r\n"
}

func TestMutualTLSRejections(t *testing.T) {
	f := newTLSFixture(t)
	reg := prometheus.NewRegistry()
	ts := startTLSServer(t, f, true, func(c *server.Config) { c.Registerer = reg })
	addr := ts.srv.TLSAddr()
	stranger := testkit.NewCA(t, f.dir, "other").Issue(t, f.dir, "stranger")

	if !handshakeFails(addr, f.clientTLS(nil)) {
		t.Error("a client without a certificate was served")
	}
	if !handshakeFails(addr, f.clientTLS(&stranger)) {
		t.Error("a client with another CA's certificate was served")
	}
	if handshakeFails(addr, f.clientTLS(&f.client)) {
		t.Error("a client with the CA's certificate was refused")
	}
	old := f.clientTLS(&f.client)
	old.MinVersion, old.MaxVersion = tls.VersionTLS10, tls.VersionTLS11
	if !handshakeFails(addr, old) {
		t.Error("a TLS 1.1 client was served")
	}
	rejected := func() float64 {
		return metricValue(t, reg, "corral_rejected_connections_total", map[string]string{"role": "proxy", "reason": "tls_handshake"})
	}
	testkit.Eventually(t, func() bool { return rejected() == 3 }, waitTimeout, "3 handshake rejections counted, have %v", rejected())
	// The plaintext port needs no certificate; the TLS port refuses
	// plaintext.
	expectServing(t, ts.addr)
	if reply, closed := exchange(t, addr, "PING\r\n", waitTimeout); !closed || strings.Contains(reply, "PONG") {
		t.Errorf("plaintext PING on the TLS port = %q (closed %v)", reply, closed)
	}
	testkit.Eventually(t, func() bool { return ts.srv.Clients() == 0 }, waitTimeout, "rejected clients to leave")
}

// TestStalledHandshakeDoesNotBlockOthers opens raw TCP connections to the
// TLS port that never send a ClientHello: other clients are served
// meanwhile, and the stalled ones are closed by the handshake timeout.
func TestStalledHandshakeDoesNotBlockOthers(t *testing.T) {
	f := newTLSFixture(t)
	ts := startTLSServer(t, f, false, func(c *server.Config) { c.TLSHandshakeTimeout = 200 * time.Millisecond })
	addr := ts.srv.TLSAddr()
	var stalled []net.Conn
	for range 3 {
		nc, err := net.DialTimeout("tcp", addr, waitTimeout)
		if err != nil {
			t.Fatal(err)
		}
		defer nc.Close()
		stalled = append(stalled, nc)
	}
	c := goRedisTLS(t, addr, f.clientTLS(nil))
	if got, err := c.Ping(context.Background()).Result(); err != nil || got != "PONG" {
		t.Fatalf("PING while others stall in the handshake = %q, %v", got, err)
	}
	expectServing(t, ts.addr)
	for _, nc := range stalled {
		if _, closed := readUntilClosed(t, nc, waitTimeout); !closed {
			t.Error("a stalled handshake was not closed")
		}
	}
}

// TestTLSSharesMaxClients: plaintext and TLS clients count against one
// maxclients.
func TestTLSSharesMaxClients(t *testing.T) {
	f := newTLSFixture(t)
	ts := startTLSServer(t, f, false, func(c *server.Config) { c.MaxClients = 1 })
	plain := testkit.Dial(t, ts.addr)
	if got := plain.Do("PING"); got != "+PONG\r\n" {
		t.Fatalf("PING = %q", got)
	}
	if !handshakeFails(ts.srv.TLSAddr(), f.clientTLS(nil)) {
		t.Error("a TLS client beyond maxclients was served")
	}
	plain.Close()
	testkit.Eventually(t, func() bool { return ts.srv.Clients() == 0 }, waitTimeout, "the plaintext client to leave")
	if handshakeFails(ts.srv.TLSAddr(), f.clientTLS(nil)) {
		t.Error("a TLS client within maxclients was refused")
	}
}

// TestRedisCLITLS runs redis-cli --tls against the TLS port, with and
// without a client certificate.
func TestRedisCLITLS(t *testing.T) {
	cli := testkit.RedisBin(t, "redis-cli")
	if out, _ := exec.Command(cli, "--help").CombinedOutput(); !strings.Contains(string(out), "--cacert") {
		t.Skip("this redis-cli was built without TLS (no --cacert in redis-cli --help)")
	}
	f := newTLSFixture(t)
	run := func(addr string, args ...string) (string, error) {
		host, port, _ := net.SplitHostPort(addr)
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		out, err := exec.CommandContext(ctx, cli, append([]string{"-h", host, "-p", port, "--tls", "--cacert", f.ca.File}, args...)...).CombinedOutput()
		return strings.TrimSpace(string(out)), err
	}
	ts := startTLSServer(t, f, false, nil)
	if out, err := run(ts.srv.TLSAddr(), "SET", "k", "v"); err != nil || out != "OK" {
		t.Fatalf("redis-cli --tls SET = %q, %v", out, err)
	}
	if out, err := run(ts.srv.TLSAddr(), "GET", "k"); err != nil || out != "v" {
		t.Fatalf("redis-cli --tls GET = %q, %v", out, err)
	}

	mtls := startTLSServer(t, f, true, nil)
	if out, err := run(mtls.srv.TLSAddr(), "--cert", f.client.Cert, "--key", f.client.Key, "PING"); err != nil || out != "PONG" {
		t.Fatalf("redis-cli --tls --cert PING = %q, %v", out, err)
	}
	if out, _ := run(mtls.srv.TLSAddr(), "PING"); out == "PONG" {
		t.Error("redis-cli without a client certificate was served by an mTLS port")
	}
}
