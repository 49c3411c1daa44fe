//go:build soak

package soak

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"corral/bench/hist"
	"corral/bench/workload"
)

// Shape of the load.
const (
	writers     = 6
	readers     = 8
	workers     = writers + readers
	strPerW     = 400  // string keys per writer
	ctrPerW     = 25   // counters per writer
	originKeys  = 5000 // keys only ever read, loaded from the origin
	zipfSkew    = 0.99
	opTimeout   = 5 * time.Second
	expireAfter = time.Hour // EXPIRE's TTL: long enough never to fire during a soak
)

func strName(w, i int) string    { return fmt.Sprintf("soak:w%d:s%d", w, i) }
func ctrName(w, i int) string    { return fmt.Sprintf("soak:w%d:c%d", w, i) }
func originName(i uint64) string { return fmt.Sprintf("soak:o:%d", i) }

// Error kinds, as the client sees them.
const (
	kindShed          = "shed"           // SHED ...: admission refused
	kindBreaker       = "breaker"        // BREAKER ...: the proxy's breaker of a store node is open
	kindBreakerOrigin = "breaker-origin" // BREAKER open: origin ...: a store's breaker of the origin is open
	kindUnacked       = "unacked"        // UNACKED ...: fewer owners applied the write than --write-acks asks
	kindUpTimeout     = "upstream-timeout"
	kindUpDown        = "upstream-unavailable"
	kindOrigin        = "origin"         // ORIGIN timeout/unavailable: a read-through load failed
	kindNoOwner       = "no-owner"       // a store found no owner of a key it forwards to answering
	kindClientTimout  = "client-timeout" // no reply within the client's deadline
	kindOther         = "other"          // anything else: never expected
)

// classify names the kind of a command's error; "" for none (a nil reply
// is an answer).
func classify(err error) string {
	if err == nil || errors.Is(err, redis.Nil) {
		return ""
	}
	msg := err.Error()
	var ne net.Error
	switch {
	case strings.HasPrefix(msg, "SHED"):
		return kindShed
	case strings.HasPrefix(msg, "BREAKER open: origin"):
		return kindBreakerOrigin
	case strings.HasPrefix(msg, "BREAKER"):
		return kindBreaker
	case strings.HasPrefix(msg, "UNACKED"):
		return kindUnacked
	case strings.HasPrefix(msg, "UPSTREAM timeout"):
		return kindUpTimeout
	case strings.HasPrefix(msg, "UPSTREAM"):
		return kindUpDown
	case strings.HasPrefix(msg, "ORIGIN"):
		return kindOrigin
	case strings.HasPrefix(msg, "ERR corral: no owner of the key answered"):
		return kindNoOwner
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return kindClientTimout
	}
	return kindOther
}

// phases names what faults are active, for counting errors by phase.
type phases struct {
	node, origin atomic.Pointer[string]
}

func (p *phases) setNode(s string)   { p.node.Store(&s) }
func (p *phases) setOrigin(s string) { p.origin.Store(&s) }

// name is "quiet", or the active faults joined by "+".
func (p *phases) name() string {
	var parts []string
	if s := p.node.Load(); s != nil && *s != "" {
		parts = append(parts, *s)
	}
	if s := p.origin.Load(); s != nil && *s != "" {
		parts = append(parts, *s)
	}
	if len(parts) == 0 {
		return "quiet"
	}
	return strings.Join(parts, "+")
}

// tally counts one worker's requests; merged after the load stops.
type tally struct {
	requests  map[string]int64            // by command
	errors    map[string]int64            // by kind
	phaseReq  map[string]int64            // requests by phase
	phaseErr  map[string]int64            // errors by phase
	kinds     map[string]map[string]int64 // errors by phase, then kind
	samples   map[string][]string
	anomalies []string // online evidence of lost writes (INCR, DEL, EXPIRE replies)
	badReads  []string // reads that returned a value nobody wrote
	lat       *hist.Histogram
}

func newTally() *tally {
	return &tally{
		requests: map[string]int64{}, errors: map[string]int64{},
		phaseReq: map[string]int64{}, phaseErr: map[string]int64{},
		kinds: map[string]map[string]int64{}, samples: map[string][]string{}, lat: hist.New(),
	}
}

// record counts one command and returns its error kind ("" for success).
func (t *tally) record(cmd, phase string, took time.Duration, err error) string {
	t.requests[cmd]++
	t.phaseReq[phase]++
	t.lat.RecordDuration(took)
	kind := classify(err)
	if kind != "" {
		t.errors[kind]++
		t.phaseErr[phase]++
		if t.kinds[phase] == nil {
			t.kinds[phase] = map[string]int64{}
		}
		t.kinds[phase][kind]++
		if len(t.samples[kind]) < 3 {
			t.samples[kind] = append(t.samples[kind], cmd+": "+err.Error())
		}
	}
	return kind
}

