package report

import (
	"fmt"
	"io"
	"os"
	"sync"
	"time"
)

// Progress rewrites one status line on a terminal while a scenario runs.
// A nil *Progress is quiet, so callers need not check. Its methods are
// safe for concurrent use.
type Progress struct {
	mu   sync.Mutex // guards w and open
	w    io.Writer
	open bool // a line has been written and not ended
}

// NewProgress returns a Progress writing to w when w is a terminal, and
// nil (quiet) otherwise.
func NewProgress(w io.Writer) *Progress {
	if !IsTerminal(w) {
		return nil
	}
	return &Progress{w: w}
}

// NewProgressTo returns a Progress writing to w whatever it is.
func NewProgressTo(w io.Writer) *Progress { return &Progress{w: w} }

// IsTerminal reports whether w is a character device such as a terminal.
func IsTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// Update shows a run's progress: elapsed of total, the last interval's
// throughput and p99, and the errors so far.
func (p *Progress) Update(label string, elapsed, total time.Duration, opsPerS, p99Ms float64, errors uint64) {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	fmt.Fprintf(p.w, "\r%-22s %5.1fs/%.1fs  %10s ops/s  p99 %8s  errors %s\x1b[K",
		label, elapsed.Seconds(), total.Seconds(), Count(opsPerS), Ms(p99Ms), Count(float64(errors)))
	p.open = true
}

// Done ends the status line, leaving it on screen.
func (p *Progress) Done() {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.open {
		fmt.Fprintln(p.w)
		p.open = false
	}
}
