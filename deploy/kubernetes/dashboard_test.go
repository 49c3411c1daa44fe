package kubernetes

import (
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
)

// dashboardMetrics are the metrics the Grafana dashboard must chart.
var dashboardMetrics = []string{
	"corral_l1_hits_total",                      // hit ratio
	"corral_l1_misses_total",                    // hit ratio
	"corral_origin_fetches_total",               // origin loads
	"corral_collapsed_total",                    // collapsed
	"corral_stale_served_total",                 // stale
	"corral_shed_total",                         // shed
	"corral_breaker_state",                      // breakers
	"corral_request_duration_seconds_bucket",    // latency percentiles
	"corral_cluster_members",                    // members
	"corral_cluster_underreplicated_partitions", // replication
}

var metricName = regexp.MustCompile(`corral_[a-z0-9_]+`)

// checkDashboard checks the Grafana dashboard ConfigMap: valid JSON whose
// queries chart the key metrics and name only metrics corral defines.
func (r *rendering) checkDashboard(t *testing.T, root string) {
	cm := r.configMaps["corral-dashboard"]
	if cm == nil {
		t.Fatal("no ConfigMap corral-dashboard")
	}
	if cm.Labels["grafana_dashboard"] != "1" {
		t.Error("ConfigMap corral-dashboard lacks the label grafana_dashboard=1 the Grafana sidecar looks for")
	}
	var dash struct {
		Title  string
		Panels []struct {
			Title   string
			Targets []struct{ Expr string }
		}
	}
	if err := json.Unmarshal([]byte(cm.Data["corral.json"]), &dash); err != nil {
		t.Fatalf("corral.json: %v", err)
	}
	var exprs strings.Builder
	for _, p := range dash.Panels {
		for _, q := range p.Targets {
			exprs.WriteString(q.Expr + "\n")
		}
	}
	used := map[string]bool{}
	for _, m := range metricName.FindAllString(exprs.String(), -1) {
		used[m] = true
	}
	for _, m := range dashboardMetrics {
		if !used[m] {
			t.Errorf("the dashboard does not chart %s", m)
		}
	}
	defined := definedMetrics(t, root)
	for m := range used {
		base := m
		for _, suffix := range []string{"_bucket", "_sum", "_count"} {
			if b, ok := strings.CutSuffix(m, suffix); ok && defined[b] {
				base = b
			}
		}
		if !defined[base] {
			t.Errorf("the dashboard queries %s, which corral does not define", m)
		}
	}
}

var (
	metricsOnce sync.Once
	metricsSet  map[string]bool
	metricsErr  error
)

// definedMetrics returns the metric names quoted in corral's Go sources
// (tests and deploy/ excepted).
func definedMetrics(t *testing.T, root string) map[string]bool {
	t.Helper()
	metricsOnce.Do(func() {
		quoted := regexp.MustCompile(`"(corral_[a-z0-9_]+)"`)
		metricsSet = map[string]bool{}
		metricsErr = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() {
				if name := d.Name(); name == "deploy" || name == ".git" || name == "testdata" {
					return filepath.SkipDir
				}
				return nil
			}
			if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
				return nil
			}
			src, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			for _, m := range quoted.FindAllStringSubmatch(string(src), -1) {
				metricsSet[m[1]] = true
			}
			return nil
		})
	})
	if metricsErr != nil {
		t.Fatal(metricsErr)
	}
	return metricsSet
}
