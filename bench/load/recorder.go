package load

import (
	"strings"
	"sync"
	"time"

	"corral/bench/hist"
)

// Op is one operation a worker hands to its Session.
type Op struct {
	Key      string
	Write    bool      // SET; otherwise GET
	Intended time.Time // when it was due: the schedule's time in open loop, the send time in closed loop

	// Set by the Session:
	Err  error // the operation failed
	Miss bool  // a read that found no value (a nil reply; for cache-aside, a load from the origin)
}

// Counts are the operations recorded over a span.
type Counts struct {
	Ops        uint64 // completed, errors included
	Errors     uint64 // completed with an error
	Unfinished uint64 // still pending when the run's grace ran out
	Hits       uint64 // reads answered with a value
	Misses     uint64 // reads that found none
}

func (c *Counts) add(o Counts) {
	c.Ops += o.Ops
	c.Errors += o.Errors
	c.Unfinished += o.Unfinished
	c.Hits += o.Hits
	c.Misses += o.Misses
}

// maxErrorKinds bounds the distinct error texts kept per run.
const maxErrorKinds = 16

// recorder collects latencies and counts from many workers: each worker
// records into one of a fixed set of shards, so that locks stay mostly
// uncontended, and the sampler swaps every shard's current interval out.
type recorder struct {
	shards []shard
}

type shard struct {
	mu     sync.Mutex // guards the fields below
	cur    *hist.Histogram
	total  *hist.Histogram
	curC   Counts
	totC   Counts
	errors map[string]uint64
}

func newRecorder(n int) *recorder {
	r := &recorder{shards: make([]shard, n)}
	for i := range r.shards {
		r.shards[i] = shard{cur: hist.New(), total: hist.New(), errors: map[string]uint64{}}
	}
	return r
}

// record counts a batch of ops that completed at done; with cut set (the
// run's grace had run out), failed ops count as unfinished.
func (r *recorder) record(worker int, done time.Time, ops []Op, cut bool) {
	s := &r.shards[worker%len(r.shards)]
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := range ops {
		op := &ops[i]
		lat := int64(done.Sub(op.Intended))
		s.cur.Record(lat)
		s.total.Record(lat)
		var c Counts
		switch {
		case op.Err != nil && cut:
			// Cut off by the end of the grace (the error may be a
			// context error or the I/O timeout the deadline became).
			c.Unfinished = 1
		case op.Err != nil:
			c.Ops, c.Errors = 1, 1
			s.countErrorLocked(op.Err)
		case op.Write:
			c.Ops = 1
		case op.Miss:
			c.Ops, c.Misses = 1, 1
		default:
			c.Ops, c.Hits = 1, 1
		}
		s.curC.add(c)
		s.totC.add(c)
	}
}

// unfinished counts ops never sent because the run's grace had run out
// at now; their latency is at least now minus their due time.
func (r *recorder) unfinished(worker int, now time.Time, ops []Op) {
	s := &r.shards[worker%len(r.shards)]
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := range ops {
		lat := int64(now.Sub(ops[i].Intended))
		s.cur.Record(lat)
		s.total.Record(lat)
	}
	c := Counts{Unfinished: uint64(len(ops))}
	s.curC.add(c)
	s.totC.add(c)
}

// countErrorLocked tallies err's text, cut at its first digit-bearing
// detail so that texts differing only in numbers or addresses share a line.
func (s *shard) countErrorLocked(err error) {
	msg := errorKind(err)
	if _, ok := s.errors[msg]; !ok && len(s.errors) >= maxErrorKinds {
		msg = "other"
	}
	s.errors[msg]++
}

// errorKind shortens an error text to its leading words: "SHED overloaded:
// fetch not admitted within 50ms" becomes "SHED overloaded".
func errorKind(err error) string {
	msg := err.Error()
	if i := strings.IndexAny(msg, ":("); i > 0 {
		msg = msg[:i]
	}
	if len(msg) > 60 {
		msg = msg[:60]
	}
	return strings.TrimSpace(msg)
}

// swap returns the histogram and counts of the interval since the last
// swap, and starts a new interval.
func (r *recorder) swap() (*hist.Histogram, Counts) {
	h := hist.New()
	var c Counts
	for i := range r.shards {
		s := &r.shards[i]
		s.mu.Lock()
		h.Merge(s.cur)
		s.cur.Reset()
		c.add(s.curC)
		s.curC = Counts{}
		s.mu.Unlock()
	}
	return h, c
}

// totals returns the histogram, counts and error tallies of the whole run.
func (r *recorder) totals() (*hist.Histogram, Counts, map[string]uint64) {
	h := hist.New()
	var c Counts
	errs := map[string]uint64{}
	for i := range r.shards {
		s := &r.shards[i]
		s.mu.Lock()
		h.Merge(s.total)
		c.add(s.totC)
		for k, v := range s.errors {
			errs[k] += v
		}
		s.mu.Unlock()
	}
	return h, c, errs
}
