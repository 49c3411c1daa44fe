package testkit

import (
	"bufio"
	"bytes"
	"errors"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Timeouts for starting and stopping a redis-server.
const (
	redisStartTimeout = 10 * time.Second
	redisStopTimeout  = 10 * time.Second
	redisStartTries   = 5 // fresh ports tried when the chosen one was taken
)

// FreePort returns a TCP port on 127.0.0.1 that was free a moment ago. Another
// process may take it before the caller binds it; prefer listening on port 0
// where the code under test allows it. The port is drawn below the kernel's
// ephemeral range (ip_local_port_range), which every outgoing connection and
// every listener on port 0 of the parallel test packages draws from: a port
// from that range is soon taken again.
func FreePort(t testing.TB) int {
	t.Helper()
	lo, hi := freePortLow, ephemeralStart()-1
	for range 50 {
		port := lo + rand.IntN(hi-lo+1)
		l, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(port))
		if err != nil {
			continue
		}
		if err := l.Close(); err != nil {
			t.Fatalf("testkit: free port: %v", err)
		}
		return port
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("testkit: free port: %v", err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	if err := l.Close(); err != nil {
		t.Fatalf("testkit: free port: %v", err)
	}
	return port
}

// freePortLow is the lowest port FreePort draws.
const freePortLow = 20000

// ephemeralStart returns the first port of the kernel's ephemeral range,
// or Linux's default 32768 when it cannot be read.
func ephemeralStart() int {
	b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range")
	if err != nil {
		return 32768
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return 32768
	}
	n, err := strconv.Atoi(f[0])
	if err != nil || n <= freePortLow+1000 {
		return 32768
	}
	return n
}

// RedisBin returns the path of the redis binary name (redis-server,
// redis-cli, redis-benchmark) found in PATH. When it is missing the test is
// skipped, unless the environment variable CI is "true", in which case the
// test fails: CI must exercise what a laptop may lack.
func RedisBin(t testing.TB, name string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err != nil {
		msg := "testkit: " + name + " not found in PATH (install redis-tools/redis-server to run this test): " + err.Error()
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	return path
}

// StartRedis starts a redis-server on 127.0.0.1 and a free port, with
// persistence off (--save "" --appendonly no), in the foreground and with a
// temporary working directory, and returns its address "127.0.0.1:port" once
// it answers PING. extraArgs are appended to the command line, for example
// "--enable-debug-command", "local". A t.Cleanup stops exactly that process
// (SIGTERM, then SIGKILL if it lingers) and waits for it. The server's output
// is included in the failure message if it does not come up. Skips or fails
// like RedisBin when redis-server is absent.
func StartRedis(t testing.TB, extraArgs ...string) string {
	t.Helper()
	bin := RedisBin(t, "redis-server")
	dir := t.TempDir()
	var lastErr error
	for range redisStartTries {
		addr, p, err := startRedis(bin, dir, extraArgs)
		if err == nil {
			t.Cleanup(p.stop)
			return addr
		}
		lastErr = err
		if !errors.Is(err, errAddrInUse) {
			break
		}
	}
	t.Fatalf("testkit: start redis-server: %v", lastErr)
	return ""
}

// errAddrInUse marks a start that failed because the port was taken.
var errAddrInUse = errors.New("testkit: port already in use")

// redisProc is a running redis-server started by StartRedis.
type redisProc struct {
	cmd    *exec.Cmd
	exited chan struct{} // closed once cmd.Wait has returned
	out    *SyncBuffer   // the server's stdout and stderr
}

// startRedis launches one redis-server and waits until it answers PING or
// exits. On failure the process is stopped before returning.
func startRedis(bin, dir string, extraArgs []string) (string, *redisProc, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))

	args := []string{
		"--bind", "127.0.0.1",
		"--port", strconv.Itoa(port),
		"--save", "",
		"--appendonly", "no",
		"--daemonize", "no",
		"--dir", dir,
		"--logfile", "",
	}
	p := &redisProc{
		cmd:    exec.Command(bin, append(args, extraArgs...)...),
		exited: make(chan struct{}),
		out:    &SyncBuffer{},
	}
	p.cmd.Stdout, p.cmd.Stderr = p.out, p.out
	if err := p.cmd.Start(); err != nil {
		return "", nil, err
	}
	go func() {
		_ = p.cmd.Wait()
		close(p.exited)
	}()

	deadline := time.Now().Add(redisStartTimeout)
	wait := pollStart
	for {
		if ping(addr) == nil {
			return addr, p, nil
		}
		timer := time.NewTimer(min(wait, time.Until(deadline)))
		select {
		case <-p.exited:
			timer.Stop()
			out := p.out.String()
			err := errors.New("redis-server exited: " + p.cmd.ProcessState.String() + "\n" + out)
			if strings.Contains(out, "Address already in use") {
				err = errors.Join(errAddrInUse, err)
			}
			return "", nil, err
		case <-timer.C:
		}
		if time.Now().After(deadline) {
			p.stop()
			return "", nil, errors.New("redis-server on " + addr + " did not answer PING within " +
				redisStartTimeout.String() + "\n" + p.out.String())
		}
		wait = min(2*wait, pollMax)
	}
}

// stop terminates the process and waits for it to exit.
func (p *redisProc) stop() {
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	timer := time.NewTimer(redisStopTimeout)
	defer timer.Stop()
	select {
	case <-p.exited:
	case <-timer.C:
		_ = p.cmd.Process.Kill()
		<-p.exited
	}
}

// ping sends an inline PING to addr and checks for +PONG.
func ping(addr string) error {
	conn, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return err
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(time.Second))
	if _, err := conn.Write([]byte("PING\r\n")); err != nil {
		return err
	}
	line, err := bufio.NewReader(conn).ReadString('\n')
	if err != nil {
		return err
	}
	if line != "+PONG\r\n" {
		return errors.New("unexpected PING reply " + strconv.Quote(line))
	}
	return nil
}

// SyncBuffer is a bytes.Buffer safe for concurrent writes and reads, for
// collecting a child process's output while a test reads it.
type SyncBuffer struct {
	mu  sync.Mutex // guards buf
	buf bytes.Buffer
}

func (b *SyncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *SyncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
