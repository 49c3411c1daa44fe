package kubernetes

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// binary is the corral binary built from this tree, once per test process.
type binary struct {
	path  string
	flags map[string]map[string]flagInfo // role → flag name → info
}

// flagInfo is one flag as `corral <role> --help` lists it.
type flagInfo struct {
	env, def string
}

var (
	buildOnce sync.Once
	built     *binary
	buildErr  error
)

// corral builds cmd/corral into a temporary directory (once) and reads
// every role's flags from its --help.
func corral(t *testing.T) *binary {
	t.Helper()
	buildOnce.Do(func() { built, buildErr = build(moduleRoot(t)) })
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return built
}

func build(root string) (*binary, error) {
	dir, err := os.MkdirTemp("", "corral-manifests-")
	if err != nil {
		return nil, err
	}
	// The directory outlives the tests that share the binary; the OS
	// temp cleaner or the next run's MkdirTemp do not care.
	b := &binary{path: filepath.Join(dir, "corral"), flags: map[string]map[string]flagInfo{}}
	cmd := exec.Command("go", "build", "-o", b.path, "./cmd/corral")
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("go build ./cmd/corral: %v\n%s", err, out)
	}
	for _, role := range []string{"store", "proxy"} {
		out, err := exec.Command(b.path, role, "--help").CombinedOutput()
		if err != nil {
			return nil, fmt.Errorf("corral %s --help: %v\n%s", role, err, out)
		}
		fl, err := parseHelp(string(out))
		if err != nil {
			return nil, fmt.Errorf("corral %s --help: %w", role, err)
		}
		b.flags[role] = fl
	}
	return b, nil
}

var (
	helpFlag    = regexp.MustCompile(`^  --([a-z0-9-]+)`)
	helpDefault = regexp.MustCompile(`\(default ("(?:[^"\\]|\\.)*"); env (CORRAL_[A-Z0-9_]+)\)$`)
)

// parseHelp reads the flag list of `corral <role> --help`: a line
// "  --name placeholder", then the usage ending in
// (default "value"; env CORRAL_NAME).
func parseHelp(help string) (map[string]flagInfo, error) {
	out := map[string]flagInfo{}
	var name string
	for line := range strings.Lines(help) {
		line = strings.TrimRight(line, "\n")
		if m := helpFlag.FindStringSubmatch(line); m != nil {
			name = m[1]
			continue
		}
		m := helpDefault.FindStringSubmatch(line)
		if m == nil || name == "" {
			continue
		}
		def, err := strconv.Unquote(m[1])
		if err != nil {
			return nil, fmt.Errorf("--%s: default %s: %w", name, m[1], err)
		}
		out[name] = flagInfo{env: m[2], def: def}
		name = ""
	}
	if len(out) < 10 {
		return nil, fmt.Errorf("found %d flags; has the --help format changed?\n%s", len(out), help)
	}
	return out, nil
}

// byEnv returns the flag read from the environment variable env.
func (b *binary) byEnv(role, env string) (string, bool) {
	for name, f := range b.flags[role] {
		if f.env == env {
			return name, true
		}
	}
	return "", false
}

// effective returns the value a flag takes in a container: its variable
// when set and not empty (as corral reads them), else its default.
func (b *binary) effective(role, flag string, env map[string]string) string {
	f, ok := b.flags[role][flag]
	if !ok {
		panic("no flag --" + flag + " for " + role)
	}
	if v := env[f.env]; v != "" {
		return v
	}
	return f.def
}

// process is a corral role running on loopback for a test.
type process struct {
	cmd    *exec.Cmd
	admin  string        // bound admin address
	gossip string        // bound gossip address (cluster members)
	done   chan struct{} // closed when the process exited
	err    error         // its exit status, once done
}

// start runs the corral binary with a container's arguments and
// environment, its addresses moved to free loopback ports (flags win over
// the environment), and waits until it reports the admin address.
func (b *binary) start(t *testing.T, args []string, env map[string]string, extra ...string) *process {
	t.Helper()
	args = append(append([]string{}, args...), "--listen", "127.0.0.1:0", "--admin", "127.0.0.1:0",
		"--gossip", "127.0.0.1:0", "--log-format", "json")
	args = append(args, extra...)
	cmd := exec.Command(b.path, args...)
	cmd.Env = []string{"HOME=" + t.TempDir()}
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &process{cmd: cmd, done: make(chan struct{})}
	started := make(chan [2]string, 1)
	var logs strings.Builder
	var logsMu sync.Mutex
	go func() {
		var gossip string
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			logsMu.Lock()
			logs.WriteString(sc.Text() + "\n")
			logsMu.Unlock()
			var line struct{ Msg, Admin, Gossip string }
			if json.Unmarshal(sc.Bytes(), &line) != nil {
				continue
			}
			switch line.Msg {
			case "cluster node":
				gossip = line.Gossip
			case "corral started":
				started <- [2]string{line.Admin, gossip}
			}
		}
		_, _ = io.Copy(io.Discard, stderr)
		p.err = cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		select {
		case <-p.done:
		default:
			_ = cmd.Process.Kill()
			<-p.done
		}
		if t.Failed() {
			logsMu.Lock()
			t.Logf("corral %s logs:\n%s", strings.Join(args, " "), logs.String())
			logsMu.Unlock()
		}
	})
	select {
	case a := <-started:
		p.admin, p.gossip = a[0], a[1]
	case <-p.done:
		t.Fatalf("corral %s exited before it started: %v", strings.Join(args, " "), p.err)
	case <-time.After(20 * time.Second):
		t.Fatalf("corral %s did not start within 20s", strings.Join(args, " "))
	}
	return p
}

// get fetches path from the admin server and returns the status code and
// body.
func (p *process) get(path string) (int, string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+p.admin+path, nil)
	if err != nil {
		return 0, "", err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body), err
}

// waitCode polls path until it answers want or the deadline passes, and
// returns the last code.
func (p *process) waitCode(path string, want int, within time.Duration) (int, error) {
	deadline := time.Now().Add(within)
	for {
		code, _, err := p.get(path)
		if code == want || time.Now().After(deadline) {
			return code, err
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// terminate sends SIGTERM, as the kubelet does after the preStop hook. A
// process that has already exited (a store drained with nothing to hand
// off exits by itself) is not an error: exited reports how it ended.
func (p *process) terminate() error {
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return err
	}
	return nil
}

// exited waits up to within for the process to end and returns whether it
// did, and its exit status.
func (p *process) exited(within time.Duration) (bool, error) {
	select {
	case <-p.done:
		return true, p.err
	case <-time.After(within):
		return false, nil
	}
}

// port returns the port number of a listen address such as ":9121".
func port(addr string) (int32, error) {
	_, p, err := net.SplitHostPort(addr)
	if err != nil {
		return 0, err
	}
	n, err := strconv.ParseInt(p, 10, 32)
	if err != nil || n <= 0 {
		return 0, errors.Join(err, fmt.Errorf("address %q has no fixed port", addr))
	}
	return int32(n), nil
}
