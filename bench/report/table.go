package report

import (
	"fmt"
	"io"
	"strings"
	"unicode/utf8"
)

// Row is one line of the summary table as text cells.
type Row struct {
	Name        string
	Ops         string
	OpsPerS     string
	Errors      string
	OriginLoads string
	P50, P99    string
	P999, Max   string
	HitRatio    string
	Note        string
}

// Header is the summary table's column titles.
var header = Row{"run", "ops", "ops/s", "errors", "origin loads", "p50", "p99", "p99.9", "max", "hit ratio", "note"}

// Rows formats the runs of r for a table.
func Rows(r *Report) []Row {
	var rows []Row
	for _, run := range r.Runs {
		if !run.Available {
			rows = append(rows, Row{Name: run.Name, Ops: "-", OpsPerS: "-", Errors: "-", OriginLoads: "-", P50: "-", P99: "-", P999: "-", Max: "-", HitRatio: "-", Note: run.Note})
			continue
		}
		errs := Count(float64(run.Errors))
		if run.Unfinished > 0 {
			errs += fmt.Sprintf(" (+%s unfinished)", Count(float64(run.Unfinished)))
		}
		rows = append(rows, Row{
			Name:        run.Name,
			Ops:         Count(float64(run.Ops)),
			OpsPerS:     Count(run.OpsPerS),
			Errors:      errs,
			OriginLoads: Loads(run.OriginLoads),
			P50:         Ms(run.P50Ms),
			P99:         Ms(run.P99Ms),
			P999:        Ms(run.P999Ms),
			Max:         Ms(run.MaxMs),
			HitRatio:    hitRatio(run),
			Note:        run.Note,
		})
	}
	return rows
}

// cells returns the row's cells in column order.
func (r Row) cells() []string {
	return []string{r.Name, r.Ops, r.OpsPerS, r.Errors, r.OriginLoads, r.P50, r.P99, r.P999, r.Max, r.HitRatio, r.Note}
}

// WriteTable writes the summary table and the notes as aligned text: the
// run names left-aligned, the figures right-aligned, notes below.
func WriteTable(w io.Writer, r *Report) error {
	fmt.Fprintf(w, "%s: %s\n\n", r.Scenario, r.Description)
	rows := append([]Row{header}, Rows(r)...)
	cols := len(header.cells()) - 1 // the note goes below the table
	width := make([]int, cols)
	for _, row := range rows {
		for i, c := range row.cells()[:cols] {
			width[i] = max(width[i], utf8.RuneCountInString(c))
		}
	}
	for _, row := range rows {
		var b strings.Builder
		for i, c := range row.cells()[:cols] {
			pad := strings.Repeat(" ", width[i]-utf8.RuneCountInString(c))
			if i == 0 {
				b.WriteString(c + pad)
			} else {
				b.WriteString("  " + pad + c)
			}
		}
		fmt.Fprintln(w, b.String())
	}
	for _, row := range rows[1:] {
		if row.Note != "" {
			fmt.Fprintf(w, "  %s: %s\n", row.Name, row.Note)
		}
	}
	if len(r.Notes) > 0 {
		fmt.Fprintln(w)
	}
	for _, n := range r.Notes {
		fmt.Fprintln(w, n)
	}
	if m := r.Machine; m.CPUs > 0 {
		fmt.Fprintf(w, "\n%s, %d CPUs", m.CPU, m.CPUs)
		if m.LoadAvg != "" {
			fmt.Fprintf(w, ", load average %s at the start", m.LoadAvg)
		}
		fmt.Fprintln(w)
	}
	return nil
}

// WriteMarkdown writes the summary table as a Markdown table.
func WriteMarkdown(w io.Writer, r *Report) error {
	fmt.Fprintf(w, "| %s |\n", strings.Join(header.cells(), " | "))
	fmt.Fprintf(w, "| --- |%s\n", strings.Repeat(" ---: |", len(header.cells())-2)+" --- |")
	for _, row := range Rows(r) {
		fmt.Fprintf(w, "| %s |\n", strings.Join(row.cells(), " | "))
	}
	_, err := fmt.Fprintln(w)
	return err
}

// hitRatio formats a run's hit ratio with where it comes from: "(L1)"
// from the target's metrics, "(reads)" for the share of reads that found a
// value.
func hitRatio(run Run) string {
	switch {
	case run.HitRatio == nil:
		return "-"
	case run.HitSource == "l1":
		return Ratio(run.HitRatio) + " (L1)"
	case run.HitSource != "":
		return Ratio(run.HitRatio) + " (reads)"
	}
	return Ratio(run.HitRatio)
}
