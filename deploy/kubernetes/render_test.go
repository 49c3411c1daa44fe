package kubernetes

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	"sigs.k8s.io/yaml"
)

// kustomizations are the directories `kubectl apply -k` is documented to
// take, relative to this package; each is rendered and checked.
var kustomizations = []string{
	".",
	"base",
	"overlays/dev",
	"overlays/production",
	"overlays/monitoring",
	"../e2e",
}

// rendering is one kustomization's output, strictly decoded.
type rendering struct {
	dir string

	statefulSets   []*appsv1.StatefulSet
	deployments    []*appsv1.Deployment
	services       []*corev1.Service
	configMaps     map[string]*corev1.ConfigMap
	secrets        map[string]*corev1.Secret
	pdbs           []*policyv1.PodDisruptionBudget
	hpas           []*autoscalingv2.HorizontalPodAutoscaler
	netpols        []*networkingv1.NetworkPolicy
	serviceMonitor []*monitoringv1.ServiceMonitor
}

// kustomizeMu serializes kustomize runs.
var kustomizeMu sync.Mutex

// render runs kustomize on dir as `kubectl kustomize` does and decodes
// every object into its API type, failing on unknown kinds and fields.
func render(t *testing.T, dir string) *rendering {
	t.Helper()
	abs, err := filepath.Abs(dir)
	if err != nil {
		t.Fatal(err)
	}
	k := krusty.MakeKustomizer(krusty.MakeDefaultOptions())
	// kyaml initializes its OpenAPI schema lazily without a lock (a data
	// race between parallel subtests): one kustomize run at a time.
	kustomizeMu.Lock()
	resMap, err := k.Run(filesys.MakeFsOnDisk(), abs)
	kustomizeMu.Unlock()
	if err != nil {
		t.Fatalf("kustomize build %s: %v", dir, err)
	}
	r := &rendering{dir: dir, configMaps: map[string]*corev1.ConfigMap{}, secrets: map[string]*corev1.Secret{}}
	for _, res := range resMap.Resources() {
		doc, err := res.AsYAML()
		if err != nil {
			t.Fatalf("%s: %s: %v", dir, res.CurId(), err)
		}
		if err := r.add(res.GetApiVersion(), res.GetKind(), doc); err != nil {
			t.Errorf("%s: %s %s: %v", dir, res.GetKind(), res.GetName(), err)
		}
	}
	if t.Failed() {
		t.FailNow()
	}
	return r
}

// add decodes one object strictly: a field the API type does not have (a
// typo, a wrong indentation) is an error, as is a duplicate field.
func (r *rendering) add(apiVersion, kind string, doc []byte) error {
	into := func(obj any) error { return yaml.UnmarshalStrict(doc, obj) }
	switch apiVersion + " " + kind {
	case "apps/v1 StatefulSet":
		o := new(appsv1.StatefulSet)
		r.statefulSets = append(r.statefulSets, o)
		return into(o)
	case "apps/v1 Deployment":
		o := new(appsv1.Deployment)
		r.deployments = append(r.deployments, o)
		return into(o)
	case "v1 Service":
		o := new(corev1.Service)
		r.services = append(r.services, o)
		return into(o)
	case "v1 ConfigMap":
		o := new(corev1.ConfigMap)
		err := into(o)
		r.configMaps[o.Name] = o
		return err
	case "v1 Secret":
		o := new(corev1.Secret)
		err := into(o)
		r.secrets[o.Name] = o
		return err
	case "policy/v1 PodDisruptionBudget":
		o := new(policyv1.PodDisruptionBudget)
		r.pdbs = append(r.pdbs, o)
		return into(o)
	case "autoscaling/v2 HorizontalPodAutoscaler":
		o := new(autoscalingv2.HorizontalPodAutoscaler)
		r.hpas = append(r.hpas, o)
		return into(o)
	case "networking.k8s.io/v1 NetworkPolicy":
		o := new(networkingv1.NetworkPolicy)
		r.netpols = append(r.netpols, o)
		return into(o)
	case "monitoring.coreos.com/v1 ServiceMonitor":
		o := new(monitoringv1.ServiceMonitor)
		r.serviceMonitor = append(r.serviceMonitor, o)
		return into(o)
	}
	return fmt.Errorf("no API type known for %s %s: add it to rendering.add", apiVersion, kind)
}

// workload is a pod template with its owner, for the checks common to the
// StatefulSet and the Deployment.
type workload struct {
	kind, name string
	replicas   int32
	selector   map[string]string
	pod        *corev1.PodTemplateSpec
}

func (r *rendering) workloads() []workload {
	var out []workload
	for _, s := range r.statefulSets {
		out = append(out, workload{"StatefulSet", s.Name, deref(s.Spec.Replicas, 1), s.Spec.Selector.MatchLabels, &s.Spec.Template})
	}
	for _, d := range r.deployments {
		out = append(out, workload{"Deployment", d.Name, deref(d.Spec.Replicas, 1), d.Spec.Selector.MatchLabels, &d.Spec.Template})
	}
	return out
}