func (t *tally) merge(o *tally) {
	for _, p := range []struct{ dst, src map[string]int64 }{
		{t.requests, o.requests}, {t.errors, o.errors}, {t.phaseReq, o.phaseReq}, {t.phaseErr, o.phaseErr},
	} {
		for k, v := range p.src {
			p.dst[k] += v
		}
	}
	for ph, m := range o.kinds {
		if t.kinds[ph] == nil {
			t.kinds[ph] = map[string]int64{}
		}
		for k, v := range m {
			t.kinds[ph][k] += v
		}
	}
	for k, v := range o.samples {
		for _, s := range v {
			if len(t.samples[k]) < 3 {
				t.samples[k] = append(t.samples[k], s)
			}
		}
	}
	t.anomalies = append(t.anomalies, o.anomalies...)
	t.badReads = append(t.badReads, o.badReads...)
	t.lat.Merge(o.lat)
}

func sum(m map[string]int64) int64 {
	var n int64
	for _, v := range m {
		n += v
	}
	return n
}

// writer owns its keys: SET with increasing values, DEL, EXPIRE, INCR.
type writer struct {
	id   int
	c    *redis.Client
	ph   *phases
	rnd  *rand.Rand
	strs []*strKey
	ctrs []*ctrKey
	seq  int64
	t    *tally
}

func newWriter(id int, c *redis.Client, ph *phases, seed uint64) *writer {
	w := &writer{id: id, c: c, ph: ph, rnd: rand.New(rand.NewPCG(seed, uint64(id))), t: newTally()}
	for i := range strPerW {
		w.strs = append(w.strs, &strKey{name: strName(id, i)})
	}
	for i := range ctrPerW {
		w.ctrs = append(w.ctrs, &ctrKey{name: ctrName(id, i)})
	}
	return w
}

// warm writes every key of the writer once, retrying until acknowledged,
// so that every key has a known state before the faults start.
func (w *writer) warm(ctx context.Context) error {
	for _, k := range w.strs {
		w.seq++
		s := state{seq: w.seq}
		if err := retry(ctx, func(ctx context.Context) error { return w.c.Set(ctx, k.name, value(k.name, s.seq), 0).Err() }); err != nil {
			return fmt.Errorf("warm SET %s: %w", k.name, err)
		}
		k.ack(s)
	}
	for _, k := range w.ctrs {
		if err := retry(ctx, func(ctx context.Context) error { return w.c.Set(ctx, k.name, 0, 0).Err() }); err != nil {
			return fmt.Errorf("warm SET %s: %w", k.name, err)
		}
		k.acks++
	}
	return nil
}

