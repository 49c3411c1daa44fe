package report

import (
	"fmt"
	"html"
	"math"
	"strings"
)

// Scale is how a chart maps values to heights.
type Scale int

// The scales.
const (
	Linear Scale = iota // 0 at the bottom
	Log                 // decades; values <= 0 sit on the bottom line
	Log1p               // log(1+v): like Log but 0 is the bottom, for counts
)

// XY is one point of a line; a NaN Y leaves a gap.
type XY struct{ X, Y float64 }

// Line is one series of a chart.
type Line struct {
	Name   string
	Points []XY
}

// Chart is a line chart drawn as inline SVG.
type Chart struct {
	Title  string
	XLabel string
	YLabel string
	Scale  Scale
	Format func(float64) string // formats y values (ticks, tooltips); nil uses %g
	Lines  []Line

	// MarkX, when positive, draws a dashed vertical line there, labelled
	// MarkLabel.
	MarkX     float64
	MarkLabel string
}

// palette colours lines in order; the first runs get the most distinct.
var palette = []string{"#d62728", "#1f77b4", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#7f7f7f", "#bcbd22"}

// Color returns the colour of the i-th line.
func Color(i int) string { return palette[i%len(palette)] }

// Chart geometry, in SVG user units. The top margin grows with the
// legend's rows.
const (
	chartW           = 960
	plotH            = 240
	marginL, marginR = 78, 24
	marginB          = 48
	plotW            = chartW - marginL - marginR
	legendTop        = 40 // baseline of the legend's first row
	legendRowH       = 18
	legendCharW      = 7.4 // approximate width of a legend character
)

// legendItem is one placed entry of the legend.
type legendItem struct {
	x, y  float64
	name  string
	color string
}

// layoutLegend places an entry per line that has points, left to right,
// wrapping at the plot's width; it returns them and the number of rows.
func layoutLegend(lines []Line) ([]legendItem, int) {
	var items []legendItem
	x, row := 0.0, 0
	for i, l := range lines {
		if len(l.Points) == 0 {
			continue
		}
		w := 34 + legendCharW*float64(len([]rune(l.Name))) + 18
		if x > 0 && x+w > plotW {
			x, row = 0, row+1
		}
		items = append(items, legendItem{x: marginL + x, y: float64(legendTop + row*legendRowH), name: l.Name, color: Color(i)})
		x += w
	}
	return items, row + 1
}

// SVG renders the chart. Every text it contains is escaped.
func (c *Chart) SVG() string {
	format := c.Format
	if format == nil {
		format = func(v float64) string { return fmt.Sprintf("%g", v) }
	}
	maxX, lo, hi := c.MarkX, math.Inf(1), math.Inf(-1)
	for _, l := range c.Lines {
		for _, p := range l.Points {
			maxX = max(maxX, p.X)
			if math.IsNaN(p.Y) {
				continue
			}
			if c.Scale != Log || p.Y > 0 {
				lo, hi = min(lo, p.Y), max(hi, p.Y)
			}
		}
	}
	xTicks := linearTicks(maxX)
	xMax := maxX
	if xMax <= 0 {
		xMax = xTicks[len(xTicks)-1]
	}
	for len(xTicks) > 1 && xTicks[len(xTicks)-1] > xMax*(1+1e-9) {
		xTicks = xTicks[:len(xTicks)-1]
	}
	ys := newYScale(c.Scale, lo, hi)

	legend, rows := layoutLegend(c.Lines)
	marginT := legendTop + (rows-1)*legendRowH + 22
	chartH := marginT + plotH + marginB
	px := func(x float64) float64 { return marginL + x/xMax*plotW }
	py := func(v float64) float64 { return float64(marginT) + plotH - ys.frac(v)*plotH }

	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="chart" viewBox="0 0 %d %d" width="100%%" role="img" aria-label="%s">`, chartW, chartH, esc(c.Title))
	fmt.Fprintf(&b, `<text x="%d" y="22" class="title">%s</text>`, marginL, esc(c.Title))
	for _, it := range legend {
		fmt.Fprintf(&b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="%s" stroke-width="3"/>`, it.x, it.y-4, it.x+22, it.y-4, it.color)
		fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" class="legend">%s</text>`, it.x+28, it.y, esc(it.name))
	}
	// Grid and ticks.
	for _, t := range ys.ticks {
		y := py(t)
		fmt.Fprintf(&b, `<line x1="%d" y1="%.1f" x2="%d" y2="%.1f" class="grid"/>`, marginL, y, marginL+plotW, y)
		fmt.Fprintf(&b, `<text x="%d" y="%.1f" class="ytick">%s</text>`, marginL-6, y+4, esc(format(t)))
	}
	for _, t := range xTicks {
		x := px(t)
		fmt.Fprintf(&b, `<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" class="grid"/>`, x, marginT, x, marginT+plotH)
		fmt.Fprintf(&b, `<text x="%.1f" y="%d" class="xtick">%s</text>`, x, marginT+plotH+16, esc(fmt.Sprintf("%g", t)))
	}
	if c.MarkX > 0 && c.MarkX <= xMax {
		x := px(c.MarkX)
		fmt.Fprintf(&b, `<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" class="mark"/>`, x, marginT, x, marginT+plotH)
		fmt.Fprintf(&b, `<text x="%.1f" y="%d" class="marklabel">%s</text>`, x-4, marginT+14, esc(c.MarkLabel))
	}
	fmt.Fprintf(&b, `<rect x="%d" y="%d" width="%d" height="%d" class="frame"/>`, marginL, marginT, plotW, plotH)
	fmt.Fprintf(&b, `<text x="%d" y="%d" class="xlabel">%s</text>`, marginL+plotW/2, chartH-8, esc(c.XLabel))
	fmt.Fprintf(&b, `<text transform="translate(16 %d) rotate(-90)" class="ylabel">%s</text>`, marginT+plotH/2, esc(c.YLabel))
	// Lines, with a dot and a tooltip per point.
	for i, l := range c.Lines {
		var seg []string
		flush := func() {
			if len(seg) > 1 {
				fmt.Fprintf(&b, `<polyline points="%s" fill="none" stroke="%s" stroke-width="2.2" stroke-linejoin="round"/>`, strings.Join(seg, " "), Color(i))
			}
			seg = seg[:0]
		}
		for _, p := range l.Points {
			if math.IsNaN(p.Y) {
				flush()
				continue
			}
			seg = append(seg, fmt.Sprintf("%.1f,%.1f", px(p.X), py(p.Y)))
		}
		flush()
		for _, p := range l.Points {
			if math.IsNaN(p.Y) {
				continue
			}
			fmt.Fprintf(&b, `<circle cx="%.1f" cy="%.1f" r="2.6" fill="%s"><title>%s at %gs: %s</title></circle>`,
				px(p.X), py(p.Y), Color(i), esc(l.Name), p.X, esc(format(p.Y)))
		}
	}
	b.WriteString(`</svg>`)
	return b.String()
}

