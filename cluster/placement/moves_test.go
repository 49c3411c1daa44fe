package placement

import (
	"errors"
	"math"
	"slices"
	"testing"
)

// TestMovesAddNode adds node "n" to nodes "0".."n-1": every changed owner
// slot must go to the new node, each partition it joins must lose exactly
// one old owner and keep the others in order, and no other partition may
// change at all. About RF/(n+1) of the partitions move.
func TestMovesAddNode(t *testing.T) {
	for _, rf := range []int{1, 2, 3} {
		for n := 3; n <= 20; n++ {
			from := mustNew(t, DefaultPartitions, rf, ids(n))
			to := mustNew(t, DefaultPartitions, rf, ids(n+1))
			added := ids(n + 1)[n]
			moves := mustMoves(t, from, to)
			checkMoves(t, from, to, moves, added, "")
			if got, want := len(moves), len(to.PartitionsOf(added)); got != want {
				t.Errorf("rf=%d n=%d: %d moves, want one per partition of the new node (%d)", rf, n, got, want)
			}
			frac := checkMoved(t, rf, n+1, len(moves))
			t.Logf("rf=%d n=%2d→%2d  moved %4d partitions = %.4f of owner slots (1/(n+1) = %.4f)", rf, n, n+1, len(moves), frac, 1/float64(n+1))
		}
	}
}

// TestMovesRemoveNode removes a middle node from nodes "0".."n": only the
// slots it held may change, each to one new owner, and no other partition
// may change at all.
func TestMovesRemoveNode(t *testing.T) {
	for _, rf := range []int{1, 2, 3} {
		for n := 3; n <= 20; n++ {
			before := ids(n + 1)
			removed := before[n/2]
			from := mustNew(t, DefaultPartitions, rf, before)
			to := mustNew(t, DefaultPartitions, rf, slices.Delete(slices.Clone(before), n/2, n/2+1))
			moves := mustMoves(t, from, to)
			checkMoves(t, from, to, moves, "", removed)
			if got, want := len(moves), len(from.PartitionsOf(removed)); got != want {
				t.Errorf("rf=%d n=%d: %d moves, want one per partition of the removed node (%d)", rf, n, got, want)
			}
			checkMoved(t, rf, n+1, len(moves))
		}
	}
}

// checkMoves asserts that moves change only slots of the added node (or
// the removed one), one for one, and that every other owner keeps its place
// in the order.
func checkMoves(t *testing.T, from, to *Table, moves []Move, added, removed string) {
	t.Helper()
	moved := make(map[int]Move, len(moves))
	for _, m := range moves {
		moved[m.Partition] = m
	}
	for p := range from.Partitions() {
		a, b := from.Owners(p), to.Owners(p)
		m, ok := moved[p]
		if !ok {
			if !slices.Equal(a, b) {
				t.Fatalf("partition %d: owners %v → %v but not in Moves", p, a, b)
			}
			continue
		}
		if len(m.Added) != 1 || len(m.Removed) != 1 {
			t.Fatalf("partition %d: move %+v, want one owner in and one out", p, m)
		}
		if added != "" && (m.Added[0] != added || m.Removed[0] == added) {
			t.Fatalf("partition %d: move %+v does not hand a slot to the added node %s", p, m, added)
		}
		if removed != "" && (m.Removed[0] != removed || m.Added[0] == removed) {
			t.Fatalf("partition %d: move %+v does not take the slot of the removed node %s", p, m, removed)
		}
		keptA := slices.DeleteFunc(slices.Clone(a), func(s string) bool { return s == m.Removed[0] })
		keptB := slices.DeleteFunc(slices.Clone(b), func(s string) bool { return s == m.Added[0] })
		if !slices.Equal(keptA, keptB) {
			t.Fatalf("partition %d: owners %v → %v reorder the nodes that stay", p, a, b)
		}
	}
}

// checkMoved fails t unless moved partitions is within 5 standard
// deviations of Binomial(P, rf/n), the share of the node that joined or
// left a cluster of n, and returns the moved fraction of owner slots.
func checkMoved(t *testing.T, rf, n, moved int) float64 {
	t.Helper()
	q := float64(rf) / float64(n)
	mean := DefaultPartitions * q
	if z := (float64(moved) - mean) / math.Sqrt(mean*(1-q)); math.Abs(z) > 5 {
		t.Errorf("rf=%d n=%d: %d partitions moved, %.1f sigma from %.1f", rf, n, moved, z, mean)
	}
	return float64(moved) / float64(DefaultPartitions*rf)
}

func mustMoves(t *testing.T, from, to *Table) []Move {
	t.Helper()
	moves, err := Moves(from, to)
	if err != nil {
		t.Fatalf("Moves: %v", err)
	}
	return moves
}

func TestMoves(t *testing.T) {
	tests := []struct {
		name     string
		from, to *Table
		want     []Move
	}{
		{"identical", mustNew(t, 4, 2, ids(3)), mustNew(t, 4, 2, ids(3)), nil},
		{"from empty", mustNew(t, 2, 2, nil), mustNew(t, 2, 2, []string{"a"}), []Move{
			{Partition: 0, Added: []string{"a"}},
			{Partition: 1, Added: []string{"a"}},
		}},
		{"to empty", mustNew(t, 1, 2, []string{"a", "b"}), mustNew(t, 1, 2, nil), []Move{
			{Partition: 0, Removed: mustNew(t, 1, 2, []string{"a", "b"}).Owners(0)},
		}},
		{"rf raised", mustNew(t, 1, 1, ids(3)), mustNew(t, 1, 3, ids(3)), []Move{
			{Partition: 0, Added: mustNew(t, 1, 3, ids(3)).Owners(0)[1:]},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := mustMoves(t, tt.from, tt.to)
			if !slices.EqualFunc(got, tt.want, func(a, b Move) bool {
				return a.Partition == b.Partition && slices.Equal(a.Added, b.Added) && slices.Equal(a.Removed, b.Removed)
			}) {
				t.Errorf("Moves = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestMovesPartitionsDiffer(t *testing.T) {
	moves, err := Moves(mustNew(t, 4, 2, ids(3)), mustNew(t, 8, 2, ids(3)))
	if moves != nil || !errors.Is(err, ErrPartitionsDiffer) {
		t.Fatalf("Moves = %v, %v; want nil, ErrPartitionsDiffer", moves, err)
	}
}
