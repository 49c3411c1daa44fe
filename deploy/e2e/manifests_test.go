//go:build e2e

package e2e

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	"sigs.k8s.io/yaml"
)

// manifests is what the e2e takes from the rendered kustomization: the
// pod templates and what their environment refers to.
type manifests struct {
	store, proxy  *corev1.PodTemplateSpec
	storeReplicas int
	proxyReplicas int
	headless      string   // the StatefulSet's serviceName: the seed alias
	storeName     string   // the StatefulSet's name, the stem of store pod names
	claims        []string // the StatefulSet's volume claim templates
	proxyName     string   // the Deployment's name, the stem of proxy pod names
	configMaps    map[string]*corev1.ConfigMap
	secrets       map[string]*corev1.Secret
}

// loadManifests renders dir (deploy/e2e: the base with three stores and an
// origin) as `kubectl kustomize` does.
func loadManifests(t *testing.T, dir string) *manifests {
	t.Helper()
	abs, err := filepath.Abs(dir)
	if err != nil {
		t.Fatal(err)
	}
	resMap, err := krusty.MakeKustomizer(krusty.MakeDefaultOptions()).Run(filesys.MakeFsOnDisk(), abs)
	if err != nil {
		t.Fatalf("kustomize build %s: %v", dir, err)
	}
	m := &manifests{configMaps: map[string]*corev1.ConfigMap{}, secrets: map[string]*corev1.Secret{}}
	for _, res := range resMap.Resources() {
		doc, err := res.AsYAML()
		if err != nil {
			t.Fatal(err)
		}
		switch res.GetKind() {
		case "StatefulSet":
			var s appsv1.StatefulSet
			mustDecode(t, doc, &s)
			m.store, m.storeReplicas, m.headless, m.storeName = &s.Spec.Template, int(*s.Spec.Replicas), s.Spec.ServiceName, s.Name
			for _, c := range s.Spec.VolumeClaimTemplates {
				m.claims = append(m.claims, c.Name)
			}
		case "Deployment":
			var d appsv1.Deployment
			mustDecode(t, doc, &d)
			m.proxy, m.proxyReplicas, m.proxyName = &d.Spec.Template, int(*d.Spec.Replicas), d.Name
		case "ConfigMap":
			var c corev1.ConfigMap
			mustDecode(t, doc, &c)
			m.configMaps[c.Name] = &c
		case "Secret":
			var s corev1.Secret
			mustDecode(t, doc, &s)
			m.secrets[s.Name] = &s
		}
	}
	if m.store == nil || m.proxy == nil {
		t.Fatalf("%s renders no store StatefulSet or no proxy Deployment", dir)
	}
	return m
}

func mustDecode(t *testing.T, doc []byte, into any) {
	t.Helper()
	if err := yaml.UnmarshalStrict(doc, into); err != nil {
		t.Fatal(err)
	}
}

// env resolves a container's environment as the kubelet would for a pod
// named podName.
func (m *manifests) env(c *corev1.Container, podName string) ([]string, error) {
	vars := map[string]string{}
	var order []string
	set := func(k, v string) {
		if _, ok := vars[k]; !ok {
			order = append(order, k)
		}
		vars[k] = v
	}
	for _, ef := range c.EnvFrom {
		if ef.ConfigMapRef == nil {
			return nil, fmt.Errorf("envFrom %+v: only ConfigMaps are supported", ef)
		}
		cm := m.configMaps[ef.ConfigMapRef.Name]
		if cm == nil {
			return nil, fmt.Errorf("no ConfigMap %s", ef.ConfigMapRef.Name)
		}
		for k, v := range cm.Data {
			set(ef.Prefix+k, v)
		}
	}
	for _, e := range c.Env {
		vf := e.ValueFrom
		switch {
		case vf == nil:
			set(e.Name, e.Value)
		case vf.SecretKeyRef != nil:
			s := m.secrets[vf.SecretKeyRef.Name]
			if s == nil {
				return nil, fmt.Errorf("no Secret %s", vf.SecretKeyRef.Name)
			}
			set(e.Name, string(s.Data[vf.SecretKeyRef.Key]))
		case vf.ConfigMapKeyRef != nil:
			cm := m.configMaps[vf.ConfigMapKeyRef.Name]
			if cm == nil {
				return nil, fmt.Errorf("no ConfigMap %s", vf.ConfigMapKeyRef.Name)
			}
			set(e.Name, cm.Data[vf.ConfigMapKeyRef.Key])
		case vf.FieldRef != nil && vf.FieldRef.FieldPath == "metadata.name":
			set(e.Name, podName)
		case vf.ResourceFieldRef != nil && strings.HasPrefix(vf.ResourceFieldRef.Resource, "limits."):
			q := c.Resources.Limits[corev1.ResourceName(strings.TrimPrefix(vf.ResourceFieldRef.Resource, "limits."))]
			set(e.Name, fmt.Sprint(q.Value()))
		default:
			return nil, fmt.Errorf("env %s: unsupported valueFrom %+v", e.Name, vf)
		}
	}
	out := make([]string, 0, len(order))
	for _, k := range order {
		out = append(out, k+"="+vars[k])
	}
	return out, nil
}

// configValue returns the value a container's environment gives name, or
// def.
func (m *manifests) configValue(c *corev1.Container, name, def string) string {
	env, err := m.env(c, "x")
	if err != nil {
		return def
	}
	for _, kv := range env {
		if k, v, _ := strings.Cut(kv, "="); k == name && v != "" {
			return v
		}
	}
	return def
}

// port returns the container port named name.
func port(c *corev1.Container, name string) int {
	for _, p := range c.Ports {
		if p.Name == name {
			return int(p.ContainerPort)
		}
	}
	return 0
}

// httpGetPath returns the path and port name of a probe or hook.
func httpGetPath(h *corev1.HTTPGetAction) (string, string) {
	if h == nil {
		return "", ""
	}
	return h.Path, h.Port.String()
}
