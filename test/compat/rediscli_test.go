package compat_test

import (
	"bytes"
	"io"
	"net"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"corral/internal/testkit"
)

// cliTimeout bounds each redis-cli run and each wait on its output.
const cliTimeout = 10 * time.Second

// TestRedisCLI runs redis-cli against the proxy: one-shot commands, piped
// commands, and the interactive prompt, whose start-up fetches COMMAND
// DOCS for its hints.
func TestRedisCLI(t *testing.T) {
	cli := testkit.RedisBin(t, "redis-cli")
	px := startProxy(t, targetProxyStore, startStore(t, access{}), access{})
	host, port, err := net.SplitHostPort(px.addr)
	if err != nil {
		t.Fatal(err)
	}
	base := []string{"-h", host, "-p", port}

	tests := []struct {
		name  string
		args  []string
		stdin string
		want  string
	}{
		{"set", []string{"set", "cli:k", "v"}, "", "OK\n"},
		{"get", []string{"get", "cli:k"}, "", "v\n"},
		{"get quoted", []string{"--no-raw", "get", "cli:k"}, "", "\"v\"\n"},
		{"get missing", []string{"--no-raw", "get", "cli:none"}, "", "(nil)\n"},
		{"incr", []string{"--no-raw", "incr", "cli:n"}, "", "(integer) 1\n"},
		{"error", []string{"--no-raw", "incr", "cli:k"}, "", "(error) ERR value is not an integer or out of range\n"},
		{"mget", []string{"--no-raw", "mget", "cli:k", "cli:none"}, "", "1) \"v\"\n2) (nil)\n"},
		{"resp3", []string{"-3", "--no-raw", "get", "cli:none"}, "", "(nil)\n"},
		{"piped", nil, "set cli:p 1\nincr cli:p\nget cli:p\n", "OK\n2\n2\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cmd := exec.Command(cli, append(base, tc.args...)...)
			cmd.Env = cliEnv()
			cmd.Stdin = strings.NewReader(tc.stdin)
			cmd.WaitDelay = cliTimeout
			out, err := runWithTimeout(t, cmd)
			if err != nil {
				t.Fatalf("redis-cli %v: %v\n%s", tc.args, err, out)
			}
			if out != tc.want {
				t.Errorf("redis-cli %v = %q, want %q", tc.args, out, tc.want)
			}
		})
	}

	t.Run("interactive", func(t *testing.T) {
		testInteractiveCLI(t, cli, px, host, port)
	})
}

// testInteractiveCLI starts redis-cli at a prompt on a pseudo-terminal,
// made by util-linux's script(1) (Debian's bsdutils, an essential package,
// so every Debian image has it), types a command and reads the reply.
func testInteractiveCLI(t *testing.T, cli string, px target, host, port string) {
	script, err := exec.LookPath("script")
	if err != nil {
		msg := "script(1) not found (Debian package bsdutils): " + err.Error()
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	if got := testkit.Dial(t, px.addr).Do("SET", "cli:i", "typed"); got != "+OK\r\n" {
		t.Fatalf("SET: %q", got)
	}
	docsBefore := counter(t, px.reg, "corral_requests_total", map[string]string{"cmd": "command|docs", "result": "ok"})

	// stty gives the terminal a size, so linenoise does not query the
	// cursor position; exec leaves redis-cli as the only child.
	line := "stty cols 200 rows 50; exec " + cli + " -h " + host + " -p " + port
	cmd := exec.Command(script, "-qec", line, "/dev/null")
	cmd.Env = cliEnv()
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	var out testkit.SyncBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.WaitDelay = cliTimeout
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{}) // closed once waitErr is set
	var waitErr error
	go func() {
		waitErr = cmd.Wait()
		close(exited)
	}()
	t.Cleanup(func() {
		stdin.Close()
		select {
		case <-exited:
		case <-time.After(cliTimeout):
			cmd.Process.Kill() // the script process this test started
			<-exited
		}
	})

	prompt := host + ":" + port + "> "
	testkit.Eventually(t, func() bool { return strings.Contains(out.String(), prompt) }, cliTimeout,
		"redis-cli prompt %q; output so far %q", prompt, &out)
	// Typing waits for the prompt: linenoise flushes pending input when it
	// puts the terminal in raw mode.
	if _, err := io.WriteString(stdin, "get cli:i\r"); err != nil {
		t.Fatal(err)
	}
	testkit.Eventually(t, func() bool { return strings.Contains(out.String(), `"typed"`) }, cliTimeout,
		"the reply to GET typed at the prompt; output so far %q", &out)
	if _, err := io.WriteString(stdin, "quit\r"); err != nil {
		t.Fatal(err)
	}
	select {
	case <-exited:
		if waitErr != nil {
			t.Errorf("redis-cli session: %v; output %q", waitErr, out.String())
		}
	case <-time.After(cliTimeout):
		t.Errorf("redis-cli did not exit after quit; output %q", out.String())
	}

	// redis-cli sent COMMAND DOCS before its first prompt; the proxy must
	// have answered it without an error.
	if n := counter(t, px.reg, "corral_requests_total", map[string]string{"cmd": "command|docs", "result": "ok"}); n <= docsBefore {
		t.Errorf("the proxy answered COMMAND DOCS successfully %v times during the session; want at least once", n-docsBefore)
	}
	if n := counter(t, px.reg, "corral_requests_total", map[string]string{"cmd": "command|docs", "result": "error"}); n != 0 {
		t.Errorf("the proxy answered COMMAND DOCS with an error %v times", n)
	}
}

// cliEnv is the environment redis-cli runs in: no history file (it
// would land in the user's home) and no user preferences.
func cliEnv() []string {
	return append(os.Environ(), "REDISCLI_HISTFILE=/dev/null", "REDISCLI_RCFILE=/dev/null")
}

// runWithTimeout runs cmd, killing it if it outlives cliTimeout, and
// returns its standard output.
func runWithTimeout(t *testing.T, cmd *exec.Cmd) (string, error) {
	t.Helper()
	var out bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = &out
	if err := cmd.Start(); err != nil {
		return "", err
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		return out.String(), err
	case <-time.After(cliTimeout):
		cmd.Process.Kill() // the redis-cli this test started
		<-done
		return out.String(), os.ErrDeadlineExceeded
	}
}
