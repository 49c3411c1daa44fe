package server_test

import (
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"corral/internal/clock"
	"corral/internal/server"
	"corral/internal/testkit"
)

const maxClientsReply = "-ERR max number of clients reached\r\n"

// dialServed connects to addr until the server admits the connection (a
// server may still count a client that closed a moment ago) and returns it.
func dialServed(t testing.TB, addr string) *testkit.RawConn {
	t.Helper()
	var admitted *testkit.RawConn
	testkit.Eventually(t, func() bool {
		c := testkit.Dial(t, addr)
		switch got := c.Do("PING"); got {
		case "+PONG\r\n":
			admitted = c
			return true
		case maxClientsReply:
			c.Close()
			return false
		default:
			t.Fatalf("PING on a new connection = %q", got)
			return false
		}
	}, waitTimeout, "a connection to %s admitted", addr)
	return admitted
}

// TestMaxClients fills the server and checks Redis's refusal text, that the
// refused client is closed while the admitted ones are still served, and
// that a slot freed by a client leaving is reused.
func TestMaxClients(t *testing.T) {
	for _, tt := range []struct {
		name  string
		clock clock.Clock
	}{
		{"system clock", nil},
		// Socket deadlines must not follow an injected clock.
		{"fake clock in the past", clock.NewFake(time.Unix(0, 0))},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ts := startServer(t, newRecordingHandler(), func(c *server.Config) {
				c.MaxClients = 2
				c.Clock = tt.clock
			})
			c1 := testkit.Dial(t, ts.addr)
			c2 := testkit.Dial(t, ts.addr)
			for _, c := range []*testkit.RawConn{c1, c2} {
				if got := c.Do("PING"); got != "+PONG\r\n" {
					t.Fatalf("PING = %q", got)
				}
			}
			got, closed := exchange(t, ts.addr, "PING\r\n", closeTimeout)
			if got != maxClientsReply || !closed {
				t.Fatalf("third client got %q (closed %v), want %q and closed", got, closed, maxClientsReply)
			}
			if got := c1.Do("PING"); got != "+PONG\r\n" {
				t.Fatalf("admitted client after a refusal: PING = %q", got)
			}

			// A client that leaves by itself frees its slot once the server
			// has read its end of stream.
			c1.Close()
			testkit.Eventually(t, func() bool { return ts.srv.Clients() == 1 }, waitTimeout, "client count back to 1")
			c3 := testkit.Dial(t, ts.addr)
			if got := c3.Do("PING"); got != "+PONG\r\n" {
				t.Fatalf("client in the freed slot: PING = %q", got)
			}

			// A client the server closes (QUIT) has its slot free by the
			// time it sees the connection end: no waiting needed.
			if got := c2.Do("QUIT"); got != "+OK\r\n" {
				t.Fatalf("QUIT = %q", got)
			}
			c2.ExpectClosed(closeTimeout)
			c4 := testkit.Dial(t, ts.addr)
			if got := c4.Do("PING"); got != "+PONG\r\n" {
				t.Fatalf("client right after a QUIT: PING = %q", got)
			}
		})
	}
	t.Run("redis", func(t *testing.T) {
		addr := testkit.StartRedis(t, "--maxclients", "2")
		dialServed(t, addr)
		// Redis may still count dialServed's probes a moment after they
		// closed: the second admitted client is awaited the same way.
		dialServed(t, addr)
		got, closed := exchange(t, addr, "PING\r\n", closeTimeout)
		if got != maxClientsReply || !closed {
			t.Fatalf("redis-server: third client got %q (closed %v), want %q and closed", got, closed, maxClientsReply)
		}
	})
}

