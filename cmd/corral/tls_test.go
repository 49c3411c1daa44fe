package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"math/big"
	"net"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"corral/internal/testkit"
)

func TestTLSFlagErrorsExit2(t *testing.T) {
	dir := t.TempDir()
	ca := testkit.NewCA(t, dir, "test")
	srv := ca.Issue(t, dir, "server")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"dev", "--tls-listen", "127.0.0.1:0"}, "--tls-listen needs --tls-cert and --tls-key"},
		{[]string{"dev", "--tls-listen", "127.0.0.1:0", "--tls-cert", srv.Cert}, "--tls-cert and --tls-key go together"},
		{[]string{"store", "--tls-listen", "127.0.0.1:0", "--tls-cert", dir + "/missing.pem", "--tls-key", srv.Key}, "missing.pem"},
		{[]string{"proxy", "--upstream", "redis://127.0.0.1:1", "--tls-listen", "127.0.0.1:0", "--tls-cert", srv.Cert, "--tls-key", srv.Key, "--tls-ca", srv.Key}, "--tls-ca"},
		{[]string{"dev", "--listen", ""}, "--listen is empty"},
		{[]string{"dev", "--listen", "0", "--tls-cert", srv.Cert, "--tls-key", srv.Key}, "--listen is empty"},
	} {
		err := run(context.Background(), tc.args, env(), io.Discard, io.Discard)
		var stderr bytes.Buffer
		if code := exitCode(err, &stderr); code != 2 || !strings.Contains(stderr.String(), tc.want) {
			t.Errorf("%v: exit %d, %q; want 2 naming %s", tc.args, code, stderr.String(), tc.want)
		}
	}
}

// tlsClient returns a client configuration trusting ca and presenting
// files, if given.
func tlsClient(t *testing.T, ca *testkit.CA, files *testkit.CertFiles) *tls.Config {
	t.Helper()
	pool := x509.NewCertPool()
	pool.AddCert(ca.Cert)
	cc := &tls.Config{RootCAs: pool, ServerName: "localhost", MinVersion: tls.VersionTLS12}
	if files != nil {
		cert, err := tls.LoadX509KeyPair(files.Cert, files.Key)
		if err != nil {
			t.Fatal(err)
		}
		cc.Certificates = []tls.Certificate{cert}
	}
	return cc
}

// servedSerial pings addr over TLS and returns the serial of the server's
// certificate, or an error.
func servedSerial(addr string, cc *tls.Config) (*big.Int, error) {
	nc, err := tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", addr, cc)
	if err != nil {
		return nil, err
	}
	defer nc.Close()
	_ = nc.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := nc.Write([]byte("PING\r\n")); err != nil {
		return nil, err
	}
	buf := make([]byte, 7)
	if _, err := io.ReadFull(nc, buf); err != nil {
		return nil, err
	}
	if string(buf) != "+PONG\r\n" {
		return nil, fmt.Errorf("PING = %q", buf)
	}
	return nc.ConnectionState().PeerCertificates[0].SerialNumber, nil
}

// TestDevTLSFromEnvironmentAndSIGHUP runs corral dev with mTLS configured
// through CORRAL_TLS_* variables and the plaintext port off: go-redis with
// a client certificate is served, a client without one is not, and
// SIGHUP loads a rotated certificate for the next handshake.
func TestDevTLSFromEnvironmentAndSIGHUP(t *testing.T) {
	dir := t.TempDir()
	ca := testkit.NewCA(t, dir, "test")
	srv := ca.Issue(t, dir, "server")
	cli := ca.Issue(t, dir, "client")
	addr := "127.0.0.1:" + strconv.Itoa(testkit.FreePort(t))
	getenv := env("CORRAL_TLS_LISTEN", addr, "CORRAL_TLS_CERT", srv.Cert, "CORRAL_TLS_KEY", srv.Key, "CORRAL_TLS_CA", ca.File)

	ctx, cancel := context.WithCancel(context.Background())
	started := make(chan struct{})
	ctx = context.WithValue(ctx, startedKey{}, startedFunc(func(string, string) { close(started) }))
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"dev", "--listen", "0", "--admin", "", "--log-level", "error"}, getenv, io.Discard, io.Discard)
	}()
	defer func() {
		cancel()
		waitRoles(t, done)
	}()
	select {
	case <-started:
	case err := <-done:
		t.Fatalf("dev exited: %v", err)
	case <-time.After(20 * time.Second):
		t.Fatal("dev did not start within 20s")
	}

	c := redis.NewClient(&redis.Options{Addr: addr, TLSConfig: tlsClient(t, ca, &cli), MaxRetries: -1})
	defer c.Close()
	if err := c.Set(ctx, "k", "v", 0).Err(); err != nil {
		t.Fatalf("SET over mTLS: %v", err)
	}
	if v, err := c.Get(ctx, "k").Result(); err != nil || v != "v" {
		t.Fatalf("GET over mTLS = %q, %v", v, err)
	}
	if _, err := servedSerial(addr, tlsClient(t, ca, nil)); err == nil {
		t.Error("a client without a certificate was served")
	}

	rotated := ca.Issue(t, dir, "server")
	if err := syscall.Kill(os.Getpid(), syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	testkit.Eventually(t, func() bool {
		got, err := servedSerial(addr, tlsClient(t, ca, &cli))
		return err == nil && got.Cmp(rotated.Serial) == 0
	}, 10*time.Second, "the rotated certificate to be served after SIGHUP")
}

