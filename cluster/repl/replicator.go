package repl

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"

	"corral/cluster/engine"
	"corral/cluster/placement"
	"corral/internal/clock"
	"corral/xfetch"
)

// maxBackground bounds the background replications AckOne runs at once;
// past it, writes are hinted instead.
const maxBackground = 1024

// Replicator replicates writes, delivers hints and runs anti-entropy for
// one node. Build it with New; all methods are safe for concurrent use.
type Replicator struct {
	cfg    Config
	clock  clock.Clock
	rand   xfetch.Rand
	log    *slog.Logger
	local  Local
	m      *metrics
	bg     chan struct{} // AckOne's background replication slots
	health *peerHealth   // peers that failed recently

	mu     sync.Mutex
	table  *placement.Table                // the table the state below follows
	seen   atomic.Pointer[placement.Table] // r.table, readable without mu
	filled []atomic.Bool                   // per partition we own: we hold what our co-owners hold (written under mu)
	inSync [][]string                      // per partition we are primary of: co-owners found equal since the last failure
	hints  map[string]*hintQueue
}

// hintQueue is the set of keys a peer missed, in arrival order.
type hintQueue struct {
	keys    map[string]int  // key → partition
	flying  map[string]bool // keys FlushHints is delivering right now
	again   map[string]bool // flying keys hinted again meanwhile: keep them queued
	order   []string
	perPart map[int]int // queued keys per partition
}

// New validates cfg and returns a Replicator.
func New(cfg Config) (*Replicator, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.Self == "" || cfg.Engine == nil || cfg.Transport == nil || cfg.Table == nil {
		return nil, errors.New("repl: Self, Engine, Transport and Table are required")
	}
	lg := cfg.Logger
	if lg == nil {
		lg = slog.New(slog.DiscardHandler)
	}
	r := &Replicator{
		cfg:    cfg,
		clock:  clock.Or(cfg.Clock),
		rand:   cfg.Rand.Or(),
		log:    lg.With("component", "repl"),
		bg:     make(chan struct{}, maxBackground),
		health: newPeerHealth(),
		filled: make([]atomic.Bool, cfg.Engine.Partitions()),
		inSync: make([][]string, cfg.Engine.Partitions()),
		hints:  make(map[string]*hintQueue),
	}
	r.local = Local{Engine: cfg.Engine, Synced: r.markFilled}
	r.m = newMetrics(cfg.Registerer, r)
	return r, nil
}

// Local returns the server side of the protocol for this node, which
// marks partitions filled when a peer finds them equal.
func (r *Replicator) Local() Local { return r.local }

// current returns the placement, first bringing the per-partition state
// in line with it when it changed.
func (r *Replicator) current() *placement.Table {
	t := r.cfg.Table()
	if r.seen.Load() == t {
		return t // the hot path: no lock
	}
	r.mu.Lock()
	if t != r.table {
		r.retableLocked(t)
	}
	r.mu.Unlock()
	return t
}

// retableLocked adopts table t: partitions we newly own are not filled
// (reads ask the co-owners until anti-entropy fills them), partitions we no
// longer own forget their state, and in-sync sets keep only current
// co-owners.
func (r *Replicator) retableLocked(t *placement.Table) {
	old := r.table
	r.table = t
	defer r.seen.Store(t)
	self := r.cfg.Self
	for p := range r.filled {
		owns := t != nil && t.Owns(self, p)
		had := old != nil && old.Owns(self, p)
		switch {
		case !owns:
			r.filled[p].Store(false)
			r.inSync[p] = nil
			continue
		case t.RF() == 1:
			r.filled[p].Store(true) // nobody to ask
		case !had || newCoOwner(old, t, p, self):
			// A co-owner we have not compared with may hold writes we
			// lack: after a network partition heals, this node was alone
			// and the others took writes. Until anti-entropy finds the
			// copies equal, reads ask the co-owners first, so that a miss
			// neither reads stale nor loads from the origin over an
			// acknowledged write.
			r.filled[p].Store(false)
		}
		if t.Primary(p) != self {
			r.inSync[p] = nil
			continue
		}
		owners := t.Owners(p)
		r.inSync[p] = slices.DeleteFunc(r.inSync[p], func(o string) bool { return !slices.Contains(owners, o) })
	}
}

// newCoOwner reports whether t gives partition p a co-owner of self's that
// old did not.
func newCoOwner(old, t *placement.Table, p int, self string) bool {
	prev := old.Owners(p)
	for _, o := range t.Owners(p) {
		if o != self && !slices.Contains(prev, o) {
			return true
		}
	}
	return false
}

// markFilled records that a peer found our copy of part equal to its own.
func (r *Replicator) markFilled(part int) {
	t := r.current()
	r.mu.Lock()
	if t != nil && part >= 0 && part < len(r.filled) && t.Owns(r.cfg.Self, part) {
		r.filled[part].Store(true)
	}
	r.mu.Unlock()
}

