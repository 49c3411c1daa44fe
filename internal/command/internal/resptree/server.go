package resptree

import (
	"errors"
	"fmt"
	"net"
	"os/exec"
	"strconv"
	"strings"
	"time"
)

// Server is a redis-server child process listening on 127.0.0.1.
type Server struct {
	Addr string
	cmd  *exec.Cmd
}

// ErrNoServer reports that redis-server is not on PATH.
var ErrNoServer = errors.New("resptree: redis-server not found on PATH")

// StartServer starts redis-server on a free 127.0.0.1 port without
// persistence, plus any extra config arguments ("--requirepass", "x"), and
// waits up to 10 seconds until it accepts connections.
func StartServer(extra ...string) (*Server, error) {
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		return nil, ErrNoServer
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	port := l.Addr().(*net.TCPAddr).Port
	if err := l.Close(); err != nil {
		return nil, err
	}
	args := append([]string{"--port", strconv.Itoa(port), "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "no", "--daemonize", "no"}, extra...)
	cmd := exec.Command(bin, args...)
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	s := &Server{Addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), cmd: cmd}
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := Dial(s.Addr, time.Second)
		if err == nil {
			v, _, err := c.Do("PING")
			c.Close()
			if err == nil && (v.Kind == '+' || v.Kind == '-') {
				return s, nil
			}
		}
		if time.Now().After(deadline) {
			s.Stop()
			return nil, fmt.Errorf("resptree: redis-server on %s did not come up: %v", s.Addr, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Stop kills the server process and waits for it to exit.
func (s *Server) Stop() {
	if s.cmd.Process != nil {
		_ = s.cmd.Process.Kill()
		_ = s.cmd.Wait()
	}
}

// Version returns the version of the redis-server binary that runs, as
// "redis-server --version" prints it.
func (s *Server) Version() (string, error) {
	out, err := exec.Command(s.cmd.Path, "--version").Output()
	if err != nil {
		return "", err
	}
	for _, f := range strings.Fields(string(out)) {
		if v, ok := strings.CutPrefix(f, "v="); ok {
			return v, nil
		}
	}
	return "", fmt.Errorf("resptree: no version in %q", out)
}

// VersionOf returns the redis_version that INFO server reports over c.
func VersionOf(c *Conn) (string, error) {
	v, _, err := c.Do("INFO", "server")
	if err != nil {
		return "", err
	}
	for _, line := range strings.Split(string(v.Str), "\n") {
		if rest, ok := strings.CutPrefix(line, "redis_version:"); ok {
			return strings.TrimSuffix(rest, "\r"), nil
		}
	}
	return "", fmt.Errorf("resptree: no redis_version in INFO")
}
