package testkit

import (
	"fmt"
	"net"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeTB records fatal failures and skips instead of ending the real test.
// Everything else goes to the embedded real TB. Run code using it with
// runFake, since Fatal and Skip end the calling goroutine.
type fakeTB struct {
	testing.TB
	mu      sync.Mutex // guards the fields below
	failed  bool
	skipped bool
	msg     string
}

func (f *fakeTB) Helper() {}

func (f *fakeTB) end(skip bool, msg string) {
	f.mu.Lock()
	f.failed, f.skipped, f.msg = !skip, skip, msg
	f.mu.Unlock()
	runtime.Goexit()
}

func (f *fakeTB) Fatal(args ...any)                 { f.end(false, fmt.Sprint(args...)) }
func (f *fakeTB) Fatalf(format string, args ...any) { f.end(false, fmt.Sprintf(format, args...)) }
func (f *fakeTB) Skip(args ...any)                  { f.end(true, fmt.Sprint(args...)) }
func (f *fakeTB) Skipf(format string, args ...any)  { f.end(true, fmt.Sprintf(format, args...)) }

// runFake runs fn with a fakeTB on its own goroutine and returns the fake
// once fn has returned or ended.
func runFake(t *testing.T, fn func(tb testing.TB)) *fakeTB {
	t.Helper()
	f := &fakeTB{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		fn(f)
	}()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("helper under test did not return")
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	return f
}

func TestEventually(t *testing.T) {
	tests := []struct {
		name     string
		trueFrom int // cond returns true from this call on; 0 = never
		timeout  time.Duration
		args     []any
		wantFail string
	}{
		{name: "at once", trueFrom: 1, timeout: time.Second},
		{name: "after polls", trueFrom: 5, timeout: 10 * time.Second},
		{name: "timeout with format", timeout: 20 * time.Millisecond, args: []any{"waiting for %s", "x"},
			wantFail: "testkit: condition not met within 20ms: waiting for x"},
		{name: "timeout bare", timeout: 5 * time.Millisecond, wantFail: "(no message)"},
		{name: "timeout one value", timeout: time.Millisecond, args: []any{42}, wantFail: ": 42"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			calls := 0
			cond := func() bool { calls++; return tt.trueFrom > 0 && calls >= tt.trueFrom }
			f := runFake(t, func(tb testing.TB) { Eventually(tb, cond, tt.timeout, tt.args...) })
			if tt.wantFail == "" {
				if f.failed || calls != tt.trueFrom {
					t.Fatalf("failed=%v (%s) after %d calls, want success after %d", f.failed, f.msg, calls, tt.trueFrom)
				}
				return
			}
			if !f.failed || !strings.Contains(f.msg, tt.wantFail) {
				t.Fatalf("failed=%v msg=%q, want a failure containing %q", f.failed, f.msg, tt.wantFail)
			}
			if calls < 2 {
				t.Errorf("cond called %d times, want at least 2", calls)
			}
		})
	}
}

func TestFreePort(t *testing.T) {
	port := FreePort(t)
	l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
	if err != nil {
		t.Fatalf("listen on FreePort %d: %v", port, err)
	}
	l.Close()
}

func TestRedisBinMissing(t *testing.T) {
	tests := []struct {
		ci       string
		wantSkip bool
	}{
		{"", true},
		{"false", true},
		{"true", false},
	}
	for _, tt := range tests {
		t.Run("CI="+tt.ci, func(t *testing.T) {
			t.Setenv("CI", tt.ci)
			f := runFake(t, func(tb testing.TB) { RedisBin(tb, "redis-no-such-binary") })
			if f.skipped != tt.wantSkip || f.failed == tt.wantSkip {
				t.Fatalf("skipped=%v failed=%v, want skipped=%v", f.skipped, f.failed, tt.wantSkip)
			}
			if !strings.Contains(f.msg, "redis-no-such-binary not found") {
				t.Errorf("message %q does not name the binary", f.msg)
			}
		})
	}
}