// Filled reports whether this node holds what its co-owners hold of part:
// false while a new owner is being filled by anti-entropy, when reads of
// keys it misses should ask the co-owners (FetchFromOwners).
func (r *Replicator) Filled(part int) bool {
	r.current()
	return part >= 0 && part < len(r.filled) && r.filled[part].Load()
}

// markInSync records that peer holds what we hold of part, which we are
// primary of; markOutOfSync that it may not.
func (r *Replicator) markInSync(part int, peer string) {
	r.mu.Lock()
	if r.table != nil && r.table.Primary(part) == r.cfg.Self && !slices.Contains(r.inSync[part], peer) {
		r.inSync[part] = append(r.inSync[part], peer)
	}
	r.mu.Unlock()
}

func (r *Replicator) markOutOfSync(part int, peer string) {
	r.mu.Lock()
	r.markOutOfSyncLocked(part, peer)
	r.mu.Unlock()
}

func (r *Replicator) markOutOfSyncLocked(part int, peer string) {
	r.inSync[part] = slices.DeleteFunc(r.inSync[part], func(o string) bool { return o == peer })
}

// peersOf returns the owners of part other than us, and whether we own it.
func peersOf(t *placement.Table, self string, part int) (peers []string, owns bool) {
	if t == nil {
		return nil, false
	}
	for _, o := range t.Owners(part) {
		if o == self {
			owns = true
		} else {
			peers = append(peers, o)
		}
	}
	return peers, owns
}

// Owners returns the owners of part in placement order, primary first.
func (r *Replicator) Owners(part int) []string {
	t := r.current()
	if t == nil {
		return nil
	}
	return t.Owners(part)
}

// Replicate sends entries of partition part, which this node has just
// applied, to the partition's other owners, and returns how many owners
// hold them (this node included, if it owns part) and how many the ack
// mode needs. Owners it cannot reach are hinted. With AckOne it replicates
// in the background and returns at once.
func (r *Replicator) Replicate(ctx context.Context, part int, entries []Entry) (acks, need int) {
	t := r.current()
	peers, owns := peersOf(t, r.cfg.Self, part)
	if owns {
		acks = 1
	}
	need = r.need()
	if len(peers) == 0 || len(entries) == 0 {
		return acks, need
	}
	if r.cfg.Acks == AckOne {
		r.background(part, peers, entries)
		return acks, need
	}
	return acks + r.send(ctx, part, peers, entries), need
}

// ReplicateAsync sends entries of part to its other owners in the
// background, whatever the ack mode: for records nobody waits on, such as
// values a read-through load stored. The caller must not modify entries.
func (r *Replicator) ReplicateAsync(part int, entries []Entry) {
	if peers, _ := peersOf(r.current(), r.cfg.Self, part); len(peers) > 0 {
		r.background(part, peers, entries)
	}
}

// background replicates on a goroutine of its own, bounded by
// maxBackground; past the bound, the peers are hinted instead.
func (r *Replicator) background(part int, peers []string, entries []Entry) {
	select {
	case r.bg <- struct{}{}:
		go func() {
			defer func() { <-r.bg }()
			r.send(context.Background(), part, peers, entries)
		}()
	default:
		for _, p := range peers {
			r.hint(p, part, entries)
		}
	}
}

// need returns how many owners the ack mode waits for.
func (r *Replicator) need() int {
	if r.cfg.Acks == AckQuorum {
		return r.cfg.Replicas/2 + 1
	}
	return 1
}

// send applies entries on peers and returns how many succeeded; the
// others are hinted.
func (r *Replicator) send(ctx context.Context, part int, peers []string, entries []Entry) int {
	now := r.clock.Now()
	live := make([]string, 0, len(peers))
	for _, p := range peers {
		if r.health.down(p, now) {
			r.m.replFailed.Inc()
			r.hint(p, part, entries) // failed just now: do not wait on it again
		} else {
			live = append(live, p)
		}
	}
	errs := r.each(ctx, live, func(ctx context.Context, p string) error {
		return r.cfg.Transport.Apply(ctx, p, entries)
	})
	ok := 0
	for i, err := range errs {
		if err == nil {
			r.health.ok(live[i])
			ok++
			continue
		}
		r.health.failed(live[i], r.clock.Now())
		r.m.replFailed.Inc()
		r.log.Debug("replication failed; hinting", "peer", live[i], "partition", part, "err", err)
		r.hint(live[i], part, entries)
	}
	return ok
}

// each calls fn for every peer, each call bounded by Timeout, in parallel
// unless Serial, and returns the errors in peer order.
func (r *Replicator) each(ctx context.Context, peers []string, fn func(context.Context, string) error) []error {
	errs := make([]error, len(peers))
	call := func(i int) {
		cctx, cancel := context.WithTimeout(ctx, r.cfg.Timeout)
		errs[i] = fn(cctx, peers[i])
		cancel()
	}
	if r.cfg.Serial || len(peers) == 1 {
		for i := range peers {
			call(i)
		}
		return errs
	}
	var wg sync.WaitGroup
	for i := range peers {
		wg.Go(func() { call(i) })
	}
	wg.Wait()
	return errs
}

