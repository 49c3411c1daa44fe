// Package originsim is an HTTP origin for benchmarks: it serves any key at
// /k/{key} after a configurable latency that grows when too many loads run
// at once, fails and recovers on a schedule or on demand, and counts loads
// per key, served at /stats. Point corral at it with
// --origin http://ADDR/k/{key}.
package originsim

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"corral/internal/clock"
)

// Sim is a simulated origin. All its methods are safe for concurrent use.
type Sim struct {
	cfg     Config
	clock   clock.Clock
	start   time.Time
	handler http.Handler
	maxAge  string // the Cache-Control header value, "" for none

	loads, failed, served atomic.Int64
	inflight, maxSeen     atomic.Int64
	down                  atomic.Int32 // forced state: 0 by schedule, 1 down, 2 up

	mu     sync.Mutex // guards perKey, rnd and ln
	perKey map[string]int64
	rnd    *rand.Rand
	ln     net.Listener
}

// Stats is what /stats serves.
type Stats struct {
	Loads       int64      `json:"loads"`        // load requests received, failed ones included
	Failed      int64      `json:"failed"`       // answered 503
	Served      int64      `json:"served"`       // answered with a value
	Inflight    int64      `json:"inflight"`     // loads in progress now
	MaxInflight int64      `json:"max_inflight"` // most loads in progress at once
	Keys        int        `json:"keys"`         // distinct keys loaded
	Failing     bool       `json:"failing"`      // answering 503 now
	UptimeS     float64    `json:"uptime_s"`
	Top         []KeyLoads `json:"top"` // most loaded keys first
}

// KeyLoads is one key's load count.
type KeyLoads struct {
	Key   string `json:"key"`
	Loads int64  `json:"loads"`
}

// New returns a Sim; it serves once Run is called.
func New(cfg Config) (*Sim, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	s := &Sim{
		cfg:    cfg,
		clock:  clock.Or(cfg.Clock),
		perKey: map[string]int64{},
		rnd:    rand.New(rand.NewPCG(cfg.Seed, cfg.Seed^0x9e3779b97f4a7c15)),
	}
	s.start = s.clock.Now()
	if cfg.MaxAge > 0 {
		s.maxAge = "max-age=" + strconv.FormatInt(maxAgeSeconds(cfg.MaxAge), 10)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /k/{key...}", s.serveKey)
	mux.HandleFunc("GET /stats", s.serveStats)
	mux.HandleFunc("POST /fail", func(w http.ResponseWriter, _ *http.Request) { s.SetDown(true); fmt.Fprintln(w, "failing") })
	mux.HandleFunc("POST /recover", func(w http.ResponseWriter, _ *http.Request) { s.SetDown(false); fmt.Fprintln(w, "serving") })
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprintln(w, "corral bench origin: GET /k/{key} loads a key, GET /stats counts loads, POST /fail and /recover switch failure on and off")
	})
	s.handler = mux
	return s, nil
}

// Handler returns the Sim's HTTP handler, for tests or mounting elsewhere.
func (s *Sim) Handler() http.Handler { return s.handler }

// Listen binds Config.Addr, so that Addr is known before Run.
func (s *Sim) Listen() error {
	ln, err := net.Listen("tcp", s.cfg.Addr)
	if err != nil {
		return fmt.Errorf("originsim: listen %s: %w", s.cfg.Addr, err)
	}
	s.mu.Lock()
	s.ln = ln
	s.mu.Unlock()
	return nil
}

// Addr returns the bound address; "" before Listen.
func (s *Sim) Addr() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ln == nil {
		return ""
	}
	return s.ln.Addr().String()
}

// URL returns the origin URL template corral takes: http://ADDR/k/{key}.
func (s *Sim) URL() string { return "http://" + s.Addr() + "/k/{key}" }

// Run serves until ctx is done, then closes every connection; loads in
// progress are abandoned. It calls Listen when it has not been called.
func (s *Sim) Run(ctx context.Context) error {
	if s.Addr() == "" {
		if err := s.Listen(); err != nil {
			return err
		}
	}
	s.mu.Lock()
	ln := s.ln
	s.mu.Unlock()
	srv := &http.Server{Handler: s.handler, ReadHeaderTimeout: 10 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("originsim: serve: %w", err)
	case <-ctx.Done():
	}
	_ = srv.Close()
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("originsim: serve: %w", err)
	}
	return nil
}

