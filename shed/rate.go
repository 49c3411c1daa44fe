package shed

import (
	"container/list"
	"strconv"
	"strings"
	"sync"
	"time"

	"corral/internal/clock"
)

// sweepPerAllow is how many of the least recently seen client buckets each
// Allow checks for idleness, so that buckets of departed clients are dropped
// even while the map is below MaxClients.
const sweepPerAllow = 2

// Rate limits requests with token buckets: one global, one per client
// address. A bucket holds up to its burst of tokens, refills at its rate per
// second by the injected clock, and each admitted request takes one token
// from every enabled bucket. Build one with NewRate; the zero value is not
// usable. All methods are safe for concurrent use.
//
// Client buckets live in a map bounded by MaxClients. A bucket that has
// refilled to its burst holds no state worth keeping and is dropped; when
// the map is full of busy clients, the least recently seen one is forgotten
// (it gets a full bucket if it returns). Memory therefore stays bounded
// however many addresses send requests; the global bucket still bounds what
// such a crowd can push through.
type Rate struct {
	clock      clock.Clock
	rate       float64 // global tokens per second; 0: disabled
	burst      float64
	clientRate float64 // per-client tokens per second; 0: disabled
	clientCap  float64 // per-client burst
	maxClients int
	metrics    rateMetrics
	errGlobal  *RejectError
	errClient  *RejectError

	mu      sync.Mutex // guards global, clients and lru
	global  bucket
	clients map[string]*list.Element // of *clientBucket, by address
	lru     list.List                // of *clientBucket, most recently seen first
}

// bucket is a token bucket's state.
type bucket struct {
	tokens float64
	last   time.Time // when tokens was last brought up to date
}

// clientBucket is one client's bucket, keyed by its address.
type clientBucket struct {
	client string
	bucket
}

// refill brings b's tokens up to date at now, capped at burst. A clock that
// went backwards adds nothing.
func (b *bucket) refill(now time.Time, rate, burst float64) {
	if elapsed := now.Sub(b.last); elapsed > 0 {
		b.tokens = min(burst, b.tokens+elapsed.Seconds()*rate)
		b.last = now
	}
}

// NewRate returns a Rate configured by cfg, or an error matching
// ErrInvalidConfig when cfg.Validate rejects it.
func NewRate(cfg RateConfig) (*Rate, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	r := &Rate{
		clock:      clock.Or(cfg.Clock),
		rate:       cfg.Rate,
		burst:      float64(defaultBurst(cfg.Burst, cfg.Rate)),
		clientRate: cfg.PerClientRate,
		clientCap:  float64(defaultBurst(cfg.PerClientBurst, cfg.PerClientRate)),
		maxClients: cfg.MaxClients,
		metrics:    newRateMetrics(cfg.Registerer),
		errGlobal:  newRejectError(ErrRateLimited, ReasonRate, "over "+perSecond(cfg.Rate)),
		errClient:  newRejectError(ErrRateLimited, ReasonClientRate, "client over "+perSecond(cfg.PerClientRate)),
		clients:    make(map[string]*list.Element),
	}
	if r.maxClients == 0 {
		r.maxClients = DefaultMaxClients
	}
	r.global = bucket{tokens: r.burst, last: r.clock.Now()}
	return r, nil
}

// perSecond formats a rate as "N requests/s".
func perSecond(rate float64) string {
	return strconv.FormatFloat(rate, 'g', -1, 64) + " requests/s"
}

// Allow takes a token for one request from client (its address, without
// the port, so that all of a client's connections share a bucket). It
// returns nil, or an error matching ErrRateLimited whose Reason says which
// bucket was empty: ReasonClientRate or ReasonRate. A refused request takes
// no token from either bucket.
func (r *Rate) Allow(client string) error {
	if r.rate == 0 && r.clientRate == 0 {
		return nil
	}
	now := r.clock.Now()
	r.mu.Lock()
	defer r.mu.Unlock()
	var cb *clientBucket
	if r.clientRate > 0 {
		cb = r.clientLocked(client, now)
		if cb.tokens < 1 {
			r.metrics.client.Inc()
			return r.errClient
		}
	}
	if r.rate > 0 {
		r.global.refill(now, r.rate, r.burst)
		if r.global.tokens < 1 {
			r.metrics.global.Inc()
			return r.errGlobal
		}
		r.global.tokens--
	}
	if cb != nil {
		cb.tokens--
	}
	return nil
}

// clientLocked returns client's bucket refilled to now, creating it (full)
// if needed and marking it most recently seen. On the way it drops up to
// sweepPerAllow idle buckets of other clients and, when the map is full,
// the least recently seen one. r.mu must be held.
func (r *Rate) clientLocked(client string, now time.Time) *clientBucket {
	e, ok := r.clients[client]
	if ok {
		r.lru.MoveToFront(e)
	}
	r.sweepLocked(now, sweepPerAllow, e)
	if ok {
		cb := e.Value.(*clientBucket)
		cb.refill(now, r.clientRate, r.clientCap)
		return cb
	}
	if len(r.clients) >= r.maxClients {
		oldest := r.lru.Back()
		delete(r.clients, r.lru.Remove(oldest).(*clientBucket).client)
	}
	cb := &clientBucket{client: strings.Clone(client), bucket: bucket{tokens: r.clientCap, last: now}}
	r.clients[cb.client] = r.lru.PushFront(cb)
	return cb
}

// sweepLocked drops up to n of the least recently seen client buckets that
// have refilled to their burst by now, stopping at the first that has not
// and at keep. r.mu must be held.
func (r *Rate) sweepLocked(now time.Time, n int, keep *list.Element) {
	for ; n > 0; n-- {
		e := r.lru.Back()
		if e == nil || e == keep {
			return
		}
		cb := e.Value.(*clientBucket)
		if cb.tokens+now.Sub(cb.last).Seconds()*r.clientRate < r.clientCap {
			return
		}
		r.lru.Remove(e)
		delete(r.clients, cb.client)
	}
}

// clientCount returns the number of client buckets kept, for tests.
func (r *Rate) clientCount() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.clients)
}
