package placement

import (
	"errors"
	"slices"
	"testing"
)

// Movement is measured in owner slots: a slot is one (partition, owner)
// pair, rank ignored, and a slot moves when a partition's owner set gains a
// node; the node it gains must copy the partition's data. A node's fair
// share is RF·P/n slots, so a join of node X to n nodes must move at least
// X's share, ideally RF·P/(n+1) slots, and a leave from n nodes must move
// at least the leaving node's slots, ideally RF·P/n. Pure HRW moves exactly
// the slots of the node that joins or leaves, which is about the ideal, but
// leaves the balance binomial.
//
// New's fit moves more: on a join X takes slots from every old node in
// proportion to its load, but the number it takes from each is random (a
// standard deviation of sqrt(RF·P/(n·(n+1))), 4.4 slots at n=20, RF=2),
// so an old node may leave the band and be refitted, and each refitted
// partition moves between two old nodes. X's own share is within the band,
// at most 3% above the ideal. Over n = 3..20 and 100 random node sets
// besides the ones below (1800 joins, 5400 leaves; see TestSweep), the
// worst join moved 1.118 times the ideal and the worst leave 1.118 (99th
// percentiles 1.097 and 1.089); slots moved between old nodes peaked at
// 0.101 of the ideal on a join, and partitions changed without the leaving
// node at 0.103 on a leave. The bounds below are the required 1.15 for
// every slot moved and 0.12 of the ideal for the slots that change between
// nodes that stay: tight enough that a refit moving noticeably more fails
// (a full Newton step instead of a quarter does), with room for node sets
// other than these.
const (
	maxMovedRatio = 1.15 // slots moved / ideal, join or leave
	maxStrayRatio = 0.12 // slots moved between nodes that stay / ideal
	// maxPrimaryRatio bounds the partitions whose primary changes, over the
	// ideal P/(n+1) on a join and P/n on a leave: the primary fit is redone
	// too, and some partitions whose owners stay swap primary and replica.
	// The worst measured over the same runs is 1.27.
	maxPrimaryRatio = 1.30
)

// slotDiff compares the owner sets of from and to: moved is the number of
// slots gained, stray the slots gained by a node other than node, and
// changed the number of partitions node owns in neither table whose owner
// set differs, and primaries the partitions whose primary differs.
func slotDiff(from, to *Table, node string) (moved, stray, changed, primaries int) {
	for p := range from.Partitions() {
		a, b := from.Owners(p), to.Owners(p)
		gained := 0
		for _, o := range b {
			if !slices.Contains(a, o) {
				gained++
				if o != node {
					stray++
				}
			}
		}
		moved += gained
		if gained > 0 && !slices.Contains(a, node) && !slices.Contains(b, node) {
			changed++
		}
		if from.Primary(p) != to.Primary(p) {
			primaries++
		}
	}
	return moved, stray, changed, primaries
}

// TestMovesJoin adds node n to nodes 0..n-1 of every node set, n = 3..20,
// RF=2. The slots that move must be about X's share (at most
// maxMovedRatio of RF·P/(n+1)), and the slots that move from one old node
// to another at most maxStrayRatio of it. Every slot X gains must be one it
// owns in the new table, and X must hold its full share.
func TestMovesJoin(t *testing.T) {
	const rf, partitions = DefaultRF, DefaultPartitions
	for _, s := range nodeSets() {
		worst, worstStray, worstPrimary := 0.0, 0.0, 0.0
		for n := 3; n <= 20; n++ {
			nodes := idsOf(s, n+1)
			from := mustNew(t, partitions, rf, nodes[:n])
			to := mustNew(t, partitions, rf, nodes)
			x := nodes[n]
			moved, stray, _, primaries := slotDiff(from, to, x)
			ideal := float64(rf*partitions) / float64(n+1)
			r, rs := float64(moved)/ideal, float64(stray)/ideal
			rp := float64(primaries) / (float64(partitions) / float64(n+1))
			if r > maxMovedRatio || rs > maxStrayRatio || rp > maxPrimaryRatio {
				t.Errorf("%s n=%d→%d: %d slots moved (%.3f of ideal %.0f), %d between old nodes (%.3f), primaries changed %.3f of ideal",
					s.name, n, n+1, moved, r, ideal, stray, rs, rp)
			}
			if got := len(to.PartitionsOf(x)); got != moved-stray {
				t.Errorf("%s n=%d: new node gained %d slots but owns %d partitions", s.name, n, moved-stray, got)
			}
			worst, worstStray, worstPrimary = max(worst, r), max(worstStray, rs), max(worstPrimary, rp)
		}
		t.Logf("%-8s joins n=3..20: worst moved %.3f of ideal, between old nodes %.3f, primaries changed %.3f", s.name, worst, worstStray, worstPrimary)
	}
}