// retry runs f until it succeeds or ctx ends.
func retry(ctx context.Context, f func(context.Context) error) error {
	for {
		octx, cancel := context.WithTimeout(ctx, opTimeout)
		err := f(octx)
		cancel()
		if err == nil || ctx.Err() != nil {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// run issues commands until stop is closed. Each command gets its own
// deadline, not stop's, so that one in flight finishes and is recorded.
func (w *writer) run(stop <-chan struct{}) {
	for {
		select {
		case <-stop:
			return
		default:
		}
		if w.rnd.IntN(4) == 0 {
			w.incr(w.ctrs[w.rnd.IntN(len(w.ctrs))])
			continue
		}
		k := w.strs[w.rnd.IntN(len(w.strs))]
		r := w.rnd.IntN(100)
		switch {
		case !k.settled() || k.acked.deleted || r < 60:
			w.set(k)
		case r < 80:
			w.del(k)
		default:
			w.expire(k)
		}
	}
}

func (w *writer) do(k *strKey, cmd string, f func(ctx context.Context) error) string {
	phase := w.ph.name()
	ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
	start := time.Now()
	err := f(ctx)
	took := time.Since(start)
	cancel()
	if k != nil {
		res := "ok"
		if err != nil {
			res = err.Error()
		}
		k.note(fmt.Sprintf("%s %s %s (%s, %v) → %s", start.Format("15:04:05.000"), cmd, k.name, phase, took.Round(time.Millisecond), oneLine(res)))
	}
	name, _, _ := strings.Cut(cmd, " ")
	return w.t.record(name, phase, took, err)
}

// anomaly records a reply that shows a lost write, with when and in which
// phase it came.
func (w *writer) anomaly(what string) {
	w.t.anomalies = append(w.t.anomalies, fmt.Sprintf("%s at %s during %s", what, time.Now().Format("15:04:05.000"), w.ph.name()))
}

func (w *writer) set(k *strKey) {
	w.seq++
	s := state{seq: w.seq}
	if w.do(k, "SET v"+strconv.FormatInt(s.seq, 10), func(ctx context.Context) error { return w.c.Set(ctx, k.name, value(k.name, s.seq), 0).Err() }) != "" {
		k.fail(s)
		return
	}
	k.ack(s)
}

func (w *writer) del(k *strKey) {
	var n int64
	was := k.acked
	if w.do(k, "DEL", func(ctx context.Context) (err error) { n, err = w.c.Del(ctx, k.name).Result(); return err }) != "" {
		k.fail(state{deleted: true})
		return
	}
	k.ack(state{deleted: true})
	if n == 0 && !was.deleted && !k.mayHaveLanded(true) {
		w.anomaly(fmt.Sprintf("%s: DEL found nothing where %s was acknowledged; history: %s", k.name, was, k.history()))
	}
}

func (w *writer) expire(k *strKey) {
	var set bool
	s := state{seq: k.acked.seq, ttl: true}
	if w.do(k, "EXPIRE", func(ctx context.Context) (err error) {
		set, err = w.c.Expire(ctx, k.name, expireAfter).Result()
		return err
	}) != "" {
		k.fail(s)
		return
	}
	if !set {
		// The key was absent: the acknowledged value is gone (unless an
		// older unacknowledged DEL landed late). The ledger now knows it
		// absent.
		if !k.mayHaveLanded(true) {
			w.anomaly(fmt.Sprintf("%s: EXPIRE found nothing where %s was acknowledged; history: %s", k.name, k.acked, k.history()))
		}
		k.ack(state{deleted: true})
		return
	}
	k.ack(s)
}

func (w *writer) incr(k *ctrKey) {
	var n int64
	if w.do(nil, "INCR", func(ctx context.Context) (err error) { n, err = w.c.Incr(ctx, k.name).Result(); return err }) != "" {
		k.unacked++
		return
	}
	if a := k.incr(n); a != "" {
		w.anomaly(a)
	}
}

// reader issues GET and MGET: mostly zipf-chosen origin keys (read-through),
// some of the writers' keys.
type reader struct {
	id   int
	c    *redis.Client
	ph   *phases
	rnd  *rand.Rand
	zipf *workload.Zipf
	t    *tally
}

func newReader(id int, c *redis.Client, ph *phases, seed uint64) *reader {
	z, err := workload.NewZipf(originKeys, zipfSkew)
	if err != nil {
		panic(err) // constant arguments
	}
	return &reader{id: id, c: c, ph: ph, rnd: rand.New(rand.NewPCG(seed, uint64(1000+id))), zipf: z, t: newTally()}
}

func (r *reader) key() string {
	if r.rnd.IntN(10) < 7 {
		return originName(r.zipf.Next(r.rnd))
	}
	if r.rnd.IntN(5) == 0 {
		return ctrName(r.rnd.IntN(writers), r.rnd.IntN(ctrPerW))
	}
	return strName(r.rnd.IntN(writers), r.rnd.IntN(strPerW))
}

func (r *reader) run(stop <-chan struct{}) {
	for {
		select {
		case <-stop:
			return
		default:
		}
		phase := r.ph.name()
		ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
		if r.rnd.IntN(5) == 0 {
			keys := make([]string, 4)
			for i := range keys {
				keys[i] = r.key()
			}
			start := time.Now()
			vals, err := r.c.MGet(ctx, keys...).Result()
			if r.t.record("MGET", phase, time.Since(start), err) == "" {
				for i, v := range vals {
					s, _ := v.(string)
					r.checkRead(keys[i], s, v != nil)
				}
			}
		} else {
			k := r.key()
			start := time.Now()
			v, err := r.c.Get(ctx, k).Result()
			if r.t.record("GET", phase, time.Since(start), err) == "" {
				r.checkRead(k, v, err == nil)
			}
		}
		cancel()
	}
}

// checkRead flags a value nobody could have written to key.
func (r *reader) checkRead(key, v string, present bool) {
	if !present || fromOrigin(key, v) {
		return
	}
	if _, ok := seqOf(key, v); ok && strings.Contains(key, ":s") {
		return
	}
	if _, err := fmt.Sscan(v, new(int64)); err == nil && strings.Contains(key, ":c") {
		return
	}
	if len(r.t.badReads) < 20 {
		r.t.badReads = append(r.t.badReads, fmt.Sprintf("GET %s = %q", key, v))
	}
}

// runLoad starts the workers; the returned function stops them, waits for
// them and returns the merged tally.
func runLoad(ws []*writer, rs []*reader) (stop func() *tally) {
	done := make(chan struct{})
	var wg sync.WaitGroup
	for _, w := range ws {
		wg.Go(func() { w.run(done) })
	}
	for _, r := range rs {
		wg.Go(func() { r.run(done) })
	}
	return func() *tally {
		close(done)
		wg.Wait()
		all := newTally()
		for _, w := range ws {
			all.merge(w.t)
		}
		for _, r := range rs {
			all.merge(r.t)
		}
		return all
	}
}
