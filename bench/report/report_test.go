package report

import (
	"bytes"
	"encoding/json"
	"math"
	"regexp"
	"strings"
	"testing"
	"time"
)

func ptr[T any](v T) *T { return &v }

// sample is a two-run stampede report with a unit-unfriendly name to
// check escaping.
func sample() *Report {
	r := &Report{
		Scenario:    "stampede",
		Description: "a hot set expiring together under 1000 clients",
		Started:     time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC),
		Command:     "corral bench stampede --duration 8s",
		Machine:     Machine{CPU: "Test CPU", CPUs: 2, OS: "linux/amd64", Go: "go1.26"},
		Params:      []Param{{"clients", "1000"}, {"origin latency", "100ms"}},
		RunS:        1.5,
		Runs: []Run{
			{Name: "naive", Available: true, DurationS: 4, Ops: 40000, OpsPerS: 10000, Errors: 12, Unfinished: 3, OriginLoads: ptr(int64(3000)),
				P50Ms: 0.5, P99Ms: 2100, P999Ms: 2500, MaxMs: 3100, HitRatio: ptr(0.93), HitSource: "client"},
			{Name: "corral", Available: true, DurationS: 4, Ops: 80000, OpsPerS: 20000, OriginLoads: ptr(int64(40)),
				P50Ms: 0.2, P99Ms: 1.5, P999Ms: 4, MaxMs: 105, HitRatio: ptr(0.99), HitSource: "l1"},
			{Name: "collapse off", Available: false, Note: "not available: corral has no --collapse switch"},
			{Name: "<script>alert(1)</script>", Available: true, Ops: 1, OriginLoads: nil},
		},
		Series: map[string][]Point{
			"naive": {
				{TS: 1, OpsPerS: 9000, P50Ms: 0.4, P99Ms: 2000, MaxMs: 2500, Errors: 5, OriginLoads: ptr(1000.0)},
				{TS: 2, OpsPerS: 11000, P50Ms: 0.6, P99Ms: 900, MaxMs: 1000, HitRatio: ptr(0.9), OriginLoads: ptr(0.0)},
			},
			"corral": {
				{TS: 1, OpsPerS: 19000, P50Ms: 0.2, P99Ms: 1.2, MaxMs: 100, HitRatio: ptr(0.98), OriginLoads: ptr(10.0)},
				{TS: 2, OpsPerS: 21000, P50Ms: 0.2, P99Ms: 1.4, MaxMs: 2, HitRatio: ptr(1.0), OriginLoads: ptr(8.0)},
			},
		},
		Notes: []string{"corral: 75x fewer origin loads than naive"},
	}
	return r
}

func TestJSONParsesWithTheFields(t *testing.T) {
	var buf bytes.Buffer
	if err := WriteJSON(&buf, sample()); err != nil {
		t.Fatal(err)
	}
	var got struct {
		Scenario string `json:"scenario"`
		Runs     []map[string]any
		Series   map[string][]map[string]any
	}
	if err := json.Unmarshal(buf.Bytes(), &got); err != nil {
		t.Fatalf("JSON does not parse: %v\n%s", err, buf.String())
	}
	if got.Scenario != "stampede" || len(got.Runs) != 4 {
		t.Fatalf("scenario %q with %d runs", got.Scenario, len(got.Runs))
	}
	for _, f := range []string{"name", "origin_loads", "p50_ms", "p99_ms", "max_ms", "errors", "ops", "ops_per_s", "hit_ratio", "available"} {
		if _, ok := got.Runs[0][f]; !ok {
			t.Errorf("run lacks %q: %v", f, got.Runs[0])
		}
	}
	if got.Runs[0]["origin_loads"].(float64) != 3000 || got.Runs[3]["origin_loads"] != nil {
		t.Errorf("origin_loads %v and %v, want 3000 and null", got.Runs[0]["origin_loads"], got.Runs[3]["origin_loads"])
	}
	pts := got.Series["corral"]
	if len(pts) != 2 || pts[1]["p99_ms"].(float64) != 1.4 || pts[0]["origin_loads_per_s"].(float64) != 10 {
		t.Errorf("series.corral = %v", pts)
	}
}

func TestHTMLHasChartsAndTableAndNeedsNoNetwork(t *testing.T) {
	var buf bytes.Buffer
	if err := WriteHTML(&buf, sample()); err != nil {
		t.Fatal(err)
	}
	page := buf.String()
	for _, want := range []string{
		"<svg", "p99 latency over time", "Origin loads per second", "Throughput", "Hit ratio", "Errors per second",
		`<table class="summary">`, "<td>3,000</td>", "<td>40</td>", "2.1s", "1.5ms", "not available",
		"75x fewer origin loads", "corral bench stampede --duration 8s", "Test CPU", `class="mark"`, "requests stop",
	} {
		if !strings.Contains(page, want) {
			t.Errorf("HTML lacks %q", want)
		}
	}
	if n := strings.Count(page, "<svg"); n != 6 {
		t.Errorf("%d charts, want 6", n)
	}
	// One polyline per run with data in the p99 chart: naive and corral.
	p99 := page[strings.Index(page, "p99 latency over time"):]
	p99 = p99[:strings.Index(p99, "</svg>")]
	if n := strings.Count(p99, "<polyline"); n != 2 {
		t.Errorf("p99 chart has %d lines, want 2", n)
	}
	for _, l := range []string{">naive<", ">corral<"} {
		if !strings.Contains(p99, l) {
			t.Errorf("p99 chart legend lacks %s", l)
		}
	}
	if strings.Contains(page, "<script>alert") {
		t.Error("a run name was not escaped")
	}
	if regexp.MustCompile(`(?i)(src=|href=|@import|url\(|<link|<script)`).MatchString(page) {
		t.Error("HTML references an external resource or script")
	}
}