// TestMovesLeave removes, from nodes 0..n-1 of every node set, the first,
// a middle and the last node in ID order, n = 3..20, RF=2. Every slot of
// the removed node must move, and the slots moved must be at most
// maxMovedRatio of RF·P/n. Partitions the removed node did not own keep
// their owners but for at most maxStrayRatio of RF·P/n of them: the
// refit's share.
func TestMovesLeave(t *testing.T) {
	const rf, partitions = DefaultRF, DefaultPartitions
	for _, s := range nodeSets() {
		worst, worstChanged, worstPrimary := 0.0, 0.0, 0.0
		for n := 3; n <= 20; n++ {
			from := mustNew(t, partitions, rf, idsOf(s, n))
			sorted := from.Nodes()
			for _, i := range []int{0, n / 2, n - 1} {
				gone := sorted[i]
				to := mustNew(t, partitions, rf, slices.Delete(slices.Clone(sorted), i, i+1))
				moved, _, changed, primaries := slotDiff(from, to, gone)
				ideal := float64(rf*partitions) / float64(n)
				r, rc := float64(moved)/ideal, float64(changed)/ideal
				rp := float64(primaries) / (float64(partitions) / float64(n))
				if r > maxMovedRatio || rc > maxStrayRatio || rp > maxPrimaryRatio {
					t.Errorf("%s n=%d remove %s: %d slots moved (%.3f of ideal %.0f), %d partitions changed without it (%.3f), primaries changed %.3f of ideal",
						s.name, n, gone, moved, r, ideal, changed, rc, rp)
				}
				if got, want := moved, len(from.PartitionsOf(gone))+changed; got < want {
					t.Errorf("%s n=%d remove %s: %d slots moved, fewer than its %d slots plus %d changed partitions", s.name, n, gone, got, len(from.PartitionsOf(gone)), changed)
				}
				worst, worstChanged, worstPrimary = max(worst, r), max(worstChanged, rc), max(worstPrimary, rp)
			}
		}
		t.Logf("%-8s leaves n=3..20: worst moved %.3f of ideal, partitions changed without the node %.3f, primaries changed %.3f", s.name, worst, worstChanged, worstPrimary)
	}
}

func mustMoves(t *testing.T, from, to *Table) []Move {
	t.Helper()
	moves, err := Moves(from, to)
	if err != nil {
		t.Fatalf("Moves: %v", err)
	}
	return moves
}

// TestMovesMatchesOwners checks Moves against the owner sets on a join:
// it lists exactly the partitions whose set changed, each with the owners
// gained in the new table's order and the owners lost in the old one's.
func TestMovesMatchesOwners(t *testing.T) {
	from := mustNew(t, DefaultPartitions, DefaultRF, ids(5))
	to := mustNew(t, DefaultPartitions, DefaultRF, ids(6))
	moves := mustMoves(t, from, to)
	moved, _, _, _ := slotDiff(from, to, "5")
	total := 0
	next := 0
	for p := range DefaultPartitions {
		a, b := from.Owners(p), to.Owners(p)
		same := len(a) == len(b) && !slices.ContainsFunc(b, func(o string) bool { return !slices.Contains(a, o) })
		if same {
			if next < len(moves) && moves[next].Partition == p {
				t.Fatalf("partition %d: owners %v → %v unchanged but listed as %+v", p, a, b, moves[next])
			}
			continue
		}
		if next >= len(moves) || moves[next].Partition != p {
			t.Fatalf("partition %d: owners %v → %v but not in Moves", p, a, b)
		}
		m := moves[next]
		next++
		if !slices.Equal(m.Added, slices.DeleteFunc(slices.Clone(b), func(o string) bool { return slices.Contains(a, o) })) ||
			!slices.Equal(m.Removed, slices.DeleteFunc(slices.Clone(a), func(o string) bool { return slices.Contains(b, o) })) {
			t.Fatalf("partition %d: owners %v → %v but move %+v", p, a, b, m)
		}
		total += len(m.Added)
	}
	if next != len(moves) || total != moved {
		t.Fatalf("Moves lists %d partitions, %d slots; owners show %d partitions, %d slots", len(moves), total, next, moved)
	}
}

func TestMoves(t *testing.T) {
	one := mustNew(t, 1, 1, ids(3)).Owners(0)[0] // the owner of the only partition
	all := mustNew(t, 1, 3, ids(3)).Owners(0)
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
			{Partition: 0, Added: slices.DeleteFunc(slices.Clone(all), func(o string) bool { return o == one })},
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
	if n := len(mustMoves(t, mustNew(t, 1, 1, ids(3)), mustNew(t, 1, 3, ids(3)))[0].Added); n != 2 {
		t.Errorf("rf 1 → 3 on 3 nodes adds %d owners, want 2", n)
	}
}

func TestMovesPartitionsDiffer(t *testing.T) {
	moves, err := Moves(mustNew(t, 4, 2, ids(3)), mustNew(t, 8, 2, ids(3)))
	if moves != nil || !errors.Is(err, ErrPartitionsDiffer) {
		t.Fatalf("Moves = %v, %v; want nil, ErrPartitionsDiffer", moves, err)
	}
}