// TestIdleTimeout checks that a client idle for IdleTimeout is closed
// without a reply, no sooner, while a client that keeps sending commands
// stays connected.
func TestIdleTimeout(t *testing.T) {
	const idle = 300 * time.Millisecond
	for _, tt := range []struct {
		name  string
		clock clock.Clock
	}{
		{"system clock", nil},
		// Deadlines are wall-clock times even when a fake clock is
		// injected for the rest of the server.
		{"fake clock in the past", clock.NewFake(time.Unix(0, 0))},
		{"fake clock in the future", clock.NewFake(time.Now().Add(24 * time.Hour))},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ts := startServer(t, newRecordingHandler(), func(c *server.Config) {
				c.IdleTimeout = idle
				c.Clock = tt.clock
			})
			start := time.Now()
			idleConn, err := net.DialTimeout("tcp", ts.addr, waitTimeout)
			if err != nil {
				t.Fatal(err)
			}
			defer idleConn.Close()
			type ending struct {
				after time.Duration
				got   []byte
				err   error
			}
			ended := make(chan ending, 1)
			go func() {
				_ = idleConn.SetReadDeadline(time.Now().Add(waitTimeout))
				var got []byte
				buf := make([]byte, 512)
				for {
					n, err := idleConn.Read(buf)
					got = append(got, buf[:n]...)
					if err != nil {
						ended <- ending{time.Since(start), got, err}
						return
					}
				}
			}()

			active := testkit.Dial(t, ts.addr)
			var e ending
			testkit.Eventually(t, func() bool {
				if got := active.Do("PING"); got != "+PONG\r\n" {
					t.Fatalf("active client: PING = %q", got)
				}
				select {
				case e = <-ended:
					return true
				default:
					return false
				}
			}, waitTimeout, "the idle client closed")
			if len(e.got) != 0 || !isClosedErr(e.err) {
				t.Fatalf("idle client got %q then %v, want no bytes and the connection closed", e.got, e.err)
			}
			if e.after < idle {
				t.Fatalf("idle client closed after %v, before the %v timeout", e.after, idle)
			}
			if got := active.Do("PING"); got != "+PONG\r\n" {
				t.Fatalf("active client after the idle one closed: PING = %q", got)
			}
		})
	}
}

// TestProtoMaxBulkLen checks the argument size limit at its boundary.
func TestProtoMaxBulkLen(t *testing.T) {
	ts := startServer(t, newRecordingHandler(), func(c *server.Config) { c.ProtoMaxBulkLen = 1024 })
	for _, tt := range []struct {
		name   string
		size   int
		want   string
		closed bool
	}{
		{"at the limit", 1024, "+OK\r\n$1024\r\n" + strings.Repeat("v", 1024) + "\r\n+OK\r\n", true},
		{"one byte over", 1025, "-ERR Protocol error: invalid bulk length\r\n", true},
		{"far over", 1 << 20, "-ERR Protocol error: invalid bulk length\r\n", true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			v := strings.Repeat("v", tt.size)
			in := testkit.Command("SET", "k", v) + testkit.Command("GET", "k") + "QUIT\r\n"
			got, closed := exchange(t, ts.addr, in, closeTimeout)
			if got != tt.want || closed != tt.closed {
				t.Fatalf("reply %.80q (closed %v), want %.80q (closed %v)", got, closed, tt.want, tt.closed)
			}
			expectServing(t, ts.addr)
		})
	}
}