func TestTable(t *testing.T) {
	var buf bytes.Buffer
	if err := WriteTable(&buf, sample()); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, want := range []string{"origin loads", "naive", "3,000", "12 (+3 unfinished)", "2.1s", "93.0% (reads)", "99.0% (L1)", "collapse off: not available", "75x fewer"} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
	lines := strings.Split(out, "\n")
	if len(lines[2]) != len(lines[3]) {
		t.Errorf("header and first row differ in width:\n%s\n%s", lines[2], lines[3])
	}
	buf.Reset()
	if err := WriteMarkdown(&buf, sample()); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), "| naive | 40,000 | 10,000 |") {
		t.Errorf("markdown:\n%s", buf.String())
	}
}

func TestFormats(t *testing.T) {
	tests := []struct{ got, want string }{
		{Ms(0.0004), "0.4µs"}, {Ms(0.412), "0.412ms"}, {Ms(12.34), "12.3ms"}, {Ms(100), "100ms"}, {Ms(1000), "1s"},
		{Ms(2150), "2.15s"}, {Ms(math.NaN()), "-"}, {Ms(0), "0ms"},
		{Count(1234567), "1,234,567"}, {Count(999), "999"}, {Count(-1500), "-1,500"},
		{Times(3000, 40), "75x"}, {Times(3, 2), "1.5x"}, {Times(1, 0), "∞"}, {Times(0, 0), "-"},
		{Ratio(nil), "-"}, {Ratio(ptr(0.5)), "50.0%"},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("got %q, want %q", tt.got, tt.want)
		}
	}
}

func TestScales(t *testing.T) {
	if got := linearTicks(87); got[len(got)-1] != 100 || len(got) != 6 {
		t.Errorf("linearTicks(87) = %v", got)
	}
	ys := newYScale(Log, 0.05, 2000)
	if ys.lo != -2 || ys.hi != 4 || len(ys.ticks) != 7 {
		t.Errorf("log scale of 0.05..2000: %+v", ys)
	}
	if f := ys.frac(1); math.Abs(f-2.0/6) > 1e-9 {
		t.Errorf("frac(1) = %v", f)
	}
	lp := newYScale(Log1p, 0, 950)
	if lp.frac(0) != 0 || lp.frac(999) != 1 || lp.ticks[0] != 0 || lp.ticks[1] != 1 {
		t.Errorf("log1p scale: %+v", lp)
	}
}

func TestProgress(t *testing.T) {
	if NewProgress(&bytes.Buffer{}) != nil {
		t.Fatal("a buffer is not a terminal")
	}
	var nilP *Progress
	nilP.Update("x", 0, 0, 0, 0, 0) // quiet, no panic
	var buf bytes.Buffer
	p := NewProgressTo(&buf)
	p.Update("stampede/naive", 1500*time.Millisecond, 4*time.Second, 12345, 2100, 7)
	p.Done()
	if got := buf.String(); !strings.Contains(got, "1.5s/4.0s") || !strings.Contains(got, "12,345 ops/s") || !strings.Contains(got, "p99     2.1s") || !strings.HasSuffix(got, "\n") {
		t.Errorf("progress line %q", got)
	}
}

func TestLegendWrapsWithoutOverlap(t *testing.T) {
	var lines []Line
	for _, name := range []string{"naive", "all defenses", "no collapse", "no xfetch", "no stale-while-revalidate", "no jitter", "no shedding", "no breakers", "no defenses"} {
		lines = append(lines, Line{Name: name, Points: []XY{{1, 1}}})
	}
	lines[2].Points = nil // a run without data gets no entry
	items, rows := layoutLegend(lines)
	if len(items) != 8 || rows < 2 {
		t.Fatalf("%d entries in %d rows, want 8 in at least 2", len(items), rows)
	}
	for i, it := range items {
		end := it.x + 34 + legendCharW*float64(len([]rune(it.name)))
		if end > marginL+plotW+1 {
			t.Errorf("%q ends at %.0f, past the plot's right edge", it.name, end)
		}
		if i+1 < len(items) && items[i+1].y == it.y && items[i+1].x < end {
			t.Errorf("%q overlaps %q", it.name, items[i+1].name)
		}
	}
	if items[1].color != Color(1) || items[2].color != Color(3) {
		t.Error("entries must keep their run's colour when a run has no data")
	}
}
