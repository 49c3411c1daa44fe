package sim

import (
	"encoding/binary"
	"fmt"
	"strings"

	"github.com/cespare/xxhash/v2"
)

// traceTail is how many of the last events a failure report shows.
const traceTail = 60

// event is one thing that happened in a run. Its numbers are formatted
// only when a report shows it.
type event struct {
	step   int
	at     int64  // simulated time, ms since the start
	kind   string // "write", "kill", "cut", ...
	node   string
	arg    string
	format string // how String shows nums; "" shows nums[0] if not 0
	nums   [4]int64
}

func (e event) String() string {
	s := fmt.Sprintf("%5d %7dms %-9s %s", e.step, e.at, e.kind, e.node)
	if e.arg != "" {
		s += " " + e.arg
	}
	switch {
	case e.format != "":
		args := make([]any, len(e.nums))
		for i, n := range e.nums {
			args[i] = n
		}
		s += " " + fmt.Sprintf(e.format, args[:strings.Count(e.format, "%")]...)
	case e.nums[0] != 0:
		s += fmt.Sprintf(" %d", e.nums[0])
	}
	return s
}

// trace keeps a digest of every event of a run and the last few of them.
// Two runs of one seed must produce the same digest.
type trace struct {
	d    xxhash.Digest
	tail [traceTail]event
	n    int
	all  []event // every event, when asked for
	keep bool
}

func newTrace(keepAll bool) *trace {
	t := &trace{keep: keepAll}
	t.d.Reset()
	return t
}

func (t *trace) add(e event) {
	var b [48]byte
	binary.LittleEndian.PutUint64(b[0:], uint64(e.step))
	binary.LittleEndian.PutUint64(b[8:], uint64(e.at))
	for i, n := range e.nums {
		binary.LittleEndian.PutUint64(b[16+8*i:], uint64(n))
	}
	t.d.Write(b[:])
	t.d.WriteString(e.kind)
	t.d.WriteString("\x00")
	t.d.WriteString(e.node)
	t.d.WriteString("\x00")
	t.d.WriteString(e.arg)
	t.d.WriteString("\x00")
	t.tail[t.n%traceTail] = e
	t.n++
	if t.keep {
		t.all = append(t.all, e)
	}
}

// mix folds a number into the digest (final state).
func (t *trace) mix(x uint64) {
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], x)
	t.d.Write(b[:])
}

// last returns the last events (all of them if kept), oldest first.
func (t *trace) last() []string {
	if t.keep {
		out := make([]string, len(t.all))
		for i, e := range t.all {
			out[i] = e.String()
		}
		return out
	}
	k := min(t.n, traceTail)
	out := make([]string, 0, k)
	for i := t.n - k; i < t.n; i++ {
		out = append(out, t.tail[i%traceTail].String())
	}
	return out
}
