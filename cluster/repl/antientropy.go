package repl

import (
	"bytes"
	"context"
	"slices"
	"time"

	"corral/cluster/engine"
	"corral/cluster/placement"
)

// applyChunk bounds the records one Apply call carries.
const applyChunk = 512

// RoundStats tells what one anti-entropy round did.
type RoundStats struct {
	Compared  int // partition copies compared by root
	Differing int // of those, copies whose roots differed
	Repaired  int // records pushed or pulled
	Deferred  int // differing copies left for a later round (rate limit)
	Failed    int // peer calls that failed
	HandedOff int // partitions handed to their owners and dropped here
}

// Round runs one anti-entropy round. For every partition this node is
// primary of, it compares roots with each co-owner (AEBatch partitions per
// call), descends into the buckets of differing partitions and exchanges
// only the records that differ, both ways. Then it hands every partition it
// holds but no longer owns to the partition's owners, and drops it once
// they all have it. It stops repairing when the round's share of AERate is
// spent; the rest waits for the next round.
func (r *Replicator) Round(ctx context.Context) RoundStats {
	t := r.current()
	var st RoundStats
	if t == nil {
		return st
	}
	budget := -1
	if r.cfg.AERate > 0 {
		budget = max(1, int(float64(r.cfg.AERate)*r.cfg.AEInterval.Seconds()))
	}
	self := r.cfg.Self
	byPeer := map[string][]int{}
	for _, p := range t.PartitionsOf(self) {
		if t.Primary(p) != self {
			continue
		}
		for _, o := range t.Owners(p)[1:] {
			byPeer[o] = append(byPeer[o], p)
		}
	}
	peers := make([]string, 0, len(byPeer))
	for o := range byPeer {
		peers = append(peers, o)
	}
	slices.Sort(peers)
	for _, o := range peers {
		r.compareWith(ctx, o, byPeer[o], &budget, &st)
	}
	for p := range r.filled {
		if ctx.Err() != nil {
			break
		}
		if t.Owns(self, p) || r.cfg.Engine.PartitionRecordCount(p) == 0 {
			continue
		}
		if r.handoff(ctx, t, p, &budget, &st) {
			st.HandedOff++
		}
	}
	r.m.round(st)
	return st
}

// compareWith compares parts with peer by root and repairs the differing
// ones.
func (r *Replicator) compareWith(ctx context.Context, peer string, parts []int, budget *int, st *RoundStats) {
	for chunk := range slices.Chunk(parts, r.cfg.AEBatch) {
		mine := make([]uint64, len(chunk))
		for i, p := range chunk {
			mine[i] = r.cfg.Engine.Root(p)
		}
		cctx, cancel := context.WithTimeout(ctx, r.cfg.Timeout)
		theirs, err := r.cfg.Transport.Roots(cctx, peer, chunk, mine)
		cancel()
		if err != nil || len(theirs) != len(chunk) {
			st.Failed++
			r.log.Debug("anti-entropy: comparing roots failed", "peer", peer, "err", err)
			return
		}
		st.Compared += len(chunk)
		for i, p := range chunk {
			if theirs[i] == mine[i] {
				r.markInSync(p, peer)
				r.markFilled(p)
				continue
			}
			st.Differing++
			r.markOutOfSync(p, peer)
			if *budget == 0 {
				st.Deferred++
				continue
			}
			n, err := r.repair(ctx, peer, p, false)
			st.Repaired += n
			if *budget > 0 {
				*budget = max(0, *budget-n)
			}
			if err != nil {
				st.Failed++
				r.log.Debug("anti-entropy: repair failed", "peer", peer, "partition", p, "err", err)
				continue
			}
			r.markInSync(p, peer)
			r.markFilled(p)
		}
	}
}

// handoff pushes partition p, which we hold but do not own, to each of
// its owners, and drops our copy once every owner took it.
func (r *Replicator) handoff(ctx context.Context, t *placement.Table, p int, budget *int, st *RoundStats) bool {
	owners := t.Owners(p)
	if len(owners) == 0 || *budget == 0 {
		return false
	}
	for _, o := range owners {
		n, err := r.repair(ctx, o, p, true)
		st.Repaired += n
		if *budget > 0 {
			*budget = max(0, *budget-n)
		}
		if err != nil {
			st.Failed++
			r.log.Debug("handoff failed", "peer", o, "partition", p, "err", err)
			return false
		}
	}
	r.cfg.Engine.DropPartition(p)
	return true
}