// TestQueryBufferLimit checks that a client whose pending input exceeds
// QueryBufferLimit is closed without a reply, as redis-server does, while
// input under the limit is served.
func TestQueryBufferLimit(t *testing.T) {
	type limitCase struct {
		name   string
		size   int // SET value size
		want   string
		closed bool
	}
	under := func(size int) limitCase {
		return limitCase{"under: " + strconv.Itoa(size), size, "+OK\r\n+OK\r\n", true}
	}
	over := func(size int) limitCase {
		return limitCase{"over: " + strconv.Itoa(size), size, "", true}
	}
	for _, tt := range []struct {
		limit int64
		cases []limitCase
		redis bool // redis-server's minimum limit is 1mb
	}{
		{64 << 10, []limitCase{under(60 << 10), over(100 << 10), over(4 << 20)}, false},
		{1 << 20, []limitCase{under(900 << 10), over(1536 << 10)}, true},
	} {
		ts := startServer(t, newRecordingHandler(), func(c *server.Config) { c.QueryBufferLimit = tt.limit })
		servers := map[string]string{"corral": ts.addr}
		if tt.redis {
			if _, err := exec.LookPath("redis-server"); err == nil || os.Getenv("CI") == "true" {
				servers["redis"] = testkit.StartRedis(t, "--client-query-buffer-limit", strconv.FormatInt(tt.limit, 10))
			}
		}
		for _, c := range tt.cases {
			for name, addr := range servers {
				t.Run(strconv.FormatInt(tt.limit, 10)+"/"+c.name+"/"+name, func(t *testing.T) {
					in := testkit.Command("SET", "k", strings.Repeat("v", c.size)) + "QUIT\r\n"
					got, closed := exchange(t, addr, in, closeTimeout)
					if got != c.want || closed != c.closed {
						t.Fatalf("reply %q (closed %v), want %q (closed %v)", got, closed, c.want, c.closed)
					}
					if name == "corral" {
						expectServing(t, addr)
					}
				})
			}
		}
	}
}

// TestStalledClientDoesNotBlockOthers splits one command at every byte:
// while a client sits on the first part, another is served; the rest then
// completes the stalled command.
func TestStalledClientDoesNotBlockOthers(t *testing.T) {
	ts := startServer(t, newRecordingHandler(), nil)
	other := testkit.Dial(t, ts.addr)
	if got := other.Do("SET", "k", "hello"); got != "+OK\r\n" {
		t.Fatalf("SET = %q", got)
	}
	for _, cmd := range []string{testkit.Command("GET", "k"), "GET k\r\n"} {
		for i := 1; i < len(cmd); i++ {
			t.Run(strconv.Quote(cmd[:i]), func(t *testing.T) {
				stalled := testkit.Dial(t, ts.addr)
				stalled.Send(cmd[:i])
				if got := other.Do("PING"); got != "+PONG\r\n" {
					t.Fatalf("PING while another client stalls = %q", got)
				}
				expectServing(t, ts.addr)
				stalled.Send(cmd[i:])
				if got := stalled.ReadReply(); got != "$5\r\nhello\r\n" {
					t.Fatalf("completed GET = %q", got)
				}
			})
		}
	}
}

// TestSlotFreedBeforeClose checks, many times over, that a client the
// server closes (QUIT, a protocol error) has released its maxclients slot by
// the time it sees the connection end, so a client reconnecting at once is
// admitted.
func TestSlotFreedBeforeClose(t *testing.T) {
	ts := startServer(t, newRecordingHandler(), func(c *server.Config) { c.MaxClients = 1 })
	for i := range 300 {
		c := testkit.Dial(t, ts.addr)
		if got := c.Do("PING"); got != "+PONG\r\n" {
			t.Fatalf("round %d: PING right after the previous client was closed = %q", i, got)
		}
		if i%2 == 0 {
			if got := c.Do("QUIT"); got != "+OK\r\n" {
				t.Fatalf("QUIT = %q", got)
			}
		} else {
			c.Send("*x\r\n")
			if got := c.ReadReply(); got != "-ERR Protocol error: invalid multibulk length\r\n" {
				t.Fatalf("malformed request: %q", got)
			}
		}
		c.ExpectClosed(closeTimeout)
	}
}

// TestIdleTimeoutStalledReader checks that IdleTimeout also closes a client
// that stops reading its replies (the server's writes make no progress), as
// Redis's timeout counts writes as interaction, while a client reading a
// large reply slowly but steadily is served.
func TestIdleTimeoutStalledReader(t *testing.T) {
	const idle = 200 * time.Millisecond
	ts := startServer(t, newRecordingHandler(), func(c *server.Config) { c.IdleTimeout = idle })
	big := stallReader(t, ts, 128) // 128MB of replies: far more than the socket buffers hold
	testkit.Eventually(t, func() bool { return ts.srv.Clients() == 0 }, waitTimeout, "stalled reader closed")
	expectServing(t, ts.addr)

	// A reader that keeps up gets all its replies however long they take.
	reader := testkit.Dial(t, ts.addr)
	reader.Send(strings.Repeat("GET big\r\n", 16))
	want := "$" + strconv.Itoa(len(big)) + "\r\n" + big + "\r\n"
	for i := range 16 {
		if got := reader.ReadReply(); got != want {
			t.Fatalf("reply %d: %d bytes, want %d", i, len(got), len(want))
		}
	}
}

