package server_test

import (
	"net"
	"slices"
	"testing"
	"time"

	"corral/internal/server"
	"corral/internal/testkit"
)

// TestQuit checks that QUIT replies +OK and closes the connection once the
// replies before it are out, and that nothing sent after it runs.
func TestQuit(t *testing.T) {
	for _, tt := range []struct {
		name string
		in   string
		want string
		ran  []string // data commands the handler saw
	}{
		{"alone", "QUIT\r\n", "+OK\r\n", nil},
		{"set pipelined after", "QUIT\r\n" + testkit.Command("SET", "k", "v"), "+OK\r\n", nil},
		{"inline set pipelined after", "QUIT\r\nSET k v\r\n", "+OK\r\n", nil},
		{"commands before run", "SET a 1\r\nGET a\r\nQUIT\r\nSET b 2\r\nGET a\r\n", "+OK\r\n$1\r\n1\r\n+OK\r\n", []string{"set a", "get a"}},
		{"with an argument", "QUIT now\r\nSET k v\r\n", "+OK\r\n", nil},
		{"malformed input after", "QUIT\r\n*x\r\n", "+OK\r\n", nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			h := newRecordingHandler()
			ts := startServer(t, h, nil)
			got, closed := exchange(t, ts.addr, tt.in, closeTimeout)
			if got != tt.want || !closed {
				t.Fatalf("reply %q (closed %v), want %q and closed", got, closed, tt.want)
			}
			// The server runs commands before closing the connection, so
			// whatever ran is recorded by now.
			if ran := h.executed(); !slices.Equal(ran, tt.ran) {
				t.Fatalf("handler ran %q, want %q", ran, tt.ran)
			}
			expectServing(t, ts.addr)
		})
	}
}

// TestGracefulShutdown holds a command in flight, ends Run's context and
// checks the order of events: the listener stops accepting and idle clients
// are closed at once; the command in flight and the one pipelined behind it
// complete, under a live context, and their replies arrive; then the
// connection closes and Run returns.
func TestGracefulShutdown(t *testing.T) {
	h := newRecordingHandler()
	t.Cleanup(h.unblock)
	ts := startServer(t, h, func(c *server.Config) { c.ShutdownTimeout = time.Minute })

	busy := testkit.Dial(t, ts.addr)
	if got := busy.Do("SET", "k", "v"); got != "+OK\r\n" {
		t.Fatalf("SET = %q", got)
	}
	busy.Send(testkit.Command("GET", keyBlock) + testkit.Command("GET", "k"))
	h.waitEntered(t, keyBlock)
	idle := testkit.Dial(t, ts.addr)
	if got := idle.Do("PING"); got != "+PONG\r\n" {
		t.Fatalf("PING = %q", got)
	}

	ts.cancel()
	idle.ExpectClosed(closeTimeout)
	testkit.Eventually(t, func() bool {
		nc, err := net.DialTimeout("tcp", ts.addr, waitTimeout)
		if err != nil {
			return true
		}
		nc.Close()
		return false
	}, waitTimeout, "the listener closed")
	if ts.returned() {
		t.Fatal("Run returned with a command in flight")
	}

	h.unblock()
	if got := busy.ReadReply(); got != "$8\r\nreleased\r\n" {
		t.Fatalf("reply of the command in flight = %q, want $8 released", got)
	}
	if got := busy.ReadReply(); got != "$1\r\nv\r\n" {
		t.Fatalf("reply of the command pipelined behind it = %q", got)
	}
	busy.ExpectClosed(closeTimeout)
	if !ts.wait(waitTimeout) {
		t.Fatal("Run did not return after the last connection closed")
	}
	if ts.runErr != nil {
		t.Fatalf("Run: %v", ts.runErr)
	}
}