// SetDown forces the origin to fail (true) or serve (false) from now on,
// overriding the schedule.
func (s *Sim) SetDown(down bool) {
	if down {
		s.down.Store(1)
	} else {
		s.down.Store(2)
	}
}

// failing reports whether loads fail at now.
func (s *Sim) failing(now time.Time) bool {
	switch s.down.Load() {
	case 1:
		return true
	case 2:
		return false
	}
	return Failing(s.start, now, s.cfg.FailAfter, s.cfg.RecoverAfter)
}

// Loads returns the number of load requests received so far, failed ones
// included.
func (s *Sim) Loads() int64 { return s.loads.Load() }

// Counts returns the load requests received and those answered 503, so
// far, cheaply.
func (s *Sim) Counts() (loads, failed int64) { return s.loads.Load(), s.failed.Load() }

// KeyLoads returns the number of load requests received for key.
func (s *Sim) KeyLoads(key string) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.perKey[key]
}

// Stats returns the counters, with the top most loaded keys (every key
// when top <= 0).
func (s *Sim) Stats(top int) Stats {
	st := Stats{
		Loads:       s.loads.Load(),
		Failed:      s.failed.Load(),
		Served:      s.served.Load(),
		Inflight:    s.inflight.Load(),
		MaxInflight: s.maxSeen.Load(),
		Failing:     s.failing(s.clock.Now()),
		UptimeS:     s.clock.Now().Sub(s.start).Seconds(),
	}
	s.mu.Lock()
	st.Keys = len(s.perKey)
	st.Top = make([]KeyLoads, 0, len(s.perKey))
	for k, n := range s.perKey {
		st.Top = append(st.Top, KeyLoads{k, n})
	}
	s.mu.Unlock()
	slices.SortFunc(st.Top, func(a, b KeyLoads) int {
		return cmp.Or(cmp.Compare(b.Loads, a.Loads), strings.Compare(a.Key, b.Key))
	})
	if top > 0 && len(st.Top) > top {
		st.Top = st.Top[:top]
	}
	return st
}

func (s *Sim) serveStats(w http.ResponseWriter, r *http.Request) {
	top := 20
	if v := r.URL.Query().Get("top"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			http.Error(w, "top: not an integer", http.StatusBadRequest)
			return
		}
		top = n
	}
	w.Header().Set("Content-Type", "application/json")
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(s.Stats(top))
}

func (s *Sim) serveKey(w http.ResponseWriter, r *http.Request) {
	key := r.PathValue("key")
	now := s.clock.Now()
	n := s.inflight.Add(1)
	defer s.inflight.Add(-1)
	for m := s.maxSeen.Load(); n > m && !s.maxSeen.CompareAndSwap(m, n); m = s.maxSeen.Load() {
	}
	s.loads.Add(1)
	s.mu.Lock()
	s.perKey[key]++
	seq := s.perKey[key]
	u := s.rnd.Float64()
	s.mu.Unlock()

	if s.failing(now) {
		s.failed.Add(1)
		http.Error(w, "origin simulator: failing", http.StatusServiceUnavailable)
		return
	}
	if d := Delay(s.cfg.Latency, s.cfg.Jitter, int(n), s.cfg.MaxConcurrency, u); d > 0 {
		t := time.NewTimer(d) // the simulated load's own latency, not a wait in a test
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
			return
		}
	}
	if s.maxAge != "" {
		w.Header().Set("Cache-Control", s.maxAge)
	}
	w.Header().Set("Content-Length", strconv.Itoa(s.cfg.ValueSize))
	_, _ = w.Write(value(key, seq, s.cfg.ValueSize))
	s.served.Add(1)
}

// value is what the origin serves for the seq-th load of key: the key and
// the load number, padded or cut to size bytes.
func value(key string, seq int64, size int) []byte {
	b := make([]byte, 0, max(size, 32))
	b = append(b, key...)
	b = append(b, '#')
	b = strconv.AppendInt(b, seq, 10)
	for len(b) < size {
		b = append(b, '.')
	}
	return b[:size]
}
