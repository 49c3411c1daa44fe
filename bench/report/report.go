// Package report holds what a benchmark scenario measured and writes it
// out: a summary table for the terminal, JSON, and one self-contained HTML
// file with inline SVG charts, plus a live progress line.
package report

import (
	"bufio"
	"encoding/json"
	"io"
	"os"
	"runtime"
	"strings"
	"time"
)

// Report is the outcome of one scenario.
type Report struct {
	Scenario    string    `json:"scenario"`
	Description string    `json:"description"`
	Started     time.Time `json:"started"`
	Command     string    `json:"command,omitempty"`
	Machine     Machine   `json:"machine"`
	Params      []Param   `json:"params"`
	// RunS is how long each run issued requests, in seconds; what the
	// series show after it is the grace in which pending requests finish.
	RunS   float64            `json:"run_s"`
	Runs   []Run              `json:"runs"`
	Series map[string][]Point `json:"series"` // by run name
	Notes  []string           `json:"notes,omitempty"`
}

// Param is one setting of the scenario, for the record.
type Param struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// Run is one run's summary. Pointers are null when unknown.
type Run struct {
	Name        string `json:"name"`
	Description string `json:"description,omitempty"`
	// Available is false for a run that could not be made (Note says why);
	// its figures are then zero.
	Available bool   `json:"available"`
	Note      string `json:"note,omitempty"`

	DurationS  float64 `json:"duration_s"`
	Ops        uint64  `json:"ops"`
	OpsPerS    float64 `json:"ops_per_s"`
	Errors     uint64  `json:"errors"`
	Unfinished uint64  `json:"unfinished"`

	OriginLoads  *int64 `json:"origin_loads"`
	OriginFailed *int64 `json:"origin_failed,omitempty"`

	P50Ms  float64 `json:"p50_ms"`
	P99Ms  float64 `json:"p99_ms"`
	P999Ms float64 `json:"p999_ms"`
	MaxMs  float64 `json:"max_ms"`
	MeanMs float64 `json:"mean_ms"`

	// HitRatio is the L1 hit ratio from the target's /metrics when it has
	// one, else the share of reads that found a value (HitSource says which).
	HitRatio  *float64 `json:"hit_ratio"`
	HitSource string   `json:"hit_source,omitempty"`

	ErrorKinds map[string]uint64 `json:"error_kinds,omitempty"`
}

// Point is one interval of a run's time series.
type Point struct {
	TS          float64  `json:"t_s"` // end of the interval, seconds since the run started
	OpsPerS     float64  `json:"ops_per_s"`
	P50Ms       float64  `json:"p50_ms"`
	P99Ms       float64  `json:"p99_ms"`
	P999Ms      float64  `json:"p999_ms"`
	MaxMs       float64  `json:"max_ms"`
	Errors      uint64   `json:"errors"`
	Unfinished  uint64   `json:"unfinished"`
	HitRatio    *float64 `json:"hit_ratio"`
	OriginLoads *float64 `json:"origin_loads_per_s"`
}

// Machine describes where the scenario ran.
type Machine struct {
	CPU  string `json:"cpu"`
	CPUs int    `json:"cpus"`
	OS   string `json:"os"`
	Go   string `json:"go"`
	Host string `json:"host,omitempty"`
	// LoadAvg is /proc/loadavg's 1, 5 and 15 minute load averages when the
	// scenario started: other work on the machine skews the figures.
	LoadAvg string `json:"load_avg,omitempty"`
}

// ThisMachine describes the machine the process runs on.
func ThisMachine() Machine {
	m := Machine{CPUs: runtime.NumCPU(), OS: runtime.GOOS + "/" + runtime.GOARCH, Go: runtime.Version()}
	m.Host, _ = os.Hostname()
	if f, err := os.Open("/proc/cpuinfo"); err == nil {
		defer f.Close()
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if name, val, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(name) == "model name" {
				m.CPU = strings.TrimSpace(val)
				break
			}
		}
	}
	if b, err := os.ReadFile("/proc/loadavg"); err == nil {
		if f := strings.Fields(string(b)); len(f) >= 3 {
			m.LoadAvg = strings.Join(f[:3], " ")
		}
	}
	if m.CPU == "" {
		m.CPU = "unknown"
	}
	return m
}

// Run returns the run named name, or nil.
func (r *Report) Run(name string) *Run {
	for i := range r.Runs {
		if r.Runs[i].Name == name {
			return &r.Runs[i]
		}
	}
	return nil
}

// WriteJSON writes r as indented JSON.
func WriteJSON(w io.Writer, r *Report) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}
