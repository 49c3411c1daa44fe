package server_test

import (
	"context"
	"errors"
	"io"
	"net"
	"os"
	"sync"
	"syscall"
	"testing"
	"time"

	"corral/internal/command"
	"corral/internal/server"
	"corral/internal/testkit"
)

// Timeouts of the server tests. They bound waits on conditions that hold
// within milliseconds; none of them is slept.
const (
	waitTimeout  = 5 * time.Second
	closeTimeout = 5 * time.Second
)

// Keys with a special meaning to recordingHandler's GET.
const (
	keyBlock    = "block"    // signals entered, then waits for release
	keyCtxBlock = "ctxblock" // signals entered, then waits for the connection's context
	keyPanic    = "panic"
	keyFail     = "fail" // replies with an error
)

// recordingHandler is a map-backed server.Handler answering GET and SET (and
// every other data command with "+OK"), recording each data command it runs.
// A GET of keyBlock or keyCtxBlock blocks, so tests can hold a command in
// flight.
type recordingHandler struct {
	entered  chan string    // receives the key of each blocking GET as it starts
	release  chan struct{}  // closed by unblock: ends every keyBlock GET
	once     sync.Once      // guards closing release
	ctxEnded chan time.Time // receives when a keyCtxBlock GET saw its context end

	mu   sync.Mutex // guards data, seen
	data map[string][]byte
	seen []string // "name key" of every data command executed
}

func newRecordingHandler() *recordingHandler {
	return &recordingHandler{
		entered:  make(chan string, 16),
		release:  make(chan struct{}),
		ctxEnded: make(chan time.Time, 16),
		data:     make(map[string][]byte),
	}
}

// Exec implements server.Handler.
func (h *recordingHandler) Exec(c *server.Conn, spec *command.Spec, args [][]byte) {
	key := ""
	if len(args) > 1 {
		key = string(args[1])
	}
	h.mu.Lock()
	h.seen = append(h.seen, spec.Name+" "+key)
	h.mu.Unlock()
	switch spec.ID {
	case command.Get:
		switch key {
		case keyBlock:
			h.entered <- key
			<-h.release
			if err := c.Context().Err(); err != nil {
				c.W.Error("ERR released after " + err.Error())
				return
			}
			c.W.BulkString("released")
			return
		case keyCtxBlock:
			h.entered <- key
			<-c.Context().Done()
			h.ctxEnded <- time.Now()
			c.W.Error("ERR " + c.Context().Err().Error())
			return
		case keyFail:
			c.W.Error("ERR boom")
			return
		case keyPanic:
			panic("handler bug")
		}
		h.mu.Lock()
		v, ok := h.data[key]
		h.mu.Unlock()
		if !ok {
			c.W.Null()
			return
		}
		c.W.Bulk(v)
	case command.Set:
		h.mu.Lock()
		h.data[key] = append([]byte(nil), args[2]...)
		h.mu.Unlock()
		c.W.OK()
	default:
		c.W.OK()
	}
}

// unblock ends every keyBlock GET, now and later. It may be called more
// than once.
func (h *recordingHandler) unblock() { h.once.Do(func() { close(h.release) }) }

// waitEntered waits for a blocking GET of key to start.
func (h *recordingHandler) waitEntered(t testing.TB, key string) {
	t.Helper()
	timer := time.NewTimer(waitTimeout)
	defer timer.Stop()
	select {
	case got := <-h.entered:
		if got != key {
			t.Fatalf("blocking GET of %q started, want %q", got, key)
		}
	case <-timer.C:
		t.Fatalf("blocking GET of %q did not start within %v", key, waitTimeout)
	}
}

// InfoSections implements server.Handler.
func (h *recordingHandler) InfoSections() []server.InfoSection { return nil }

// executed returns the data commands run so far.
func (h *recordingHandler) executed() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]string(nil), h.seen...)
}

// testServer is a server.Server running on 127.0.0.1 and an ephemeral port.
type testServer struct {
	srv      *server.Server
	addr     string
	cancel   context.CancelFunc // ends Run's context
	finished chan struct{}      // closed when Run has returned
	runErr   error              // Run's result, once finished is closed
}