// TestOutputHardLimit: a reply larger than the hard output limit closes
// its client without sending it, counted in INFO stats; other clients are
// served, and replies under the limit go out.
func TestOutputHardLimit(t *testing.T) {
	ts := startServer(t, newRecordingHandler(), func(c *server.Config) { c.OutputHardLimit = 512 << 10 })
	big := strings.Repeat("v", 1<<20)
	c := testkit.Dial(t, ts.addr)
	if got := c.Do("SET", "big", big); got != "+OK\r\n" {
		t.Fatalf("SET = %q", got)
	}
	if got := c.Do("SET", "small", "s"); got != "+OK\r\n" {
		t.Fatalf("SET = %q", got)
	}
	if got := c.Do("GET", "small"); got != "$1\r\ns\r\n" {
		t.Fatalf("GET small = %q", got)
	}
	c.Send(testkit.Command("GET", "big"))
	c.ExpectClosed(closeTimeout)
	expectServing(t, ts.addr)
	info := testkit.Dial(t, ts.addr).Do("INFO", "stats")
	if !strings.Contains(info, "client_output_buffer_limit_disconnections:1\r\n") {
		t.Errorf("INFO stats lacks the disconnection:\n%s", info)
	}
}

// TestOutputSoftLimit: a client that stops reading while more than the
// soft limit of replies waits is closed after the soft seconds, although
// no IdleTimeout is set; one reading its large replies steadily is served.
func TestOutputSoftLimit(t *testing.T) {
	ts := startServer(t, newRecordingHandler(), func(c *server.Config) {
		c.OutputSoftLimit = 64 << 10
		c.OutputSoftTime = time.Second
	})
	big := stallReader(t, ts, 64)
	testkit.Eventually(t, func() bool { return ts.srv.Clients() == 0 }, waitTimeout, "stalled reader closed")
	info := testkit.Dial(t, ts.addr).Do("INFO", "stats")
	if !strings.Contains(info, "client_output_buffer_limit_disconnections:1\r\n") {
		t.Errorf("INFO stats lacks the disconnection:\n%s", info)
	}

	reader := testkit.Dial(t, ts.addr)
	reader.Send(strings.Repeat("GET big\r\n", 16))
	want := "$" + strconv.Itoa(len(big)) + "\r\n" + big + "\r\n"
	for i := range 16 {
		if got := reader.ReadReply(); got != want {
			t.Fatalf("reply %d: %d bytes, want %d", i, len(got), len(want))
		}
	}
}

// stallReader stores a 1MB value "big" in ts, then connects a client that
// pipelines n GETs of it and never reads a reply, and waits until that
// client is the only one connected. It returns the value. The client is
// closed when the test ends.
func stallReader(t *testing.T, ts *testServer, n int) string {
	t.Helper()
	big := strings.Repeat("v", 1<<20)
	setter := testkit.Dial(t, ts.addr)
	if got := setter.Do("SET", "big", big); got != "+OK\r\n" {
		t.Fatalf("SET = %q", got)
	}
	setter.Close()
	testkit.Eventually(t, func() bool { return ts.srv.Clients() == 0 }, waitTimeout, "setter gone")
	stalled, err := net.DialTimeout("tcp", ts.addr, waitTimeout)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { stalled.Close() })
	if _, err := stalled.Write([]byte(strings.Repeat("GET big\r\n", n))); err != nil {
		t.Fatal(err)
	}
	testkit.Eventually(t, func() bool { return ts.srv.Clients() == 1 }, waitTimeout, "stalled client connected")
	return big
}
