//go:build e2e

package e2e

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
)

// labelKey marks every container and network an e2e run creates; cleanup
// removes exactly those with this run's value.
const labelKey = "corral.e2e.run"

// docker drives the Docker CLI for one e2e run: a private network and the
// containers on it, all named and labelled with the run's id.
type docker struct {
	t       *testing.T
	run     string // the run's id
	image   string
	network string
	subnet  string
	volumes string // host directory holding the pods' persistent volumes

	mu   sync.Mutex // guards pods
	pods map[string]*pod
}

// pod is one container standing in for a Kubernetes pod.
type pod struct {
	name      string // pod name and hostname: corral-store-0, corral-proxy-xxxxx
	container string // docker container name
	ip        string
	tmpl      *corev1.PodTemplateSpec
	c         *corev1.Container
	alias     string // network alias (the headless Service), if any
}

// cmd runs docker with args and returns its trimmed stdout.
func (d *docker) cmd(ctx context.Context, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	c := exec.CommandContext(ctx, "docker", args...)
	var out, errb bytes.Buffer
	c.Stdout, c.Stderr = &out, &errb
	if err := c.Run(); err != nil {
		return "", fmt.Errorf("docker %s: %v: %s", strings.Join(args, " "), err, strings.TrimSpace(errb.String()))
	}
	return strings.TrimSpace(out.String()), nil
}

func (d *docker) must(ctx context.Context, args ...string) string {
	d.t.Helper()
	out, err := d.cmd(ctx, args...)
	if err != nil {
		d.t.Fatal(err)
	}
	return out
}

// createNetwork makes the run's bridge network with a subnet of its own,
// so that a container can be reconnected with the address it had (as a
// pod keeps its IP through a network cut).
func (d *docker) createNetwork(ctx context.Context) {
	d.t.Helper()
	d.network = "corral-e2e-" + d.run
	var err error
	for range 8 {
		d.subnet = fmt.Sprintf("10.%d.%d.0/24", 200+rand.IntN(50), rand.IntN(256))
		if _, err = d.cmd(ctx, "network", "create", "--driver", "bridge", "--subnet", d.subnet,
			"--label", labelKey+"="+d.run, d.network); err == nil {
			return
		}
		if !strings.Contains(err.Error(), "overlap") {
			break
		}
	}
	d.t.Fatal(err)
}

// cleanup removes the run's containers and network, and nothing else.
func (d *docker) cleanup() {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	ids, _ := d.cmd(ctx, "ps", "-aq", "--filter", "label="+labelKey+"="+d.run)
	if ids != "" {
		if _, err := d.cmd(ctx, append([]string{"rm", "-f", "-v"}, strings.Fields(ids)...)...); err != nil {
			d.t.Log(err)
		}
	}
	nets, _ := d.cmd(ctx, "network", "ls", "-q", "--filter", "label="+labelKey+"="+d.run)
	for _, n := range strings.Fields(nets) {
		if _, err := d.cmd(ctx, "network", "rm", n); err != nil {
			d.t.Log(err)
		}
	}
}

// runPod starts a container configured as the kubelet would start the pod:
// the template's arguments, environment (ConfigMaps, Secrets, pod name,
// limits), user, read-only root, memory limit, and its volumes: a
// directory per volume claim that persists for the pod's name, a tmpfs for
// any other. alias, when set, is the network alias the pod is found under
// (the headless Service).
func (d *docker) runPod(ctx context.Context, m *manifests, tmpl *corev1.PodTemplateSpec, name, alias string) *pod {
	d.t.Helper()
	c := &tmpl.Spec.Containers[0]
	env, err := m.env(c, name)
	if err != nil {
		d.t.Fatal(err)
	}
	p := &pod{name: name, container: "corral-e2e-" + d.run + "-" + name, tmpl: tmpl, c: c, alias: alias}
	args := []string{"run", "-d", "--name", p.container, "--hostname", name,
		"--label", labelKey + "=" + d.run, "--network", d.network}
	if alias != "" {
		args = append(args, "--network-alias", alias)
	}
	if sc := tmpl.Spec.SecurityContext; sc != nil && sc.RunAsUser != nil {
		args = append(args, "--user", fmt.Sprintf("%d:%d", *sc.RunAsUser, deref(sc.RunAsGroup, *sc.RunAsUser)))
	}
	if sc := c.SecurityContext; sc != nil {
		if deref(sc.ReadOnlyRootFilesystem, false) {
			args = append(args, "--read-only")
		}
		if sc.Capabilities != nil {
			for _, cp := range sc.Capabilities.Drop {
				args = append(args, "--cap-drop", string(cp))
			}
		}
		if !deref(sc.AllowPrivilegeEscalation, true) {
			args = append(args, "--security-opt", "no-new-privileges")
		}
	}
	if q, ok := c.Resources.Limits[corev1.ResourceMemory]; ok {
		b := strconv.FormatInt(q.Value(), 10)
		args = append(args, "--memory", b, "--memory-swap", b)
	}
	for _, vm := range c.VolumeMounts {
		if !slices.Contains(m.claims, vm.Name) {
			args = append(args, "--tmpfs", vm.MountPath+":rw,mode=1777")
			continue
		}
		// A volume claim: like a PVC, a directory that outlives the
		// container and comes back with the pod of the same name, owned
		// by the pod's fsGroup.
		dir := filepath.Join(d.volumes, vm.Name+"-"+name)
		if err := os.MkdirAll(dir, 0o700); err != nil {
			d.t.Fatal(err)
		}
		if sc := tmpl.Spec.SecurityContext; sc != nil && sc.RunAsUser != nil {
			if err := os.Chown(dir, int(*sc.RunAsUser), int(deref(sc.FSGroup, deref(sc.RunAsGroup, *sc.RunAsUser)))); err != nil {
				d.t.Fatal(err)
			}
		}
		args = append(args, "--mount", "type=bind,source="+dir+",target="+vm.MountPath)
	}
	for _, kv := range env {
		args = append(args, "-e", kv)
	}
	args = append(args, d.image)
	args = append(args, c.Args...)
	d.must(ctx, args...)
	p.ip = d.ipOf(ctx, p.container)
	d.mu.Lock()
	d.pods[name] = p
	d.mu.Unlock()
	return p
}