// FetchFromOwners asks part's other owners for keys and merges what they
// hold: a read or write on a partition that is not filled yet runs it
// first, so a new owner answers with what the cluster holds and a
// read-modify-write starts from the current value. It returns how many
// owners answered.
func (r *Replicator) FetchFromOwners(ctx context.Context, part int, keys [][]byte) int {
	all, _ := peersOf(r.current(), r.cfg.Self, part)
	now := r.clock.Now()
	peers := make([]string, 0, len(all))
	for _, p := range all {
		if !r.health.down(p, now) { // a peer that just failed would make the caller wait
			peers = append(peers, p)
		}
	}
	if len(peers) == 0 {
		return 0
	}
	got := make([][]Entry, len(peers))
	errs := r.each(ctx, peers, func(ctx context.Context, p string) error {
		var err error
		got[slices.Index(peers, p)], err = r.cfg.Transport.Fetch(ctx, p, keys)
		return err
	})
	n := 0
	for i, err := range errs {
		if err != nil {
			r.health.failed(peers[i], r.clock.Now())
			continue
		}
		r.health.ok(peers[i])
		n++
		r.local.Apply(got[i])
	}
	return n
}

// hint queues entries' keys for peer, dropping them when its queue is full
// (anti-entropy repairs those).
func (r *Replicator) hint(peer string, part int, entries []Entry) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.markOutOfSyncLocked(part, peer)
	q := r.hints[peer]
	if q == nil {
		q = &hintQueue{keys: map[string]int{}, flying: map[string]bool{}, again: map[string]bool{}, perPart: map[int]int{}}
		r.hints[peer] = q
	}
	for _, e := range entries {
		k := string(e.Key)
		if _, ok := q.keys[k]; ok {
			if q.flying[k] {
				q.again[k] = true // the delivery may carry the older record
			}
			continue
		}
		if len(q.keys) >= r.cfg.HintsPerPeer {
			r.m.hintsDropped.Inc()
			continue
		}
		q.keys[k] = part
		q.order = append(q.order, k)
		q.perPart[part]++
	}
}

// HintsQueued returns how many keys wait for delivery to some peer.
func (r *Replicator) HintsQueued() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, q := range r.hints {
		n += len(q.keys)
	}
	return n
}

// FlushHints delivers one batch of queued keys to each peer that has
// some, sending what each key holds now; keys of partitions the peer no
// longer owns are dropped. It returns how many keys it delivered.
func (r *Replicator) FlushHints(ctx context.Context) int {
	t := r.current()
	r.mu.Lock()
	peers := make([]string, 0, len(r.hints))
	for p, q := range r.hints {
		if len(q.keys) > 0 {
			peers = append(peers, p)
		} else {
			delete(r.hints, p)
		}
	}
	r.mu.Unlock()
	slices.Sort(peers)
	delivered := 0
	now := r.clock.Now().UnixMilli()
	for _, peer := range peers {
		r.mu.Lock()
		q := r.hints[peer]
		var batch []string
		i := 0
		for ; i < len(q.order) && len(batch) < r.cfg.HintBatch; i++ {
			k := q.order[i]
			if part, ok := q.keys[k]; ok {
				if t != nil && t.Owns(peer, part) {
					batch = append(batch, k)
				} else {
					delete(q.keys, k)
					q.perPart[part]--
				}
			}
		}
		q.order = q.order[i:]
		for _, k := range batch {
			q.flying[k] = true
		}
		r.mu.Unlock()
		if len(batch) == 0 {
			continue
		}
		entries := make([]Entry, 0, len(batch))
		for _, k := range batch {
			if rec, ok := r.cfg.Engine.Lookup([]byte(k), now); ok {
				entries = append(entries, Entry{Key: []byte(k), Rec: rec})
			}
		}
		cctx, cancel := context.WithTimeout(ctx, r.cfg.Timeout)
		err := r.cfg.Transport.Apply(cctx, peer, entries)
		cancel()
		if err != nil {
			r.health.failed(peer, r.clock.Now())
		} else {
			r.health.ok(peer)
		}
		r.mu.Lock()
		for _, k := range batch {
			delete(q.flying, k)
		}
		if err != nil {
			for _, k := range batch {
				delete(q.again, k)
			}
			q.order = append(batch, q.order...) // keep them, in order
			r.mu.Unlock()
			continue
		}
		for _, k := range batch {
			if q.again[k] {
				delete(q.again, k) // written again during the delivery: send it once more
				q.order = append(q.order, k)
				continue
			}
			part := q.keys[k]
			delete(q.keys, k)
			q.perPart[part]--
		}
		r.mu.Unlock()
		delivered += len(entries)
	}
	r.m.hintsDelivered.Add(float64(delivered))
	return delivered
}

// lookupEntries returns the records this node holds for keys at nowMs.
func lookupEntries(e *engine.Engine, keys [][]byte, nowMs int64) []Entry {
	out := make([]Entry, 0, len(keys))
	for _, k := range keys {
		if rec, ok := e.Lookup(k, nowMs); ok {
			out = append(out, Entry{Key: k, Rec: rec})
		}
	}
	return out
}