func TestStartRedisStopsOnCleanup(t *testing.T) {
	var addr string
	t.Run("server", func(t *testing.T) {
		addr = StartRedis(t)
		c := Dial(t, addr)
		if got := c.Do("PING"); got != "+PONG\r\n" {
			t.Fatalf("PING = %q", got)
		}
		if got := c.Do("CONFIG", "GET", "save"); got != "*2\r\n$4\r\nsave\r\n$0\r\n\r\n" {
			t.Errorf("CONFIG GET save = %q, want persistence off", got)
		}
		if got := c.Do("CONFIG", "GET", "bind"); !strings.Contains(got, "127.0.0.1") {
			t.Errorf("CONFIG GET bind = %q, want 127.0.0.1", got)
		}
	})
	// Cleanup has waited for the process, so nothing listens any more.
	if conn, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
		conn.Close()
		t.Fatalf("%s still accepts connections after cleanup", addr)
	}
}

func TestStartRedisExtraArgsAndFailure(t *testing.T) {
	addr := StartRedis(t, "--maxclients", "77")
	if got := Dial(t, addr).Do("CONFIG", "GET", "maxclients"); got != "*2\r\n$10\r\nmaxclients\r\n$2\r\n77\r\n" {
		t.Errorf("CONFIG GET maxclients = %q", got)
	}
	f := runFake(t, func(tb testing.TB) { StartRedis(tb, "--no-such-option", "1") })
	if !f.failed || !strings.Contains(f.msg, "no-such-option") {
		t.Errorf("bad option: failed=%v msg=%q, want a failure quoting the server's complaint", f.failed, f.msg)
	}
}

// TestRawConnRedis round-trips every reply type redis-server 7.0 can be made
// to send, in RESP2 and RESP3.
func TestRawConnRedis(t *testing.T) {
	addr := StartRedis(t, "--enable-debug-command", "local")
	c := Dial(t, addr)
	other := Dial(t, addr)

	steps := []struct {
		name string
		args []string
		want string // the exact reply, or with a trailing "..." its start
	}{
		{"simple string", []string{"SET", "k", "v"}, "+OK\r\n"},
		{"bulk", []string{"GET", "k"}, "$1\r\nv\r\n"},
		{"empty bulk", []string{"ECHO", ""}, "$0\r\n\r\n"},
		{"binary bulk", []string{"ECHO", "a\r\nb"}, "$4\r\na\r\nb\r\n"},
		{"null bulk", []string{"GET", "missing"}, "$-1\r\n"},
		{"integer", []string{"INCR", "n"}, ":1\r\n"},
		{"error", []string{"NOSUCH"}, "-ERR unknown command 'NOSUCH'..."},
		{"array", []string{"MGET", "k", "missing"}, "*2\r\n$1\r\nv\r\n$-1\r\n"},
		{"empty array", []string{"KEYS", "nomatch*"}, "*0\r\n"},
		{"double as bulk", []string{"DEBUG", "PROTOCOL", "double"}, "$5\r\n3.141\r\n"},
		{"watch", []string{"WATCH", "w"}, "+OK\r\n"},
		{"touch watched", nil, ""},
		{"multi", []string{"MULTI"}, "+OK\r\n"},
		{"queued", []string{"GET", "w"}, "+QUEUED\r\n"},
		{"null array", []string{"EXEC"}, "*-1\r\n"},

		{"hello 3 map", []string{"HELLO", "3"}, "%7\r\n$6\r\nserver\r\n$5\r\nredis\r\n..."},
		{"null", []string{"GET", "missing"}, "_\r\n"},
		{"double", []string{"DEBUG", "PROTOCOL", "double"}, ",3.141\r\n"},
		{"big number", []string{"DEBUG", "PROTOCOL", "bignum"}, "(1234567999999999999999999999999999999\r\n"},
		{"true", []string{"DEBUG", "PROTOCOL", "true"}, "#t\r\n"},
		{"false", []string{"DEBUG", "PROTOCOL", "false"}, "#f\r\n"},
		{"map of booleans", []string{"DEBUG", "PROTOCOL", "map"}, "%3\r\n:0\r\n#f\r\n:1\r\n#t\r\n:2\r\n#f\r\n"},
		{"set", []string{"DEBUG", "PROTOCOL", "set"}, "~3\r\n:0\r\n:1\r\n:2\r\n"},
		{"verbatim", []string{"DEBUG", "PROTOCOL", "verbatim"}, "=29\r\ntxt:This is a verbatim\nstring\r\n"},
		{"attribute with its reply", []string{"DEBUG", "PROTOCOL", "attrib"},
			"|1\r\n$14\r\nkey-popularity\r\n*2\r\n$7\r\nkey:123\r\n:90\r\n$39\r\nSome real reply following the attribute\r\n"},
		{"push", []string{"DEBUG", "PROTOCOL", "push"}, ">2\r\n$16\r\nserver-cpu-usage\r\n:42\r\n"},
		{"reply after push", nil, "$40\r\nSome real reply following the push reply\r\n"},
		{"lua big number", []string{"EVAL", "return {big_number='123'}", "0"}, "(123\r\n"},
		{"subscribe push", []string{"SUBSCRIBE", "ch"}, ">3\r\n$9\r\nsubscribe\r\n$2\r\nch\r\n:1\r\n"},
		{"publish", nil, ""},
		{"message push", nil, ">3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$5\r\nhello\r\n"},
	}
	for _, s := range steps {
		var got string
		switch s.name {
		case "touch watched":
			if r := other.Do("SET", "w", "1"); r != "+OK\r\n" {
				t.Fatalf("SET w = %q", r)
			}
			continue
		case "publish":
			if r := other.Do("PUBLISH", "ch", "hello"); r != ":1\r\n" {
				t.Fatalf("PUBLISH = %q", r)
			}
			continue
		}
		if s.args == nil {
			got = c.ReadReply()
		} else {
			got = c.Do(s.args...)
		}
		if prefix, ok := strings.CutSuffix(s.want, "..."); ok {
			if !strings.HasPrefix(got, prefix) {
				t.Errorf("%s: got %q, want prefix %q", s.name, got, prefix)
			}
		} else if got != s.want {
			t.Errorf("%s: got %q, want %q", s.name, got, s.want)
		}
	}
}