// TestShutdownTimeout checks what ShutdownTimeout forces: Run returns
// within it (plus a margin) although a handler is stuck and ignores its
// context, a handler waiting on Conn.Context is cancelled then and not
// before, and both connections are closed.
func TestShutdownTimeout(t *testing.T) {
	const timeout = 300 * time.Millisecond
	h := newRecordingHandler()
	t.Cleanup(h.unblock) // the stuck handler's goroutine outlives Run until then
	ts := startServer(t, h, func(c *server.Config) { c.ShutdownTimeout = timeout })

	stuck := testkit.Dial(t, ts.addr)
	stuck.Send(testkit.Command("GET", keyBlock))
	h.waitEntered(t, keyBlock)
	waiting, err := net.DialTimeout("tcp", ts.addr, waitTimeout)
	if err != nil {
		t.Fatal(err)
	}
	defer waiting.Close()
	if _, err := waiting.Write([]byte(testkit.Command("GET", keyCtxBlock))); err != nil {
		t.Fatal(err)
	}
	h.waitEntered(t, keyCtxBlock)

	start := time.Now()
	ts.cancel()
	if !ts.wait(timeout + waitTimeout) {
		t.Fatalf("Run did not return within %v of a %v shutdown timeout", timeout+waitTimeout, timeout)
	}
	if elapsed := time.Since(start); elapsed < timeout {
		t.Fatalf("Run returned after %v, before the %v shutdown timeout", elapsed, timeout)
	}
	select {
	case at := <-h.ctxEnded:
		if d := at.Sub(start); d < timeout {
			t.Fatalf("Conn.Context ended %v into the shutdown, before the %v timeout", d, timeout)
		}
	case <-time.After(waitTimeout):
		t.Fatal("Conn.Context not done after the shutdown timeout")
	}
	stuck.ExpectClosed(closeTimeout)
	// The cancelled handler's reply races the forced close: either is fine.
	got, closed := readUntilClosed(t, waiting, closeTimeout)
	if !closed || (got != "" && got != "-ERR context canceled\r\n") {
		t.Fatalf("cancelled client got %q (closed %v), want at most its error reply, then closed", got, closed)
	}
}

// TestHandlerPanicClosesOnlyThatConnection: a bug in one command drops its
// connection, the process and every other client carry on.
func TestHandlerPanicClosesOnlyThatConnection(t *testing.T) {
	h := newRecordingHandler()
	ts := startServer(t, h, nil)
	other := testkit.Dial(t, ts.addr)
	if got := other.Do("PING"); got != "+PONG\r\n" {
		t.Fatalf("PING = %q", got)
	}
	victim := testkit.Dial(t, ts.addr)
	victim.Send(testkit.Command("GET", keyPanic))
	victim.ExpectClosed(5 * time.Second)
	if got := other.Do("SET", "k", "v"); got != "+OK\r\n" {
		t.Fatalf("other client after a panic: SET = %q", got)
	}
	expectServing(t, ts.addr)
}

// TestClientsThatHangUpAreReleased closes clients right after they send:
// a partial command, or a whole one after which the client shuts its side
// down and reads the reply. The server must notice each end of input,
// even when it arrives together with the data, and free the slot.
func TestClientsThatHangUpAreReleased(t *testing.T) {
	ts := startServer(t, newRecordingHandler(), nil)
	const clients = 20
	for range clients {
		nc, err := net.Dial("tcp", ts.addr)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := nc.Write([]byte("PIN")); err != nil {
			t.Fatal(err)
		}
		nc.Close()
	}
	testkit.Eventually(t, func() bool { return ts.srv.Clients() == 0 }, waitTimeout,
		"the %d clients that sent a partial command and hung up are released", clients)

	nc, err := net.Dial("tcp", ts.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	if _, err := nc.Write([]byte("PING\r\nPING\r\n")); err != nil {
		t.Fatal(err)
	}
	if err := nc.(*net.TCPConn).CloseWrite(); err != nil {
		t.Fatal(err)
	}
	got, closed := readUntilClosed(t, nc, closeTimeout)
	if got != "+PONG\r\n+PONG\r\n" || !closed {
		t.Fatalf("after PING PING and a half close: %q (closed %v), want both replies and the connection closed", got, closed)
	}
	testkit.Eventually(t, func() bool { return ts.srv.Clients() == 0 }, waitTimeout, "the half-closed client is released")
}