// TestTLSCluster runs two stores that serve TLS only (--listen 0) with
// mTLS, and a proxy routing to them by --seeds: clients reach the proxy
// over mTLS, the proxy reaches the stores over mTLS, and the stores
// replicate to each other over mTLS (they have no other port). Plaintext
// and certificate-less clients are refused by the stores.
func TestTLSCluster(t *testing.T) {
	dir := t.TempDir()
	ca := testkit.NewCA(t, dir, "cluster")
	ctx, cancel := context.WithCancel(context.Background())
	type proc struct {
		tls, gossip int
		done        chan error
	}
	start := func(name string, args ...string) *proc {
		files := ca.Issue(t, dir, name)
		p := &proc{tls: testkit.FreePort(t), gossip: testkit.FreePort(t), done: make(chan error, 1)}
		args = append(args, "--tls-listen", "127.0.0.1:"+strconv.Itoa(p.tls), "--tls-cert", files.Cert, "--tls-key", files.Key, "--tls-ca", ca.File,
			"--admin", "", "--gossip", "127.0.0.1:"+strconv.Itoa(p.gossip), "--partitions", "64", "--log-level", "error",
			"--cluster-secret", "cs")
		go func() { p.done <- run(ctx, args, env(), io.Discard, io.Discard) }()
		return p
	}
	s0 := start("s0", "store", "--node-id", "0", "--listen", "0", "--ae-interval", "200ms")
	s1 := start("s1", "store", "--node-id", "1", "--listen", "0", "--ae-interval", "200ms", "--seeds", "127.0.0.1:"+strconv.Itoa(s0.gossip))
	px := start("px", "proxy", "--node-id", "p", "--listen", "127.0.0.1:0", "--seeds", fmt.Sprintf("127.0.0.1:%d,127.0.0.1:%d", s0.gossip, s1.gossip))
	defer func() {
		cancel()
		waitRoles(t, px.done, s1.done, s0.done)
	}()
	client := ca.Issue(t, dir, "client")
	dial := func(p *proc) *redis.Client {
		return redis.NewClient(&redis.Options{Addr: "127.0.0.1:" + strconv.Itoa(p.tls), TLSConfig: tlsClient(t, ca, &client), MaxRetries: -1})
	}
	pc := dial(px)
	defer pc.Close()
	stores := []*redis.Client{dial(s0), dial(s1)}
	defer stores[0].Close()
	defer stores[1].Close()
	testkit.Eventually(t, func() bool {
		for _, c := range stores {
			info, _ := c.Info(ctx, "replication").Result()
			if !strings.Contains(info, "cluster_owners:2\r\n") {
				return false
			}
		}
		return pc.Set(ctx, "probe", "x", 0).Err() == nil
	}, 20*time.Second, "the stores never both owned partitions, or the proxy never reached them")

	for i := range 50 {
		k := fmt.Sprint("k", i)
		if err := pc.Set(ctx, k, k, 0).Err(); err != nil {
			t.Fatalf("SET through the proxy: %v", err)
		}
	}
	for i, c := range stores {
		// RF 2 on two nodes: each holds every key, half of them replicated
		// from the other over TLS.
		if info, err := c.Info(ctx, "keyspace").Result(); err != nil || !strings.Contains(info, "db0:keys=51,") {
			t.Errorf("store %d INFO keyspace = %q, %v; want all 51 keys", i, info, err)
		}
	}
	if v, err := pc.Get(ctx, "k7").Result(); err != nil || v != "k7" {
		t.Errorf("GET through the proxy = %q, %v", v, err)
	}

	storeAddr := "127.0.0.1:" + strconv.Itoa(s0.tls)
	if _, err := servedSerial(storeAddr, tlsClient(t, ca, nil)); err == nil {
		t.Error("a store served a client without a certificate")
	}
	nc, err := net.DialTimeout("tcp", storeAddr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	_ = nc.SetDeadline(time.Now().Add(10 * time.Second))
	nc.Write([]byte("PING\r\n"))
	if b, _ := io.ReadAll(nc); bytes.Contains(b, []byte("PONG")) {
		t.Errorf("a store answered plaintext on its TLS port: %q", b)
	}
}

// TestProxyRedissUpstream: a proxy with --upstream rediss://localhost:port
// reaches a store that serves mTLS only, with the CA and client
// certificate from its flags.
func TestProxyRedissUpstream(t *testing.T) {
	dir := t.TempDir()
	ca := testkit.NewCA(t, dir, "test")
	st, px := ca.Issue(t, dir, "store"), ca.Issue(t, dir, "proxy")
	storeTLS := strconv.Itoa(testkit.FreePort(t))
	proxyAddr := "127.0.0.1:" + strconv.Itoa(testkit.FreePort(t))
	ctx, cancel := context.WithCancel(context.Background())
	var dones []chan error
	start := func(args ...string) {
		done := make(chan error, 1)
		dones = append(dones, done)
		go func() { done <- run(ctx, args, env(), io.Discard, io.Discard) }()
	}
	defer func() {
		cancel()
		waitRoles(t, dones...)
	}()
	start("store", "--node-id", "0", "--listen", "0", "--tls-listen", "127.0.0.1:"+storeTLS, "--tls-cert", st.Cert, "--tls-key", st.Key,
		"--tls-ca", ca.File, "--admin", "", "--gossip", "127.0.0.1:0", "--partitions", "16", "--log-level", "error")
	start("proxy", "--listen", proxyAddr, "--admin", "", "--upstream", "rediss://localhost:"+storeTLS,
		"--tls-cert", px.Cert, "--tls-key", px.Key, "--tls-ca", ca.File, "--log-level", "error")
	c := redis.NewClient(&redis.Options{Addr: proxyAddr, MaxRetries: -1})
	defer c.Close()
	testkit.Eventually(t, func() bool { return c.Set(ctx, "k", "v", 0).Err() == nil }, 20*time.Second, "a SET through the proxy")
	if v, err := c.Get(ctx, "k").Result(); err != nil || v != "v" {
		t.Errorf("GET through the proxy = %q, %v", v, err)
	}
}
