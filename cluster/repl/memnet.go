package repl

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"corral/cluster/engine"
	"corral/internal/clock"
)

// ErrUnreachable is returned by MemNet for a peer that is down or cut off.
var ErrUnreachable = errors.New("repl: peer unreachable")

// MemNet is an in-process network of nodes for tests and simulations: a
// Transport per node that calls the peer's Local directly, with faults: a
// node can be down, two nodes can be cut off from each other, and Drop, if
// set, decides per call whether it is lost. It counts the records every
// call carried, so tests can check that repair traffic follows the
// difference, not the data.
type MemNet struct {
	clock clock.Clock

	mu    sync.Mutex
	nodes map[string]Local
	down  map[string]bool
	cut   map[[2]string]bool
	// Drop, if set, is asked before every call (under MemNet's lock) and
	// loses the call when it returns true.
	Drop func(from, to, op string) bool

	// Records counts the records carried by Apply and Fetch, Keys the
	// key hashes carried by Keys, Calls every call attempted.
	Records, Keys, Calls int
}

// NewMemNet returns an empty network whose nodes read the time from c.
func NewMemNet(c clock.Clock) *MemNet {
	return &MemNet{clock: clock.Or(c), nodes: map[string]Local{}, down: map[string]bool{}, cut: map[[2]string]bool{}}
}

// Add attaches node id, answering with l.
func (n *MemNet) Add(id string, l Local) {
	n.mu.Lock()
	n.nodes[id] = l
	delete(n.down, id)
	n.mu.Unlock()
}

// SetDown takes node id down (every call to or from it fails) or back up.
func (n *MemNet) SetDown(id string, down bool) {
	n.mu.Lock()
	n.down[id] = down
	n.mu.Unlock()
}

// Cut severs (or, with cut false, heals) the link between a and b.
func (n *MemNet) Cut(a, b string, cut bool) {
	n.mu.Lock()
	n.cut[[2]string{a, b}] = cut
	n.cut[[2]string{b, a}] = cut
	n.mu.Unlock()
}

// Reset zeroes the counters.
func (n *MemNet) Reset() {
	n.mu.Lock()
	n.Records, n.Keys, n.Calls = 0, 0, 0
	n.mu.Unlock()
}

// Transport returns node from's view of the network.
func (n *MemNet) Transport(from string) Transport { return memTransport{n: n, from: from} }

// reach returns to's Local if from can reach it now.
func (n *MemNet) reach(from, to, op string) (Local, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.Calls++
	l, ok := n.nodes[to]
	switch {
	case !ok, n.down[to], n.down[from], n.cut[[2]string{from, to}]:
		return Local{}, fmt.Errorf("%s %s→%s: %w", op, from, to, ErrUnreachable)
	case n.Drop != nil && n.Drop(from, to, op):
		return Local{}, fmt.Errorf("%s %s→%s dropped: %w", op, from, to, ErrUnreachable)
	}
	return l, nil
}

func (n *MemNet) count(records, keys int) {
	n.mu.Lock()
	n.Records += records
	n.Keys += keys
	n.mu.Unlock()
}

type memTransport struct {
	n    *MemNet
	from string
}

// copyEntries gives the receiver its own records, as a network would.
func copyEntries(in []Entry) []Entry {
	out := make([]Entry, len(in))
	for i, e := range in {
		out[i] = Entry{Key: append([]byte(nil), e.Key...), Rec: e.Rec}
		if e.Rec.Value != nil {
			out[i].Rec.Value = append([]byte(nil), e.Rec.Value...)
		}
	}
	return out
}

func (t memTransport) Apply(ctx context.Context, to string, entries []Entry) error {
	l, err := t.n.reach(t.from, to, "apply")
	if err != nil {
		return err
	}
	t.n.count(len(entries), 0)
	l.Apply(copyEntries(entries))
	return ctx.Err()
}

func (t memTransport) Roots(ctx context.Context, to string, parts []int, roots []uint64) ([]uint64, error) {
	l, err := t.n.reach(t.from, to, "roots")
	if err != nil {
		return nil, err
	}
	return l.Roots(parts, roots), ctx.Err()
}

func (t memTransport) Buckets(ctx context.Context, to string, part int) ([]uint64, error) {
	l, err := t.n.reach(t.from, to, "buckets")
	if err != nil {
		return nil, err
	}
	return l.Buckets(part), ctx.Err()
}

func (t memTransport) Keys(ctx context.Context, to string, part int, buckets []int) ([]engine.KeyHash, error) {
	l, err := t.n.reach(t.from, to, "keys")
	if err != nil {
		return nil, err
	}
	ks := l.Keys(part, buckets)
	t.n.count(0, len(ks))
	return ks, ctx.Err()
}

func (t memTransport) Fetch(ctx context.Context, to string, keys [][]byte) ([]Entry, error) {
	l, err := t.n.reach(t.from, to, "fetch")
	if err != nil {
		return nil, err
	}
	es := copyEntries(l.Fetch(keys, t.n.clock.Now().UnixMilli()))
	t.n.count(len(es), 0)
	return es, ctx.Err()
}
