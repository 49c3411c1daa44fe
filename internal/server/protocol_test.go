package server_test

import (
	"os"
	"os/exec"
	"strings"
	"testing"

	"corral/internal/resp"
	"corral/internal/server"
	"corral/internal/testkit"
)

// protocolCases are malformed requests with the exact bytes redis-server
// 7.0.15 answers before it closes the connection.
var protocolCases = []struct {
	name string
	in   string
	want string
	auth bool // sent to a server with a password, unauthenticated
}{
	{"multibulk length not a number", "*abc\r\n", "-ERR Protocol error: invalid multibulk length\r\n", false},
	{"multibulk length over INT_MAX", "*2147483648\r\n", "-ERR Protocol error: invalid multibulk length\r\n", false},
	{"multibulk length with plus", "*+1\r\n", "-ERR Protocol error: invalid multibulk length\r\n", false},
	{"bulk length not a number", "*1\r\n$x\r\n", "-ERR Protocol error: invalid bulk length\r\n", false},
	{"bulk length negative", "*1\r\n$-1\r\n", "-ERR Protocol error: invalid bulk length\r\n", false},
	{"bulk length over proto-max-bulk-len", "*1\r\n$536870913\r\n", "-ERR Protocol error: invalid bulk length\r\n", false},
	{"expected dollar", "*1\r\n:1\r\n", "-ERR Protocol error: expected '$', got ':'\r\n", false},
	{"expected dollar, got a high byte", "*1\r\n\xff\r\n", "-ERR Protocol error: expected '$', got '\xff'\r\n", false},
	{"expected dollar, got CR", "*1\r\n\r\n\r\n", "-ERR Protocol error: expected '$', got ' '\r\n", false},
	{"expected dollar after a complete argument", "*2\r\n$4\r\nECHO\r\nx\r\n", "-ERR Protocol error: expected '$', got 'x'\r\n", false},
	{"inline unbalanced double quote", "SET \"a b\r\n", "-ERR Protocol error: unbalanced quotes in request\r\n", false},
	{"inline unbalanced single quote", "SET 'a b\r\n", "-ERR Protocol error: unbalanced quotes in request\r\n", false},
	{"inline closing quote glued to text", "ECHO \"a\"b\r\n", "-ERR Protocol error: unbalanced quotes in request\r\n", false},
	{"too big inline request", strings.Repeat("a", resp.InlineMaxSize+10), "-ERR Protocol error: too big inline request\r\n", false},
	{"too big mbulk count string", "*" + strings.Repeat("1", resp.InlineMaxSize+10), "-ERR Protocol error: too big mbulk count string\r\n", false},
	{"too big bulk count string", "*1\r\n$" + strings.Repeat("1", resp.InlineMaxSize+10), "-ERR Protocol error: too big bulk count string\r\n", false},
	// Redis finds line ends with strchr, which stops at a NUL byte: a line
	// with a NUL before its end never ends, whatever follows.
	{"inline line with NUL never ends", "PING\x00\r\n" + strings.Repeat("a", resp.InlineMaxSize+10), "-ERR Protocol error: too big inline request\r\n", false},
	{"mbulk count with NUL never ends", "*1\x00\r\n" + strings.Repeat("a", resp.InlineMaxSize+10), "-ERR Protocol error: too big mbulk count string\r\n", false},
	{"bulk count with NUL never ends", "*1\r\n$4\x00\r\nPING\r\n" + strings.Repeat("a", resp.InlineMaxSize+10), "-ERR Protocol error: too big bulk count string\r\n", false},
	// Unauthenticated clients may send at most 10 arguments of at most
	// 16384 bytes (CVE-2021-32675).
	{"unauthenticated multibulk length", "*11\r\n", "-ERR Protocol error: unauthenticated multibulk length\r\n", true},
	{"unauthenticated bulk length", "*1\r\n$16385\r\n", "-ERR Protocol error: unauthenticated bulk length\r\n", true},
	{"unauthenticated invalid bulk length first", "*1\r\n$536870913\r\n", "-ERR Protocol error: invalid bulk length\r\n", true},
	{"authenticated client may send more", "AUTH secret\r\n*11\r\n" + strings.Repeat("$1\r\nx\r\n", 11) + "*1\r\n$16385\r\n" + strings.Repeat("y", 16385) + "\r\nQUIT\r\n",
		"+OK\r\n-ERR unknown command 'x', with args beginning with: 'x' 'x' 'x' 'x' 'x' 'x' 'x' 'x' 'x' 'x' \r\n-ERR unknown command '" + strings.Repeat("y", 128) + "', with args beginning with: \r\n+OK\r\n", true},
	// The cross-protocol guard: an HTTP request closes the connection
	// without a reply, even for commands answered earlier in the batch.
	{"HTTP POST", "PING\r\nPOST / HTTP/1.1\r\nHost: x\r\n\r\n", "", false},
	{"HTTP Host header", "PING\r\nHost: example.com\r\n", "", false},
	{"HTTP POST before AUTH", "POST / HTTP/1.1\r\n", "", true},
}

// TestProtocolErrors sends each malformed request to corral and to a real
// redis-server, alone and after a PING in the same write: both must send the
// same bytes (the PING's reply first), then close the connection, and corral
// must go on serving other clients.
func TestProtocolErrors(t *testing.T) {
	const pass = "secret"
	open := startServer(t, newRecordingHandler(), nil)
	locked := startServer(t, newRecordingHandler(), func(c *server.Config) { c.RequirePass = pass })
	// The real servers are started on t, not in a subtest, so that they
	// live for all the cases.
	var redisOpen, redisLocked string
	if _, err := exec.LookPath("redis-server"); err == nil || os.Getenv("CI") == "true" {
		redisOpen = testkit.StartRedis(t)
		// StartRedis waits for +PONG, so the password is set afterwards.
		redisLocked = testkit.StartRedis(t)
		if got := testkit.Dial(t, redisLocked).Do("CONFIG", "SET", "requirepass", pass); got != "+OK\r\n" {
			t.Fatalf("CONFIG SET requirepass: %q", got)
		}
	}

	for _, tt := range protocolCases {
		for _, pipelined := range []bool{false, true} {
			name, in, want := tt.name, tt.in, tt.want
			if pipelined {
				name += "/after PING"
				in = "PING\r\n" + in
				switch {
				case want == "": // an HTTP request: nothing is sent at all
				case tt.auth:
					want = "-NOAUTH Authentication required.\r\n" + want
				default:
					want = "+PONG\r\n" + want
				}
			}
			t.Run(name+"/corral", func(t *testing.T) {
				srv := open
				if tt.auth {
					srv = locked
				}
				got, closed := exchange(t, srv.addr, in, closeTimeout)
				if got != want {
					t.Errorf("reply = %q, want %q", got, want)
				}
				if !closed {
					t.Errorf("connection still open %v after the request", closeTimeout)
				}
				if tt.auth {
					expectServingAuth(t, srv.addr, pass)
				} else {
					expectServing(t, srv.addr)
				}
			})
			t.Run(name+"/redis", func(t *testing.T) {
				addr := redisOpen
				if tt.auth {
					addr = redisLocked
				}
				if addr == "" {
					t.Skip("redis-server not found in PATH")
				}
				got, closed := exchange(t, addr, in, closeTimeout)
				if got != want {
					t.Errorf("redis-server replied %q, the test expects %q", got, want)
				}
				if !closed {
					t.Errorf("redis-server kept the connection open %v after the request", closeTimeout)
				}
			})
		}
	}
}