func TestRawConnPipelineAndInline(t *testing.T) {
	c := Dial(t, StartRedis(t))
	c.Send("PING\r\n" + Command("ECHO", "x") + "*1\r\n$4\r\nPI")
	c.Send("NG\r\n")
	for _, want := range []string{"+PONG\r\n", "$1\r\nx\r\n", "+PONG\r\n"} {
		if got := c.ReadReply(); got != want {
			t.Errorf("got %q, want %q", got, want)
		}
	}
}

func TestExpectClosedRedis(t *testing.T) {
	addr := StartRedis(t)
	tests := []struct {
		name  string
		send  string
		reply string
	}{
		{"quit", Command("QUIT"), "+OK\r\n"},
		{"protocol error", "*1\r\n$x\r\n", "-ERR Protocol error: invalid bulk length\r\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := Dial(t, addr)
			c.Send(tt.send)
			if got := c.ReadReply(); got != tt.reply {
				t.Fatalf("got %q, want %q", got, tt.reply)
			}
			c.ExpectClosed(5 * time.Second)
		})
	}

	t.Run("still open", func(t *testing.T) {
		c := Dial(t, addr)
		f := runFake(t, func(tb testing.TB) { c.t = tb; c.ExpectClosed(20 * time.Millisecond) })
		if !f.failed || !strings.Contains(f.msg, "did not close") {
			t.Fatalf("failed=%v msg=%q, want a did-not-close failure", f.failed, f.msg)
		}
	})
	t.Run("unread reply", func(t *testing.T) {
		c := Dial(t, addr)
		c.Send(Command("QUIT"))
		f := runFake(t, func(tb testing.TB) { c.t = tb; c.ExpectClosed(5 * time.Second) })
		if !f.failed || !strings.Contains(f.msg, "+OK") {
			t.Fatalf("failed=%v msg=%q, want a failure quoting +OK", f.failed, f.msg)
		}
	})
}

// serve starts a one-connection server on 127.0.0.1 that writes script and
// then closes (or, with hold, keeps the connection open until the test ends).
func serve(t *testing.T, script string, hold bool) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	t.Cleanup(func() { l.Close(); <-done })
	release := make(chan struct{})
	t.Cleanup(func() { close(release) })
	go func() {
		defer close(done)
		conn, err := l.Accept()
		if err != nil {
			return
		}
		defer conn.Close()
		_, _ = conn.Write([]byte(script))
		if hold {
			<-release
		}
	}()
	return l.Addr().String()
}