// repair makes peer's and our copies of partition p equal: it compares
// bucket digests, lists the records of differing buckets on both sides,
// and pushes ours where the peer misses or holds older ones; unless
// pushOnly, it also pulls theirs where we do. Equal Versions with
// different bytes go both ways: Merge settles them the same everywhere.
// It returns how many records moved.
func (r *Replicator) repair(ctx context.Context, peer string, p int, pushOnly bool) (int, error) {
	ctx, cancel := context.WithTimeout(ctx, 4*r.cfg.Timeout)
	defer cancel()
	theirB, err := r.cfg.Transport.Buckets(ctx, peer, p)
	if err != nil {
		return 0, err
	}
	mineB := r.cfg.Engine.Buckets(p)
	var diff []int
	for i := range mineB {
		if i >= len(theirB) || mineB[i] != theirB[i] {
			diff = append(diff, i)
		}
	}
	if len(diff) == 0 {
		return 0, nil
	}
	theirK, err := r.cfg.Transport.Keys(ctx, peer, p, diff)
	if err != nil {
		return 0, err
	}
	mineK := r.cfg.Engine.BucketKeys(p, diff)
	theirs := make(map[string]engine.KeyHash, len(theirK))
	for _, k := range theirK {
		theirs[k.Key] = k
	}
	var push, pull [][]byte
	for _, m := range mineK {
		th, ok := theirs[m.Key]
		delete(theirs, m.Key)
		// A value a client wrote beats a loaded one whatever their Versions
		// (engine.Merge): ours, when written, goes to the peer even when
		// its Version is lower; when not, theirs comes here even when its
		// Version is lower, since it may be a written one.
		switch {
		case !ok:
			push = append(push, []byte(m.Key))
		case th.Hash == m.Hash:
		case m.Version > th.Version:
			push = append(push, []byte(m.Key))
			if !m.Written {
				pull = append(pull, []byte(m.Key))
			}
		case m.Version < th.Version:
			pull = append(pull, []byte(m.Key))
			if m.Written {
				push = append(push, []byte(m.Key))
			}
		default:
			push = append(push, []byte(m.Key))
			pull = append(pull, []byte(m.Key))
		}
	}
	for k := range theirs {
		pull = append(pull, []byte(k))
	}
	if pushOnly {
		pull = nil
	}
	// Both lists come out of maps in random order. Sort them, so that
	// records merge (and move the receiver's HLC) in the same order on
	// every run: a Serial simulation must replay exactly.
	slices.SortFunc(push, bytes.Compare)
	slices.SortFunc(pull, bytes.Compare)
	moved := 0
	now := r.clock.Now().UnixMilli()
	for chunk := range slices.Chunk(push, applyChunk) {
		entries := lookupEntries(r.cfg.Engine, chunk, now)
		if err := r.cfg.Transport.Apply(ctx, peer, entries); err != nil {
			return moved, err
		}
		moved += len(entries)
	}
	for chunk := range slices.Chunk(pull, applyChunk) {
		entries, err := r.cfg.Transport.Fetch(ctx, peer, chunk)
		if err != nil {
			return moved, err
		}
		r.local.Apply(entries)
		moved += len(entries)
	}
	return moved, nil
}

// Status is this node's view of its partitions' replication.
type Status struct {
	// Owned counts the partitions this node owns, Primary those it is
	// primary of.
	Owned, Primary int
	// Underreplicated counts the partitions this node is primary of that
	// have fewer than Replicas owners or a co-owner not known to be in
	// sync (pending hints, a failed replication, not compared yet), plus
	// those it is a replica of and is still being filled: its primary may
	// not know yet that this copy came back empty. Summed over the store
	// nodes, 0 means every partition has its full set of in-sync copies.
	Underreplicated int
	// EffectiveRFMin is the fewest in-sync copies of any partition this
	// node is primary of (0 when it is primary of none).
	EffectiveRFMin int
	// Unfilled counts owned partitions still being filled from co-owners.
	Unfilled int
	// Handoff counts partitions held here but owned elsewhere.
	Handoff int
	// Hints counts keys queued for unreachable peers.
	Hints int
}

// Status returns the node's replication status.
func (r *Replicator) Status() Status {
	t := r.current()
	var s Status
	handoff := 0
	for p := range r.filled {
		if (t == nil || !t.Owns(r.cfg.Self, p)) && r.cfg.Engine.PartitionRecordCount(p) > 0 {
			handoff++
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	s.Handoff = handoff
	for _, q := range r.hints {
		s.Hints += len(q.keys)
	}
	if t == nil {
		return s
	}
	s.EffectiveRFMin = -1
	for p := range r.filled {
		if !t.Owns(r.cfg.Self, p) {
			continue
		}
		s.Owned++
		filled := r.filled[p].Load()
		if !filled {
			s.Unfilled++
		}
		if t.Primary(p) != r.cfg.Self {
			if !filled {
				s.Underreplicated++
			}
			continue
		}
		s.Primary++
		copies := 1 + len(r.inSync[p])
		if copies < r.cfg.Replicas || copies < len(t.Owners(p)) {
			s.Underreplicated++
		}
		if s.EffectiveRFMin < 0 || copies < s.EffectiveRFMin {
			s.EffectiveRFMin = copies
		}
	}
	s.EffectiveRFMin = max(s.EffectiveRFMin, 0)
	return s
}

// Run runs anti-entropy rounds every AEInterval plus jitter and delivers
// hints every tenth of it, until ctx is done.
func (r *Replicator) Run(ctx context.Context) error {
	hintEvery := max(r.cfg.AEInterval/10, 10*time.Millisecond)
	hints := time.NewTicker(hintEvery)
	defer hints.Stop()
	round := time.NewTimer(r.nextRound())
	defer round.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-hints.C:
			r.FlushHints(ctx)
		case <-round.C:
			r.Round(ctx)
			round.Reset(r.nextRound())
		}
	}
}

// nextRound returns the wait before the next round: AEInterval plus up to
// a fifth of it, so that nodes do not compare in lockstep.
func (r *Replicator) nextRound() time.Duration {
	return r.cfg.AEInterval + time.Duration(r.rand()*float64(r.cfg.AEInterval)/5)
}
