package bench

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Counter names a run samples.
const (
	ctrOriginLoads  = "origin_loads"
	ctrOriginFailed = "origin_failed"
	ctrL1Hits       = "l1_hits"
	ctrL1Misses     = "l1_misses"
)

// probeTimeout bounds one scrape, so that a slow target never stalls the
// time series.
const probeTimeout = 500 * time.Millisecond

// scrapeMetrics reads the Prometheus text at url and returns, for each of
// names, the sum of its samples over every label set. Names absent from
// the page are absent from the map.
func scrapeMetrics(ctx context.Context, hc *http.Client, url string, names ...string) (map[string]float64, error) {
	ctx, cancel := context.WithTimeout(ctx, probeTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("bench: %s: status %s", url, resp.Status)
	}
	return parseMetrics(resp.Body, names...)
}

// parseMetrics sums the samples of names in Prometheus text format.
func parseMetrics(r io.Reader, names ...string) (map[string]float64, error) {
	want := map[string]bool{}
	for _, n := range names {
		want[n] = true
	}
	out := map[string]float64{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		name, rest := line, ""
		if i := strings.IndexAny(line, "{ "); i >= 0 {
			name, rest = line[:i], line[i:]
		}
		if !want[name] {
			continue
		}
		if strings.HasPrefix(rest, "{") {
			end := strings.LastIndexByte(rest, '}')
			if end < 0 {
				continue
			}
			rest = rest[end+1:]
		}
		fields := strings.Fields(rest)
		if len(fields) == 0 {
			continue
		}
		v, err := strconv.ParseFloat(fields[0], 64)
		if err != nil {
			continue
		}
		out[name] += v
	}
	return out, sc.Err()
}

// originStats reads a running origin simulator's /stats.
func originStats(ctx context.Context, hc *http.Client, url string) (loads, failed int64, err error) {
	ctx, cancel := context.WithTimeout(ctx, probeTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url+"?top=1", nil)
	if err != nil {
		return 0, 0, err
	}
	resp, err := hc.Do(req)
	if err != nil {
		return 0, 0, err
	}
	defer resp.Body.Close()
	var st struct {
		Loads  int64 `json:"loads"`
		Failed int64 `json:"failed"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
		return 0, 0, fmt.Errorf("bench: %s: %w", url, err)
	}
	return st.Loads, st.Failed, nil
}

// postOrigin switches a running origin simulator off (/fail) or on
// (/recover); statsURL is its /stats URL.
func postOrigin(ctx context.Context, hc *http.Client, statsURL, action string) error {
	url := strings.TrimSuffix(statsURL, "/stats") + "/" + action
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, nil)
	if err != nil {
		return err
	}
	resp, err := hc.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("bench: POST %s: %s", url, resp.Status)
	}
	return nil
}