func TestReadReplyCanned(t *testing.T) {
	tests := []struct {
		name    string
		wire    string
		want    []string // replies in order
		wantErr string   // failure reading the reply after want
	}{
		{name: "bulk error", wire: "!21\r\nSYNTAX invalid syntax\r\n", want: []string{"!21\r\nSYNTAX invalid syntax\r\n"}},
		{name: "null array resp2 and nested", wire: "*-1\r\n*2\r\n*1\r\n:1\r\n%1\r\n+a\r\n~0\r\n",
			want: []string{"*-1\r\n", "*2\r\n*1\r\n:1\r\n%1\r\n+a\r\n~0\r\n"}},
		{name: "streamed string", wire: "$?\r\n;4\r\nHell\r\n;1\r\no\r\n;0\r\n+next\r\n",
			want: []string{"$?\r\n;4\r\nHell\r\n;1\r\no\r\n;0\r\n", "+next\r\n"}},
		{name: "streamed aggregate", wire: "*?\r\n:1\r\n*?\r\n.\r\n$1\r\nx\r\n.\r\n%?\r\n+a\r\n:1\r\n.\r\n",
			want: []string{"*?\r\n:1\r\n*?\r\n.\r\n$1\r\nx\r\n.\r\n", "%?\r\n+a\r\n:1\r\n.\r\n"}},
		{name: "attribute on array element", wire: "*2\r\n|1\r\n+ttl\r\n:3\r\n:10\r\n:20\r\n",
			want: []string{"*2\r\n|1\r\n+ttl\r\n:3\r\n:10\r\n:20\r\n"}},
		{name: "all line types", wire: "+s\r\n-E e\r\n:-5\r\n_\r\n,inf\r\n#t\r\n(-12\r\n",
			want: []string{"+s\r\n", "-E e\r\n", ":-5\r\n", "_\r\n", ",inf\r\n", "#t\r\n", "(-12\r\n"}},
		{name: "unknown type", wire: "?x\r\n", wantErr: "unknown reply type"},
		{name: "bare newline", wire: "+OK\n", wantErr: "malformed line"},
		{name: "bad length", wire: "$abc\r\n", wantErr: "bad length"},
		{name: "negative set", wire: "~-1\r\n", wantErr: "out of range"},
		{name: "bulk without crlf", wire: "$2\r\nabcd", wantErr: "not followed by CRLF"},
		{name: "truncated", wire: "*3\r\n:1\r\n", wantErr: "EOF"},
		{name: "timeout", wire: "*2\r\n:1\r\n", wantErr: "timeout"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := Dial(t, serve(t, tt.wire, tt.name == "timeout"))
			for _, want := range tt.want {
				if got := c.ReadReply(); got != want {
					t.Fatalf("got %q, want %q", got, want)
				}
			}
			if tt.wantErr == "" {
				c.ExpectClosed(5 * time.Second)
				return
			}
			c.SetTimeout(50 * time.Millisecond)
			f := runFake(t, func(tb testing.TB) { c.t = tb; c.ReadReply() })
			if !f.failed || !strings.Contains(f.msg, tt.wantErr) {
				t.Fatalf("failed=%v msg=%q, want a failure containing %q", f.failed, f.msg, tt.wantErr)
			}
		})
	}
}

func TestCommand(t *testing.T) {
	if got, want := Command("SET", "k", ""), "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$0\r\n\r\n"; got != want {
		t.Fatalf("Command = %q, want %q", got, want)
	}
}

func TestLengthBounds(t *testing.T) {
	tests := []struct {
		head     string
		nullable bool
		want     int
		wantErr  bool
	}{
		{"0", false, 0, false},
		{"-1", true, -1, false},
		{"-1", false, 0, true},
		{"-2", true, 0, true},
		{strconv.Itoa(maxBulk + 1), false, 0, true},
		{"", false, 0, true},
	}
	for _, tt := range tests {
		got, err := length(tt.head, tt.nullable)
		if got != tt.want || (err != nil) != tt.wantErr {
			t.Errorf("length(%q, %v) = %d, %v; want %d, err=%v", tt.head, tt.nullable, got, err, tt.want, tt.wantErr)
		}
	}
}