func esc(s string) string { return html.EscapeString(s) }

// yScale maps values to [0, 1] of the plot's height.
type yScale struct {
	scale  Scale
	lo, hi float64 // in transformed units
	ticks  []float64
}

func newYScale(s Scale, lo, hi float64) yScale {
	if math.IsInf(lo, 1) { // no data
		lo, hi = 0, 1
	}
	switch s {
	case Log:
		dlo, dhi := math.Floor(math.Log10(lo)), math.Ceil(math.Log10(hi))
		if dhi <= dlo {
			dhi = dlo + 1
		}
		ys := yScale{scale: s, lo: dlo, hi: dhi}
		for d := dlo; d <= dhi; d++ {
			ys.ticks = append(ys.ticks, math.Pow(10, d))
		}
		return ys
	case Log1p:
		dhi := max(math.Ceil(math.Log10(1+max(hi, 0))), 1)
		ys := yScale{scale: s, lo: 0, hi: dhi}
		ys.ticks = append(ys.ticks, 0)
		for d := 0.0; d <= dhi; d++ {
			if t := math.Pow(10, d); math.Log10(1+t) <= dhi {
				ys.ticks = append(ys.ticks, t)
			}
		}
		return ys
	}
	ticks := linearTicks(max(hi, 0))
	return yScale{scale: Linear, lo: 0, hi: ticks[len(ticks)-1], ticks: ticks}
}

// frac returns where v sits between the bottom (0) and the top (1).
func (s yScale) frac(v float64) float64 {
	var t float64
	switch s.scale {
	case Log:
		if v <= 0 {
			return 0
		}
		t = math.Log10(v)
	case Log1p:
		t = math.Log10(1 + max(v, 0))
	default:
		t = v
	}
	return min(max((t-s.lo)/(s.hi-s.lo), 0), 1)
}

// linearTicks returns about five round ticks from 0 to at least hi.
func linearTicks(hi float64) []float64 {
	if !(hi > 0) {
		return []float64{0, 1}
	}
	raw := hi / 5
	mag := math.Pow(10, math.Floor(math.Log10(raw)))
	step := mag * 10
	for _, m := range []float64{1, 2, 2.5, 5, 10} {
		if mag*m >= raw {
			step = mag * m
			break
		}
	}
	var ticks []float64
	for t := 0.0; ; t += step {
		t = math.Round(t/step) * step
		ticks = append(ticks, t)
		if t >= hi*(1-1e-9) {
			return ticks
		}
	}
}