// startServer starts a server with the default configuration changed by
// edit (which may be nil) and registers a cleanup that stops it and fails
// the test if Run does not return.
func startServer(t testing.TB, h server.Handler, edit func(*server.Config)) *testServer {
	t.Helper()
	cfg := server.DefaultConfig()
	cfg.Addr = "127.0.0.1:0"
	cfg.ShutdownTimeout = 2 * time.Second
	cfg.IOLoops = testkit.IOLoops(t)
	if edit != nil {
		edit(&cfg)
	}
	srv, err := server.New(cfg, h)
	if err != nil {
		t.Fatalf("server.New: %v", err)
	}
	if err := srv.Listen(); err != nil {
		t.Fatalf("Listen: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	ts := &testServer{srv: srv, addr: srv.Addr(), cancel: cancel, finished: make(chan struct{})}
	go func() {
		ts.runErr = srv.Run(ctx)
		close(ts.finished)
	}()
	t.Cleanup(func() {
		cancel()
		if !ts.wait(cfg.ShutdownTimeout + waitTimeout) {
			t.Errorf("Run did not return within %v of its context's end", cfg.ShutdownTimeout+waitTimeout)
		} else if ts.runErr != nil {
			t.Errorf("Run: %v", ts.runErr)
		}
	})
	return ts
}

// wait reports whether Run returns within timeout.
func (ts *testServer) wait(timeout time.Duration) bool {
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	select {
	case <-ts.finished:
		return true
	case <-timer.C:
		return false
	}
}

// returned reports whether Run has returned, without waiting.
func (ts *testServer) returned() bool {
	select {
	case <-ts.finished:
		return true
	default:
		return false
	}
}

// expectServing asserts that a fresh connection to addr is served: PING
// gets +PONG.
func expectServing(t testing.TB, addr string) {
	t.Helper()
	c := testkit.Dial(t, addr)
	if got := c.Do("PING"); got != "+PONG\r\n" {
		t.Fatalf("PING on a fresh connection = %q, want +PONG", got)
	}
	c.Close()
}

// expectServingAuth is expectServing for a server with a password.
func expectServingAuth(t testing.TB, addr, pass string) {
	t.Helper()
	c := testkit.Dial(t, addr)
	if got := c.Do("AUTH", pass); got != "+OK\r\n" {
		t.Fatalf("AUTH on a fresh connection = %q, want +OK", got)
	}
	if got := c.Do("PING"); got != "+PONG\r\n" {
		t.Fatalf("PING on a fresh connection = %q, want +PONG", got)
	}
	c.Close()
}

// exchange dials addr, writes in (from another goroutine, ignoring write
// errors, since the server may close before reading it all) and reads until
// the server closes the connection or timeout passes. It returns every byte
// received and whether the server closed the connection (EOF or reset).
func exchange(t testing.TB, addr, in string, timeout time.Duration) (reply string, closed bool) {
	t.Helper()
	nc, err := net.DialTimeout("tcp", addr, waitTimeout)
	if err != nil {
		t.Fatalf("dial %s: %v", addr, err)
	}
	wrote := make(chan struct{})
	defer func() {
		_ = nc.Close() // ends a write still blocked
		<-wrote
	}()
	go func() {
		defer close(wrote)
		_, _ = io.WriteString(nc, in)
	}()
	return readUntilClosed(t, nc, timeout)
}

// readUntilClosed reads from nc until the server closes the connection or
// timeout passes, and returns the bytes read and whether it was closed.
func readUntilClosed(t testing.TB, nc net.Conn, timeout time.Duration) (string, bool) {
	t.Helper()
	_ = nc.SetReadDeadline(time.Now().Add(timeout))
	var out []byte
	buf := make([]byte, 64<<10)
	for {
		n, err := nc.Read(buf)
		out = append(out, buf[:n]...)
		if err == nil {
			continue
		}
		if !isClosedErr(err) && !errors.Is(err, os.ErrDeadlineExceeded) {
			t.Fatalf("read from %s: %v", nc.RemoteAddr(), err)
		}
		return string(out), isClosedErr(err)
	}
}

// isClosedErr reports whether a read error means the peer closed the
// connection: end of file, or a reset when it closed with input unread.
func isClosedErr(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, syscall.ECONNRESET)
}