// runOrigin starts the bench origin simulator from the same image, found
// under alias.
func (d *docker) runOrigin(ctx context.Context, alias string, args ...string) *pod {
	d.t.Helper()
	p := &pod{name: alias, container: "corral-e2e-" + d.run + "-" + alias, alias: alias}
	run := []string{"run", "-d", "--name", p.container, "--hostname", alias, "--label", labelKey + "=" + d.run,
		"--network", d.network, "--network-alias", alias, "--read-only", "--user", "65534:65534", d.image}
	d.must(ctx, append(run, args...)...)
	p.ip = d.ipOf(ctx, p.container)
	return p
}

func (d *docker) ipOf(ctx context.Context, container string) string {
	d.t.Helper()
	ip := d.must(ctx, "inspect", "-f", `{{(index .NetworkSettings.Networks "`+d.network+`").IPAddress}}`, container)
	if ip == "" || ip == "<no value>" {
		d.t.Fatalf("%s has no address on %s", container, d.network)
	}
	return ip
}

// kill ends a pod's process with SIGKILL, without its preStop hook, and
// removes the container.
func (d *docker) kill(ctx context.Context, p *pod) {
	d.t.Helper()
	d.must(ctx, "kill", "--signal", "KILL", p.container)
	d.must(ctx, "rm", "-f", "-v", p.container)
}

// stop is what the kubelet does to a pod it deletes: the preStop hook, then
// SIGTERM, then SIGKILL once terminationGracePeriodSeconds have passed since
// the hook began. It returns how long the pod took to exit.
func (d *docker) stop(ctx context.Context, p *pod) (time.Duration, error) {
	start := time.Now()
	grace := time.Duration(deref(p.tmpl.Spec.TerminationGracePeriodSeconds, 30)) * time.Second
	if h := p.c.Lifecycle; h != nil && h.PreStop != nil && h.PreStop.HTTPGet != nil {
		path, portName := httpGetPath(h.PreStop.HTTPGet)
		if code, _, err := httpGet(ctx, fmt.Sprintf("http://%s:%d%s", p.ip, port(p.c, portName), path), grace); code != 200 {
			return 0, fmt.Errorf("%s: preStop GET %s = %d %v", p.name, path, code, err)
		}
	}
	left := max(grace-time.Since(start), 0)
	if _, err := d.cmd(ctx, "stop", "--time", strconv.Itoa(int(left.Seconds())), p.container); err != nil {
		return 0, err
	}
	took := time.Since(start)
	status, err := d.cmd(ctx, "inspect", "-f", "{{.State.ExitCode}}", p.container)
	if err != nil {
		return took, err
	}
	if _, err := d.cmd(ctx, "rm", "-f", "-v", p.container); err != nil {
		return took, err
	}
	if status != "0" {
		return took, fmt.Errorf("%s exited with status %s after its preStop hook and SIGTERM", p.name, status)
	}
	return took, nil
}

// disconnect cuts a pod off the network; connect puts it back with the
// address and alias it had.
func (d *docker) disconnect(ctx context.Context, p *pod) {
	d.t.Helper()
	d.must(ctx, "network", "disconnect", d.network, p.container)
}

func (d *docker) connect(ctx context.Context, p *pod) {
	d.t.Helper()
	args := []string{"network", "connect", "--ip", p.ip}
	if p.alias != "" {
		args = append(args, "--alias", p.alias)
	}
	d.must(ctx, append(args, d.network, p.container)...)
}

// logs returns the tail of every container's output, for a failed run.
func (d *docker) logs(ctx context.Context) string {
	var b strings.Builder
	names, _ := d.cmd(ctx, "ps", "-a", "--filter", "label="+labelKey+"="+d.run, "--format", "{{.Names}}")
	for _, n := range strings.Fields(names) {
		c := exec.CommandContext(ctx, "docker", "logs", "--tail", "60", n)
		out, _ := c.CombinedOutput()
		fmt.Fprintf(&b, "--- %s\n%s\n", n, out)
	}
	return b.String()
}

func deref[T any](p *T, def T) T {
	if p == nil {
		return def
	}
	return *p
}
