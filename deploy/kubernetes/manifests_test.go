package kubernetes

import (
	"fmt"
	"maps"
	"net"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// externalSecrets are the Secrets an overlay leaves to the operator.
var externalSecrets = map[string][]string{
	"overlays/production": {"corral-auth"},
	"overlays/monitoring": {"corral-auth"},
}

// runtimeEnv are the variables besides CORRAL_* a container may set: the
// Go runtime's own.
var runtimeEnv = []string{"GOMEMLIMIT", "GOGC", "GOMAXPROCS", "GODEBUG"}

// drainMargin is what a store needs after its drain: leaving the gossip
// (up to 5s) and closing its servers.
const drainMargin = 10 * time.Second

// TestManifests renders every kustomization, decodes each object strictly
// into its API type, and checks the invariants corral relies on against
// the binary built from this tree.
func TestManifests(t *testing.T) {
	bin := corral(t)
	for _, dir := range kustomizations {
		t.Run(dir, func(t *testing.T) {
			t.Parallel()
			r := render(t, dir)
			store, proxy := r.roles(t)
			t.Run("selectors", func(t *testing.T) { r.checkSelectors(t) })
			t.Run("network", func(t *testing.T) { r.checkNetwork(t, store) })
			t.Run("secrets", func(t *testing.T) { r.checkSecrets(t) })
			for _, w := range []workload{store, proxy} {
				t.Run(w.name+"/flags-and-ports", func(t *testing.T) { r.checkFlagsAndPorts(t, bin, w) })
				t.Run(w.name+"/hardening", func(t *testing.T) { checkHardening(t, w) })
			}
			t.Run("store", func(t *testing.T) { r.checkStore(t, bin, store) })
			t.Run("proxy", func(t *testing.T) { r.checkProxy(t, bin, proxy) })
			t.Run("cluster", func(t *testing.T) { r.checkCluster(t, bin, store, proxy) })
			t.Run("dashboard", func(t *testing.T) { r.checkDashboard(t, moduleRoot(t)) })
			t.Run("live", func(t *testing.T) { r.checkLive(t, bin, store, proxy) })
		})
	}
}

// roles returns the workload running `corral store` and the one running
// `corral proxy`; each rendering has exactly one of each.
func (r *rendering) roles(t *testing.T) (store, proxy workload) {
	t.Helper()
	found := map[string][]workload{}
	for _, w := range r.workloads() {
		cs := w.corralContainers()
		if len(cs) != 1 {
			t.Fatalf("%s %s: %d corral containers, want 1", w.kind, w.name, len(cs))
		}
		found[role(cs[0])] = append(found[role(cs[0])], w)
	}
	if len(found["store"]) != 1 || found["store"][0].kind != "StatefulSet" {
		t.Fatalf("want one StatefulSet running corral store, found %+v", found["store"])
	}
	if len(found["proxy"]) != 1 || found["proxy"][0].kind != "Deployment" {
		t.Fatalf("want one Deployment running corral proxy, found %+v", found["proxy"])
	}
	if len(found) != 2 {
		t.Fatalf("unexpected corral roles: %v", slices.Collect(maps.Keys(found)))
	}
	return found["store"][0], found["proxy"][0]
}

// selects reports whether sel selects the pods of w.
func selects(t *testing.T, sel *metav1.LabelSelector, w workload) bool {
	t.Helper()
	if sel == nil {
		return false
	}
	s, err := metav1.LabelSelectorAsSelector(sel)
	if err != nil {
		t.Fatalf("selector %v: %v", sel, err)
	}
	return !s.Empty() && s.Matches(labels.Set(w.pod.Labels))
}

// selected returns the workloads whose pods sel selects.
func (r *rendering) selected(t *testing.T, sel *metav1.LabelSelector) []workload {
	t.Helper()
	var out []workload
	for _, w := range r.workloads() {
		if selects(t, sel, w) {
			out = append(out, w)
		}
	}
	return out
}

// hasPort reports whether w's corral container has the port, named or
// numbered, with the protocol.
func hasPort(w workload, p intstr.IntOrString, proto corev1.Protocol) bool {
	if proto == "" {
		proto = corev1.ProtocolTCP
	}
	var cp corev1.ContainerPort
	var ok bool
	c := w.corralContainers()[0]
	if p.Type == intstr.String {
		cp, ok = containerPort(c, p.StrVal, 0)
	} else {
		cp, ok = containerPort(c, "", p.IntVal)
	}
	return ok && deref(&cp.Protocol, corev1.ProtocolTCP) == proto
}

// checkSelectors checks that every selector selects the pods it is meant
// for, and that the ports it names exist on them.
func (r *rendering) checkSelectors(t *testing.T) {
	ws := r.workloads()
	for _, w := range ws {
		sel := &metav1.LabelSelector{MatchLabels: w.selector}
		if !selects(t, sel, w) {
			t.Errorf("%s %s: selector %v does not match its pod labels %v", w.kind, w.name, w.selector, w.pod.Labels)
		}
		for _, o := range ws {
			if o.name != w.name && selects(t, sel, o) {
				t.Errorf("%s %s: selector %v also selects the pods of %s", w.kind, w.name, w.selector, o.name)
			}
		}
	}
	for _, s := range r.services {
		got := r.selected(t, &metav1.LabelSelector{MatchLabels: s.Spec.Selector})
		if len(got) != 1 {
			t.Errorf("Service %s: selector %v selects %d workloads, want 1", s.Name, s.Spec.Selector, len(got))
			continue
		}
		for _, p := range s.Spec.Ports {
			target := p.TargetPort
			if target.Type == intstr.Int && target.IntVal == 0 {
				target = intstr.FromInt32(p.Port)
			}
			if !hasPort(got[0], target, p.Protocol) {
				t.Errorf("Service %s port %s: target %s/%s is not a port of %s", s.Name, p.Name, target.String(), p.Protocol, got[0].name)
			}
		}
	}
	for _, p := range r.pdbs {
		if got := r.selected(t, p.Spec.Selector); len(got) != 1 {
			t.Errorf("PodDisruptionBudget %s selects %d workloads, want 1", p.Name, len(got))
		}
	}
	for _, h := range r.hpas {
		ref := h.Spec.ScaleTargetRef
		if !slices.ContainsFunc(ws, func(w workload) bool { return w.kind == ref.Kind && w.name == ref.Name }) {
			t.Errorf("HorizontalPodAutoscaler %s scales %s %s, which is not in the rendering", h.Name, ref.Kind, ref.Name)
		}
	}
	for _, np := range r.netpols {
		targets := r.selected(t, &np.Spec.PodSelector)
		if len(targets) != 1 {
			t.Errorf("NetworkPolicy %s applies to %d workloads, want 1", np.Name, len(targets))
			continue
		}
		for i, rule := range np.Spec.Ingress {
			for _, peer := range rule.From {
				if peer.PodSelector != nil && peer.NamespaceSelector == nil && len(r.selected(t, peer.PodSelector)) == 0 {
					t.Errorf("NetworkPolicy %s rule %d: peer %v selects no corral pod", np.Name, i, peer.PodSelector)
				}
			}
			for _, p := range rule.Ports {
				if p.Port != nil && !hasPort(targets[0], *p.Port, deref(p.Protocol, corev1.ProtocolTCP)) {
					t.Errorf("NetworkPolicy %s rule %d: port %s is not a port of %s", np.Name, i, p.Port.String(), targets[0].name)
				}
			}
		}
	}
	for _, sm := range r.serviceMonitor {
		sel, err := metav1.LabelSelectorAsSelector(&sm.Spec.Selector)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, s := range r.services {
			if !sel.Matches(labels.Set(s.Labels)) {
				continue
			}
			n++
			for _, ep := range sm.Spec.Endpoints {
				if !slices.ContainsFunc(s.Spec.Ports, func(p corev1.ServicePort) bool { return p.Name == ep.Port }) {
					t.Errorf("ServiceMonitor %s selects Service %s, which has no port %q", sm.Name, s.Name, ep.Port)
				}
			}
		}
		if n == 0 {
			t.Errorf("ServiceMonitor %s selects no Service", sm.Name)
		}
	}
}

// checkNetwork checks the NetworkPolicies: every corral pod has one, the
// stores' RESP port admits only corral pods (the stores ask no password),
// and every gossip port admits only cluster members.
func (r *rendering) checkNetwork(t *testing.T, store workload) {
	for _, w := range r.workloads() {
		var pols int
		for _, np := range r.netpols {
			if selects(t, &np.Spec.PodSelector, w) {
				pols++
				guarded := []string{"gossip-tcp", "gossip-udp"}
				if w.name == store.name {
					guarded = append(guarded, "resp")
				}
				r.checkIngress(t, np.Name, w, np.Spec.Ingress, guarded)
			}
		}
		if pols == 0 {
			t.Errorf("no NetworkPolicy applies to %s", w.name)
		}
	}
}

// checkIngress fails when a rule opens one of the guarded ports to anyone
// but corral pods.
func (r *rendering) checkIngress(t *testing.T, policy string, w workload, rules []networkingv1.NetworkPolicyIngressRule, guarded []string) {
	for i, rule := range rules {
		opens := len(rule.Ports) == 0 // no ports: every port
		for _, p := range rule.Ports {
			if p.Port == nil || slices.Contains(guarded, p.Port.StrVal) {
				opens = true
			} else if p.Port.Type == intstr.Int {
				for _, name := range guarded {
					if cp, ok := containerPort(w.corralContainers()[0], name, 0); ok && cp.ContainerPort == p.Port.IntVal {
						opens = true
					}
				}
			}
		}
		if !opens {
			continue
		}
		if len(rule.From) == 0 {
			t.Errorf("NetworkPolicy %s rule %d opens %v of %s to everyone", policy, i, guarded, w.name)
		}
		for _, peer := range rule.From {
			if peer.PodSelector == nil || peer.NamespaceSelector != nil || peer.IPBlock != nil {
				t.Errorf("NetworkPolicy %s rule %d opens %v of %s beyond this namespace's corral pods", policy, i, guarded, w.name)
				continue
			}
			sel, err := metav1.LabelSelectorAsSelector(peer.PodSelector)
			if err != nil {
				t.Fatal(err)
			}
			if sel.Empty() || !sel.Matches(labels.Set{"app.kubernetes.io/name": "corral", "app.kubernetes.io/component": "store"}) && !sel.Matches(labels.Set{"app.kubernetes.io/name": "corral", "app.kubernetes.io/component": "proxy"}) {
				t.Errorf("NetworkPolicy %s rule %d: peer %v is not a corral member selector", policy, i, peer.PodSelector)
			}
			for _, other := range []labels.Set{{"app.kubernetes.io/name": "corral", "app.kubernetes.io/component": "client"}, {"app": "anything"}} {
				if sel.Matches(other) {
					t.Errorf("NetworkPolicy %s rule %d: peer %v admits non-members such as %v", policy, i, peer.PodSelector, other)
				}
			}
		}
	}
}

// checkSecrets checks that every Secret the pods read is in the rendering,
// unless the overlay leaves it to the operator.
func (r *rendering) checkSecrets(t *testing.T) {
	for _, w := range r.workloads() {
		for _, e := range w.corralContainers()[0].Env {
			if e.ValueFrom == nil || e.ValueFrom.SecretKeyRef == nil {
				continue
			}
			name := e.ValueFrom.SecretKeyRef.Name
			_, ok := r.secrets[name]
			if external := slices.Contains(externalSecrets[r.dir], name); ok == external {
				t.Errorf("%s reads Secret %s: in the rendering %t, left to the operator %t", w.name, name, ok, external)
			}
		}
	}
}

// checkFlagsAndPorts checks that every CORRAL_* variable a container gets
// is a flag of its role, and that its ports and probes point at the
// addresses those flags make it listen on.
func (r *rendering) checkFlagsAndPorts(t *testing.T, bin *binary, w workload) {
	c := w.corralContainers()[0]
	rl := role(c)
	env, err := r.env(w, c)
	if err != nil {
		t.Fatalf("%s: %v", w.name, err)
	}
	for _, k := range slices.Sorted(maps.Keys(env)) {
		if strings.HasPrefix(k, "CORRAL_") {
			if _, ok := bin.byEnv(rl, k); !ok {
				t.Errorf("%s: %s is not a flag of corral %s (corral %s --help)", w.name, k, rl, rl)
			}
		} else if !slices.Contains(runtimeEnv, k) {
			t.Errorf("%s: unexpected variable %s (corral reads CORRAL_* only)", w.name, k)
		}
	}
	want := map[string]string{"admin": "admin", "gossip-tcp": "gossip", "gossip-udp": "gossip", "resp": "listen"}
	for name, flag := range want {
		addr := bin.effective(rl, flag, env)
		p, err := port(addr)
		if err != nil {
			t.Errorf("%s: --%s %q: %v", w.name, flag, addr, err)
			continue
		}
		cp, ok := containerPort(c, name, 0)
		if !ok || cp.ContainerPort != p {
			t.Errorf("%s: container port %q = %d, want %d (--%s %s)", w.name, name, cp.ContainerPort, p, flag, addr)
		}
	}
	adminPort, _ := port(bin.effective(rl, "admin", env))
	for what, h := range httpGets(c) {
		if h == nil {
			t.Errorf("%s: %s is not an HTTP GET on the admin port", w.name, what)
			continue
		}
		if !hasPort(w, h.Port, corev1.ProtocolTCP) {
			t.Errorf("%s: %s port %s is not a container port", w.name, what, h.Port.String())
			continue
		}
		cp, _ := containerPort(c, h.Port.StrVal, h.Port.IntVal)
		if cp.ContainerPort != adminPort {
			t.Errorf("%s: %s goes to port %d; the admin server listens on %d", w.name, what, cp.ContainerPort, adminPort)
		}
	}
}

// httpGets returns the container's probes and preStop hook; nil where one
// is missing or not an HTTP GET.
func httpGets(c *corev1.Container) map[string]*corev1.HTTPGetAction {
	probe := func(p *corev1.Probe) *corev1.HTTPGetAction {
		if p == nil {
			return nil
		}
		return p.HTTPGet
	}
	var preStop *corev1.HTTPGetAction
	if c.Lifecycle != nil && c.Lifecycle.PreStop != nil {
		preStop = c.Lifecycle.PreStop.HTTPGet
	}
	return map[string]*corev1.HTTPGetAction{
		"startupProbe":   probe(c.StartupProbe),
		"readinessProbe": probe(c.ReadinessProbe),
		"livenessProbe":  probe(c.LivenessProbe),
		"preStop":        preStop,
	}
}

// wantPaths are the admin endpoints each hook must use: readiness means
// joined (phase active or leaving), liveness means the loops respond, and
// the preStop hook drains.
var wantPaths = map[string]string{
	"startupProbe":   "/ready",
	"readinessProbe": "/ready",
	"livenessProbe":  "/alive",
	"preStop":        "/drain",
}

func checkHardening(t *testing.T, w workload) {
	c := w.corralContainers()[0]
	for what, h := range httpGets(c) {
		if h != nil && h.Path != wantPaths[what] {
			t.Errorf("%s: %s GET %s, want %s", w.name, what, h.Path, wantPaths[what])
		}
	}
	psc, csc := w.pod.Spec.SecurityContext, c.SecurityContext
	if psc == nil || csc == nil {
		t.Fatalf("%s: pod and container security contexts are required", w.name)
	}
	if !deref(psc.RunAsNonRoot, false) || deref(psc.RunAsUser, 0) != 65534 || deref(psc.RunAsGroup, 0) != 65534 {
		t.Errorf("%s: want runAsNonRoot and user and group 65534 (the image's), got %+v", w.name, psc)
	}
	if !deref(csc.ReadOnlyRootFilesystem, false) || deref(csc.AllowPrivilegeEscalation, true) {
		t.Errorf("%s: want a read-only root filesystem and no privilege escalation", w.name)
	}
	if csc.Capabilities == nil || !slices.Contains(csc.Capabilities.Drop, "ALL") {
		t.Errorf("%s: want every capability dropped", w.name)
	}
	req, lim := c.Resources.Requests, c.Resources.Limits
	if req.Cpu().IsZero() || req.Memory().IsZero() || lim.Memory().IsZero() {
		t.Errorf("%s: want CPU and memory requests and a memory limit, got %v", w.name, c.Resources)
	}
}

// checkStore checks the StatefulSet: parallel pods with a volume each,
// found through a headless Service that publishes pods before they are
// ready, a grace period covering the drain, memory request = limit, spread
// over hosts and zones, and a disruption budget keeping RF+1.
func (r *rendering) checkStore(t *testing.T, bin *binary, w workload) {
	sts := r.statefulSets[0]
	c := w.corralContainers()[0]
	env, err := r.env(w, c)
	if err != nil {
		t.Fatal(err)
	}
	if sts.Spec.PodManagementPolicy != "Parallel" {
		t.Errorf("podManagementPolicy %q, want Parallel", sts.Spec.PodManagementPolicy)
	}
	if len(sts.Spec.VolumeClaimTemplates) == 0 {
		t.Error("no volumeClaimTemplates: each store needs its own volume")
	}
	for _, vct := range sts.Spec.VolumeClaimTemplates {
		if !slices.ContainsFunc(c.VolumeMounts, func(m corev1.VolumeMount) bool { return m.Name == vct.Name }) {
			t.Errorf("volume claim %s is not mounted", vct.Name)
		}
	}
	if _, ok := bin.flags["store"]["data-dir"]; ok {
		dir := bin.effective("store", "data-dir", env)
		mounted := slices.ContainsFunc(c.VolumeMounts, func(m corev1.VolumeMount) bool {
			return m.MountPath == dir && slices.ContainsFunc(sts.Spec.VolumeClaimTemplates, func(v corev1.PersistentVolumeClaim) bool { return v.Name == m.Name })
		})
		if !mounted {
			t.Errorf("--data-dir %q is not the mount path of a volume claim: snapshots would not outlive the pod", dir)
		}
	}
	if _, ok := env["CORRAL_NODE_ID"]; ok {
		t.Error("CORRAL_NODE_ID is set: a store's node id must come from its pod's ordinal (the hostname)")
	}
	if req, lim := c.Resources.Requests.Memory(), c.Resources.Limits.Memory(); !req.Equal(*lim) {
		t.Errorf("memory request %s != limit %s", req, lim)
	}

	headless := r.service(sts.Spec.ServiceName)
	switch {
	case headless == nil:
		t.Errorf("serviceName %q: no such Service", sts.Spec.ServiceName)
	case headless.Spec.ClusterIP != corev1.ClusterIPNone:
		t.Errorf("Service %s is not headless (clusterIP %q)", headless.Name, headless.Spec.ClusterIP)
	case !headless.Spec.PublishNotReadyAddresses:
		t.Errorf("Service %s does not publish not-ready addresses: stores could not find each other before they are ready", headless.Name)
	case !selects(t, &metav1.LabelSelector{MatchLabels: headless.Spec.Selector}, w):
		t.Errorf("Service %s does not select the store pods", headless.Name)
	}

	drain, err := time.ParseDuration(bin.effective("store", "drain-timeout", env))
	if err != nil {
		t.Fatal(err)
	}
	grace := time.Duration(deref(w.pod.Spec.TerminationGracePeriodSeconds, 30)) * time.Second
	if grace < drain+drainMargin {
		t.Errorf("terminationGracePeriodSeconds %v < drain timeout %v + %v", grace, drain, drainMargin)
	}

	for _, key := range []string{"kubernetes.io/hostname", "topology.kubernetes.io/zone"} {
		i := slices.IndexFunc(w.pod.Spec.TopologySpreadConstraints, func(c corev1.TopologySpreadConstraint) bool { return c.TopologyKey == key })
		if i < 0 {
			t.Errorf("no topology spread over %s", key)
		} else if !selects(t, w.pod.Spec.TopologySpreadConstraints[i].LabelSelector, w) {
			t.Errorf("the topology spread over %s does not select the store pods", key)
		}
	}

	rf, err := strconv.Atoi(bin.effective("store", "replicas", env))
	if err != nil {
		t.Fatal(err)
	}
	if int(w.replicas) < rf {
		t.Errorf("%d stores cannot hold RF %d copies", w.replicas, rf)
	}
	var budgets int
	for _, p := range r.pdbs {
		if !selects(t, p.Spec.Selector, w) {
			continue
		}
		budgets++
		var floor int
		switch {
		case p.Spec.MinAvailable != nil:
			floor, err = intstr.GetScaledValueFromIntOrPercent(p.Spec.MinAvailable, int(w.replicas), true)
		case p.Spec.MaxUnavailable != nil:
			var down int
			down, err = intstr.GetScaledValueFromIntOrPercent(p.Spec.MaxUnavailable, int(w.replicas), true)
			floor = int(w.replicas) - down
		}
		if err != nil {
			t.Fatal(err)
		}
		if floor < rf+1 {
			t.Errorf("PodDisruptionBudget %s keeps %d stores, want at least RF+1 = %d", p.Name, floor, rf+1)
		}
		if floor >= int(w.replicas) {
			t.Errorf("PodDisruptionBudget %s keeps %d of %d stores: no node could ever be drained", p.Name, floor, w.replicas)
		}
	}
	if budgets == 0 && int(w.replicas) > rf+1 {
		t.Errorf("%d stores and no PodDisruptionBudget keeping RF+1 = %d", w.replicas, rf+1)
	}
}

func (r *rendering) service(name string) *corev1.Service {
	for _, s := range r.services {
		if s.Name == name {
			return s
		}
	}
	return nil
}

// checkProxy checks the Deployment: the client Service on the proxies'
// RESP port, zone-local, and the autoscaler and budget when present.
func (r *rendering) checkProxy(t *testing.T, bin *binary, w workload) {
	c := w.corralContainers()[0]
	env, err := r.env(w, c)
	if err != nil {
		t.Fatal(err)
	}
	if env["CORRAL_UPSTREAM"] != "" {
		t.Error("CORRAL_UPSTREAM is set: proxies route over the store cluster (CORRAL_SEEDS)")
	}
	listen, _ := port(bin.effective("proxy", "listen", env))
	var clients int
	for _, s := range r.services {
		if s.Spec.ClusterIP == corev1.ClusterIPNone || !selects(t, &metav1.LabelSelector{MatchLabels: s.Spec.Selector}, w) {
			continue
		}
		clients++
		if !slices.ContainsFunc(s.Spec.Ports, func(p corev1.ServicePort) bool { return p.Port == 6379 && p.TargetPort.StrVal == "resp" }) {
			t.Errorf("client Service %s does not map 6379 to the proxies' RESP port (%d)", s.Name, listen)
		}
		if deref(s.Spec.TrafficDistribution, "") != corev1.ServiceTrafficDistributionPreferClose {
			t.Errorf("client Service %s: trafficDistribution %q, want PreferClose", s.Name, deref(s.Spec.TrafficDistribution, ""))
		}
		if slices.ContainsFunc(s.Spec.Ports, func(p corev1.ServicePort) bool { return p.TargetPort.StrVal == "admin" }) {
			t.Errorf("client Service %s exposes the admin port (and /drain) to clients", s.Name)
		}
	}
	if clients != 1 {
		t.Errorf("%d client Services select the proxies, want 1", clients)
	}
	for _, h := range r.hpas {
		if h.Spec.ScaleTargetRef.Name != w.name {
			continue
		}
		if deref(h.Spec.MinReplicas, 1) < 2 || deref(h.Spec.MinReplicas, 1) > w.replicas {
			t.Errorf("HorizontalPodAutoscaler %s: minReplicas %d, want 2 to the Deployment's %d", h.Name, deref(h.Spec.MinReplicas, 1), w.replicas)
		}
		if len(h.Spec.Metrics) == 0 || h.Spec.Metrics[0].Resource == nil || h.Spec.Metrics[0].Resource.Name != corev1.ResourceCPU {
			t.Errorf("HorizontalPodAutoscaler %s does not scale on CPU", h.Name)
		}
	}
	if len(r.hpas) > 0 && w.replicas < 2 {
		t.Errorf("%d proxies; want 2 or more", w.replicas)
	}
}

// checkCluster checks that stores and proxies agree on what must be the
// same on every member, and that both find the stores through the headless
// Service.
func (r *rendering) checkCluster(t *testing.T, bin *binary, store, proxy workload) {
	sts := r.statefulSets[0]
	envs := map[string]map[string]string{}
	for _, w := range []workload{store, proxy} {
		env, err := r.env(w, w.corralContainers()[0])
		if err != nil {
			t.Fatal(err)
		}
		envs[role(w.corralContainers()[0])] = env
	}
	for _, flag := range []string{"partitions", "replicas", "cluster-secret", "gossip"} {
		s, p := bin.effective("store", flag, envs["store"]), bin.effective("proxy", flag, envs["proxy"])
		if s != p {
			t.Errorf("--%s: store %q, proxy %q; every member needs the same", flag, s, p)
		}
	}
	gossip, _ := port(bin.effective("store", "gossip", envs["store"]))
	for rl, env := range envs {
		seeds := bin.effective(rl, "seeds", env)
		if seeds == "" {
			t.Errorf("%s: no seeds", rl)
		}
		for _, seed := range strings.Split(seeds, ",") {
			host, p, err := net.SplitHostPort(seed)
			if err != nil {
				host, p = seed, "7946"
			}
			if host != sts.Spec.ServiceName || p != fmt.Sprint(gossip) {
				t.Errorf("%s: seed %q, want the headless Service %s on the gossip port %d", rl, seed, sts.Spec.ServiceName, gossip)
			}
		}
	}
}

// checkLive runs the binary as the pods run it, with each container's
// environment (addresses moved to loopback): the store turns ready, the
// proxy turns ready once it sees the store (which needs the same
// partitions and cluster secret), each answers its probes, and each exits
// within its grace period after what the kubelet does on termination: the
// preStop GET /drain, then SIGTERM.
func (r *rendering) checkLive(t *testing.T, bin *binary, store, proxy workload) {
	envOf := func(w workload) map[string]string {
		env, err := r.env(w, w.corralContainers()[0])
		if err != nil {
			t.Fatal(err)
		}
		return env
	}
	sc, pc := store.corralContainers()[0], proxy.corralContainers()[0]
	senv, penv := envOf(store), envOf(proxy)
	// A one-node cluster (the pod's seed names a Service that does not
	// exist here), with its snapshots in a temporary directory.
	extra := []string{"--seeds="}
	if _, ok := bin.flags["store"]["data-dir"]; ok {
		extra = append(extra, "--data-dir", t.TempDir())
	}
	st := bin.start(t, sc.Args, senv, extra...)
	px := bin.start(t, pc.Args, penv, "--seeds", st.gossip)
	for _, p := range []struct {
		w    workload
		c    *corev1.Container
		proc *process
	}{{store, sc, st}, {proxy, pc, px}} {
		for _, what := range []string{"startupProbe", "readinessProbe", "livenessProbe"} {
			h := httpGets(p.c)[what]
			if h == nil {
				continue // reported by checkFlagsAndPorts
			}
			if code, err := p.proc.waitCode(h.Path, 200, 15*time.Second); code != 200 {
				t.Errorf("%s: %s GET %s = %d %v, want 200", p.w.name, what, h.Path, code, err)
			}
		}
	}
	if t.Failed() {
		return
	}

	// The proxy goes first, as in a rollout of the proxies.
	drain := func(w workload, c *corev1.Container, proc *process) {
		h := httpGets(c)["preStop"]
		if h == nil {
			return
		}
		if code, body, err := proc.get(h.Path); code != 200 {
			t.Errorf("%s: preStop GET %s = %d %q %v, want 200", w.name, h.Path, code, body, err)
		}
	}
	grace := func(w workload) time.Duration {
		return time.Duration(deref(w.pod.Spec.TerminationGracePeriodSeconds, 30)) * time.Second
	}
	drain(proxy, pc, px)
	if err := px.terminate(); err != nil {
		t.Fatal(err)
	}
	if done, err := px.exited(grace(proxy)); !done || err != nil {
		t.Errorf("proxy: after preStop and SIGTERM: exited %t (%v) within the %v grace period", done, err, grace(proxy))
	}
	drain(store, sc, st)
	if err := st.terminate(); err != nil {
		t.Fatal(err)
	}
	if done, err := st.exited(grace(store)); !done || err != nil {
		t.Errorf("store: after preStop and SIGTERM: exited %t (%v) within the %v grace period", done, err, grace(store))
	}
}
