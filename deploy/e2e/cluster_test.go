//go:build e2e

package e2e

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// httpGet fetches url within timeout and returns the status and body.
func httpGet(ctx context.Context, url string, timeout time.Duration) (int, string, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
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

// sample is one line of Prometheus text output.
type sample struct {
	name   string
	labels map[string]string
	value  float64
}

var labelPair = regexp.MustCompile(`([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"`)

// parseMetrics reads the Prometheus text format, enough for corral's
// gauges and counters.
func parseMetrics(text string) []sample {
	var out []sample
	sc := bufio.NewScanner(strings.NewReader(text))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		if i < 0 {
			continue
		}
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			continue
		}
		s := sample{labels: map[string]string{}, value: v}
		head := line[:i]
		if j := strings.IndexByte(head, '{'); j >= 0 {
			s.name = head[:j]
			for _, m := range labelPair.FindAllStringSubmatch(head[j:], -1) {
				s.labels[m[1]] = m[2]
			}
		} else {
			s.name = head
		}
		out = append(out, s)
	}
	return out
}

// metric sums the samples of name whose labels include want.
func metric(samples []sample, name string, want map[string]string) (float64, bool) {
	var sum float64
	var found bool
	for _, s := range samples {
		if s.name != name {
			continue
		}
		ok := true
		for k, v := range want {
			if s.labels[k] != v {
				ok = false
			}
		}
		if ok {
			sum += s.value
			found = true
		}
	}
	return sum, found
}

// adminURL returns the URL of path on a pod's admin port.
func adminURL(p *pod, path string) string {
	return fmt.Sprintf("http://%s:%d%s", p.ip, port(p.c, "admin"), path)
}

// scrape reads a pod's /metrics.
func scrape(ctx context.Context, p *pod) ([]sample, error) {
	code, body, err := httpGet(ctx, adminURL(p, "/metrics"), 3*time.Second)
	if err != nil {
		return nil, err
	}
	if code != 200 {
		return nil, fmt.Errorf("%s /metrics: status %d", p.name, code)
	}
	return parseMetrics(body), nil
}

// ready reports whether the pod's readiness probe passes.
func ready(ctx context.Context, p *pod) bool {
	path, portName := httpGetPath(p.c.ReadinessProbe.HTTPGet)
	code, _, err := httpGet(ctx, fmt.Sprintf("http://%s:%d%s", p.ip, port(p.c, portName), path), 2*time.Second)
	return err == nil && code == 200
}

// clusterState is the store tier as its /metrics tell it.
type clusterState struct {
	ready           int     // stores whose readiness probe passes
	activeViews     []int   // per store: active stores it sees
	underreplicated float64 // summed over the stores
	rfMin           float64 // lowest corral_cluster_effective_rf_min
	err             error
}

func (s clusterState) String() string {
	if s.err != nil {
		return s.err.Error()
	}
	return fmt.Sprintf("ready %d, active views %v, underreplicated %v, effective RF min %v", s.ready, s.activeViews, s.underreplicated, s.rfMin)
}

// converged reports whether want stores are ready, each sees want active
// stores, every partition has rf in-sync copies and none is
// underreplicated.
func (s clusterState) converged(want, rf int) bool {
	if s.err != nil || s.ready != want || len(s.activeViews) != want {
		return false
	}
	for _, v := range s.activeViews {
		if v != want {
			return false
		}
	}
	return s.underreplicated == 0 && int(s.rfMin) == min(rf, want)
}

// observe scrapes every store.
func observe(ctx context.Context, stores []*pod) clusterState {
	st := clusterState{rfMin: -1}
	for _, p := range stores {
		if ready(ctx, p) {
			st.ready++
		}
		samples, err := scrape(ctx, p)
		if err != nil {
			st.err = err
			return st
		}
		active, _ := metric(samples, "corral_cluster_members", map[string]string{"role": "store", "phase": "active"})
		st.activeViews = append(st.activeViews, int(active))
		u, _ := metric(samples, "corral_cluster_underreplicated_partitions", nil)
		st.underreplicated += u
		rf, _ := metric(samples, "corral_cluster_effective_rf_min", nil)
		if st.rfMin < 0 || rf < st.rfMin {
			st.rfMin = rf
		}
	}
	return st
}

// waitFor polls cond every 100ms until it holds, and returns how long that
// took, or an error naming what was last seen when within passes.
func waitFor(ctx context.Context, within time.Duration, cond func() (bool, string)) (time.Duration, error) {
	start := time.Now()
	deadline := start.Add(within)
	for {
		ok, seen := cond()
		if ok {
			return time.Since(start), nil
		}
		if time.Now().After(deadline) {
			return time.Since(start), fmt.Errorf("not within %v; last seen: %s", within, seen)
		}
		select {
		case <-ctx.Done():
			return time.Since(start), ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// loadsFromStats returns how many times the origin simulator's /stats says
// it loaded key.
func loadsFromStats(body, key string) (int64, error) {
	var st struct {
		Top []struct {
			Key   string `json:"key"`
			Loads int64  `json:"loads"`
		} `json:"top"`
	}
	if err := json.Unmarshal([]byte(body), &st); err != nil {
		return 0, fmt.Errorf("origin /stats: %w", err)
	}
	for _, kl := range st.Top {
		if kl.Key == key {
			return kl.Loads, nil
		}
	}
	return 0, nil
}
