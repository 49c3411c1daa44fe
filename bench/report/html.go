package report

import (
	"html/template"
	"io"
	"math"
	"strconv"
	"time"
)

// pageTemplate is the HTML report: self-contained, no scripts, no fetched
// resources; charts are inline SVG.
var pageTemplate = template.Must(template.New("report").Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>corral bench {{.R.Scenario}}</title>
<style>
body { font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; color: #222; margin: 24px auto; max-width: 1000px; padding: 0 16px; }
h1 { font-size: 26px; margin: 0 0 4px; }
h2 { font-size: 18px; margin: 28px 0 8px; }
.desc { color: #444; margin: 0 0 16px; }
table { border-collapse: collapse; width: 100%; margin: 8px 0; }
th, td { padding: 5px 9px; border-bottom: 1px solid #ddd; text-align: right; white-space: nowrap; }
th { background: #f4f4f4; font-weight: 600; }
td:first-child, th:first-child { text-align: left; }
td.note, th.note { text-align: left; white-space: normal; color: #555; }
.swatch { display: inline-block; width: 12px; height: 12px; border-radius: 2px; margin-right: 6px; vertical-align: -1px; }
.notes li { margin: 3px 0; }
.params td, .params th { text-align: left; }
.chart { display: block; margin: 10px 0 18px; background: #fff; }
.chart .title { font-size: 17px; font-weight: 600; fill: #222; }
.chart .legend { font-size: 13px; fill: #333; }
.chart .grid { stroke: #e5e5e5; stroke-width: 1; }
.chart .frame { fill: none; stroke: #999; stroke-width: 1; }
.chart .ytick { font-size: 12px; fill: #555; text-anchor: end; }
.chart .xtick { font-size: 12px; fill: #555; text-anchor: middle; }
.chart .xlabel, .chart .ylabel { font-size: 13px; fill: #333; text-anchor: middle; }
.chart .mark { stroke: #777; stroke-width: 1.2; stroke-dasharray: 5 4; }
.chart .marklabel { font-size: 12px; fill: #666; text-anchor: end; }
footer { color: #666; font-size: 13px; margin-top: 28px; border-top: 1px solid #ddd; padding-top: 8px; }
code { background: #f4f4f4; padding: 1px 4px; border-radius: 3px; }
</style>
</head>
<body>
<h1>corral bench: {{.R.Scenario}}</h1>
<p class="desc">{{.R.Description}}</p>

<h2>Summary</h2>
<table class="summary">
<tr><th>run</th><th>ops</th><th>ops/s</th><th>errors</th><th>origin loads</th><th>p50</th><th>p99</th><th>p99.9</th><th>max</th><th>hit ratio</th></tr>
{{range .Rows}}<tr><td><span class="swatch" style="background: {{.Color}}"></span>{{.Name}}</td>{{if .Unavailable}}<td colspan="9" class="note">{{.Note}}</td>{{else}}<td>{{.Ops}}</td><td>{{.OpsPerS}}</td><td>{{.Errors}}</td><td>{{.OriginLoads}}</td><td>{{.P50}}</td><td>{{.P99}}</td><td>{{.P999}}</td><td>{{.Max}}</td><td>{{.HitRatio}}</td>{{end}}</tr>
{{end}}</table>
<ul class="notes">{{range .Rows}}{{if and .Note (not .Unavailable)}}<li>{{.Name}}: {{.Note}}</li>{{end}}{{end}}{{range .R.Notes}}<li>{{.}}</li>{{end}}</ul>

<h2>Over time</h2>
{{range .Charts}}{{.}}
{{end}}
<h2>Settings</h2>
<table class="params">
{{range .R.Params}}<tr><th>{{.Name}}</th><td>{{.Value}}</td></tr>
{{end}}</table>

<footer>
{{if .R.Command}}<p>Command: <code>{{.R.Command}}</code></p>{{end}}
<p>Machine: {{.R.Machine.CPU}}, {{.R.Machine.CPUs}} CPUs, {{.R.Machine.OS}}, {{.R.Machine.Go}}{{if .R.Machine.Host}}, host {{.R.Machine.Host}}{{end}}{{if .R.Machine.LoadAvg}}, load average {{.R.Machine.LoadAvg}} at the start{{end}}. Started {{.Started}}.</p>
<p>Latencies are measured by the client from each request's scheduled send time (open loop) or send time (closed loop); percentiles come from HDR-style histograms with at most 0.8% relative error.</p>
</footer>
</body>
</html>
`))

// htmlRow is a summary row with its line colour.
type htmlRow struct {
	Row
	Color       template.CSS
	Unavailable bool
}

// WriteHTML writes r as one self-contained HTML page: the summary table,
// charts of latency, origin loads, throughput and hit ratio over time (one
// line per run), and the settings.
func WriteHTML(w io.Writer, r *Report) error {
	var rows []htmlRow
	for i, row := range Rows(r) {
		rows = append(rows, htmlRow{Row: row, Color: template.CSS(Color(i)), Unavailable: !r.Runs[i].Available})
	}
	var charts []template.HTML
	for _, c := range Charts(r) {
		charts = append(charts, template.HTML(c.SVG())) // built from escaped text only
	}
	return pageTemplate.Execute(w, struct {
		R       *Report
		Rows    []htmlRow
		Charts  []template.HTML
		Started string
	}{r, rows, charts, r.Started.Format(time.RFC3339)})
}

// Charts returns the report's charts: p99 latency and origin loads per
// second always, then throughput, errors and hit ratio when there is
// something to show. Runs that were not made get no line but keep their
// colour.
func Charts(r *Report) []*Chart {
	sec := "seconds since the run started"
	p99 := &Chart{Title: "p99 latency over time", XLabel: sec, YLabel: "p99 latency (log)", Scale: Log, Format: Ms}
	p50 := &Chart{Title: "Median latency over time", XLabel: sec, YLabel: "p50 latency (log)", Scale: Log, Format: Ms}
	loads := &Chart{Title: "Origin loads per second", XLabel: sec, YLabel: "loads/s (log)", Scale: Log1p, Format: countFormat}
	tput := &Chart{Title: "Throughput", XLabel: sec, YLabel: "ops/s", Scale: Linear, Format: countFormat}
	errs := &Chart{Title: "Errors per second", XLabel: sec, YLabel: "errors/s (log)", Scale: Log1p, Format: countFormat}
	hits := &Chart{Title: "Hit ratio", XLabel: sec, YLabel: "hit ratio (%)", Scale: Linear, Format: func(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) + "%" }}
	anyErr, anyHit := false, false
	for _, run := range r.Runs {
		var lp99, lp50, lloads, ltput, lerrs, lhits Line
		for _, l := range []*Line{&lp99, &lp50, &lloads, &ltput, &lerrs, &lhits} {
			l.Name = run.Name
		}
		for _, p := range r.Series[run.Name] {
			lat99, lat50 := p.P99Ms, p.P50Ms
			if p.OpsPerS == 0 && p.Unfinished == 0 {
				lat99, lat50 = math.NaN(), math.NaN()
			}
			lp99.Points = append(lp99.Points, XY{p.TS, lat99})
			lp50.Points = append(lp50.Points, XY{p.TS, lat50})
			ltput.Points = append(ltput.Points, XY{p.TS, p.OpsPerS})
			lloads.Points = append(lloads.Points, XY{p.TS, orNaN(p.OriginLoads)})
			span := spanOf(r.Series[run.Name], p)
			ep := float64(p.Errors+p.Unfinished) / span
			anyErr = anyErr || ep > 0
			lerrs.Points = append(lerrs.Points, XY{p.TS, ep})
			anyHit = anyHit || p.HitRatio != nil
			lhits.Points = append(lhits.Points, XY{p.TS, orNaN(p.HitRatio) * 100})
		}
		p99.Lines = append(p99.Lines, lp99)
		p50.Lines = append(p50.Lines, lp50)
		loads.Lines = append(loads.Lines, lloads)
		tput.Lines = append(tput.Lines, ltput)
		errs.Lines = append(errs.Lines, lerrs)
		hits.Lines = append(hits.Lines, lhits)
	}
	charts := []*Chart{p99, loads, p50, tput}
	if anyErr {
		charts = append(charts, errs)
	}
	if anyHit {
		charts = append(charts, hits)
	}
	for _, c := range charts {
		c.MarkX, c.MarkLabel = r.RunS, "requests stop; pending ones may finish"
	}
	return charts
}

// spanOf returns the length in seconds of the interval p ends.
func spanOf(series []Point, p Point) float64 {
	prev := 0.0
	for _, q := range series {
		if q.TS >= p.TS {
			break
		}
		prev = q.TS
	}
	if d := p.TS - prev; d > 0 {
		return d
	}
	return 1
}

func countFormat(v float64) string {
	if v != math.Trunc(v) && v < 10 {
		return strconv.FormatFloat(v, 'f', 1, 64)
	}
	return Count(v)
}

// orNaN returns *v, or NaN (a gap in a line) when v is nil.
func orNaN(v *float64) float64 {
	if v == nil {
		return math.NaN()
	}
	return *v
}