// role is the corral command a container runs: its first argument.
func role(c *corev1.Container) string {
	if len(c.Command) > 0 || len(c.Args) == 0 {
		return ""
	}
	return c.Args[0]
}

// corralContainers returns the workload's containers that run corral.
func (w workload) corralContainers() []*corev1.Container {
	var out []*corev1.Container
	for i := range w.pod.Spec.Containers {
		if c := &w.pod.Spec.Containers[i]; role(c) != "" {
			out = append(out, c)
		}
	}
	return out
}

// env returns the variables a container of w gets, resolved as the kubelet
// would: values, ConfigMap and Secret keys (from env and envFrom), the pod
// name, and resource limits. A Secret the rendering does not hold (one the
// operator creates) resolves to a placeholder.
func (r *rendering) env(w workload, c *corev1.Container) (map[string]string, error) {
	out := map[string]string{}
	for _, ef := range c.EnvFrom {
		switch {
		case ef.ConfigMapRef != nil:
			cm := r.configMaps[ef.ConfigMapRef.Name]
			if cm == nil {
				return nil, fmt.Errorf("envFrom: no ConfigMap %q", ef.ConfigMapRef.Name)
			}
			for k, v := range cm.Data {
				out[ef.Prefix+k] = v
			}
		case ef.SecretRef != nil:
			sec := r.secrets[ef.SecretRef.Name]
			if sec == nil {
				return nil, fmt.Errorf("envFrom: no Secret %q in the rendering", ef.SecretRef.Name)
			}
			for k, v := range sec.Data {
				out[ef.Prefix+k] = string(v)
			}
		}
	}
	for _, e := range c.Env {
		v, err := r.envValue(w, c, e)
		if err != nil {
			return nil, fmt.Errorf("env %s: %w", e.Name, err)
		}
		out[e.Name] = v
	}
	return out, nil
}

func (r *rendering) envValue(w workload, c *corev1.Container, e corev1.EnvVar) (string, error) {
	vf := e.ValueFrom
	switch {
	case vf == nil:
		return e.Value, nil
	case vf.ConfigMapKeyRef != nil:
		cm := r.configMaps[vf.ConfigMapKeyRef.Name]
		if cm == nil {
			return "", fmt.Errorf("no ConfigMap %q", vf.ConfigMapKeyRef.Name)
		}
		v, ok := cm.Data[vf.ConfigMapKeyRef.Key]
		if !ok {
			return "", fmt.Errorf("ConfigMap %q has no key %q", cm.Name, vf.ConfigMapKeyRef.Key)
		}
		return v, nil
	case vf.SecretKeyRef != nil:
		sec := r.secrets[vf.SecretKeyRef.Name]
		if sec == nil {
			return "external-secret-" + vf.SecretKeyRef.Key, nil
		}
		v, ok := sec.Data[vf.SecretKeyRef.Key]
		if !ok {
			s, ok := sec.StringData[vf.SecretKeyRef.Key]
			if ok {
				return s, nil
			}
			return "", fmt.Errorf("Secret %q has no key %q", sec.Name, vf.SecretKeyRef.Key)
		}
		return string(v), nil
	case vf.FieldRef != nil && vf.FieldRef.FieldPath == "metadata.name":
		return w.name + "-0", nil
	case vf.ResourceFieldRef != nil:
		rf := vf.ResourceFieldRef
		if rf.ContainerName != "" && rf.ContainerName != c.Name {
			return "", fmt.Errorf("resourceFieldRef names container %q, not its own %q", rf.ContainerName, c.Name)
		}
		res, ok := strings.CutPrefix(rf.Resource, "limits.")
		if !ok {
			return "", fmt.Errorf("resourceFieldRef %q: only limits are read", rf.Resource)
		}
		q, ok := c.Resources.Limits[corev1.ResourceName(res)]
		if !ok {
			return "", fmt.Errorf("resourceFieldRef %q: the container sets no such limit", rf.Resource)
		}
		return fmt.Sprint(q.Value()), nil
	}
	return "", fmt.Errorf("unsupported valueFrom %+v", vf)
}

// containerPort returns c's port named or numbered p.
func containerPort(c *corev1.Container, name string, number int32) (corev1.ContainerPort, bool) {
	i := slices.IndexFunc(c.Ports, func(cp corev1.ContainerPort) bool {
		if name != "" {
			return cp.Name == name
		}
		return cp.ContainerPort == number
	})
	if i < 0 {
		return corev1.ContainerPort{}, false
	}
	return c.Ports[i], true
}

func deref[T any](p *T, def T) T {
	if p == nil {
		return def
	}
	return *p
}

// moduleRoot returns the directory holding go.mod.
func moduleRoot(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("go.mod not found above the test's directory")
		}
		dir = parent
	}
}
