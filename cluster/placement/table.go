package placement

import (
	"errors"
	"fmt"
	"slices"
)

// ErrInvalidTable is wrapped by every error New returns.
var ErrInvalidTable = errors.New("placement: invalid table")

// Table is an immutable placement snapshot: the partition count, the
// effective replication factor, the sorted active node IDs, and the owners of
// every partition, computed once by New. A Table is safe for concurrent use.
type Table struct {
	partitions int
	rf         int      // effective owners per partition: min(requested RF, len(nodes))
	nodes      []string // active node IDs, ascending
	owners     []string // owners of partition p at [p*rf, (p+1)*rf), primary first
}

// New returns the Table for partitions partitions, rf owners per partition,
// and the active store nodes named by nodes (in any order; New keeps its own
// sorted copy). A partition's owners are the min(rf, len(nodes)) nodes with
// the highest Score for it, in descending score, ties broken by ascending
// node ID. Zero nodes are allowed: every partition then has no owners.
//
// New reports every problem at once, each wrapping ErrInvalidTable:
// partitions not in [1, MaxPartitions], rf below 1, and empty or duplicate
// node IDs.
func New(partitions, rf int, nodes []string) (*Table, error) {
	sorted := slices.Clone(nodes)
	slices.Sort(sorted)
	if err := validate(partitions, rf, sorted); err != nil {
		return nil, err
	}
	k := min(rf, len(sorted))
	t := &Table{
		partitions: partitions,
		rf:         k,
		nodes:      sorted,
		owners:     make([]string, partitions*k),
	}
	if k == 0 {
		return t, nil
	}
	hashes := make([]uint64, len(sorted))
	for i, id := range sorted {
		hashes[i] = nodeHash(id)
	}
	scores := make([]uint64, len(sorted))
	top := make([]int, k)
	topScores := make([]uint64, k)
	for p := range partitions {
		salt := partitionSalt(p)
		for i, h := range hashes {
			scores[i] = score(h, salt)
		}
		topK(scores, top, topScores)
		out := t.owners[p*k : (p+1)*k]
		for j, i := range top {
			out[j] = sorted[i]
		}
	}
	return t, nil
}

func validate(partitions, rf int, sorted []string) error {
	var errs []error
	bad := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("%w: "+format, append([]any{ErrInvalidTable}, args...)...))
	}
	if partitions < 1 || partitions > MaxPartitions {
		bad("partitions %d not in [1, %d]", partitions, MaxPartitions)
	}
	if rf < 1 {
		bad("rf %d must be at least 1", rf)
	}
	for i, id := range sorted {
		switch {
		case id == "":
			if i == 0 {
				bad("empty node ID")
			}
		case i > 0 && id == sorted[i-1] && (i == 1 || id != sorted[i-2]):
			bad("duplicate node ID %q", id)
		}
	}
	return errors.Join(errs...)
}

// topK fills top with the indices of the len(top) highest scores, highest
// first; equal scores rank the lower index first. topScores is scratch space
// of len(top). len(scores) must be at least len(top).
func topK(scores []uint64, top []int, topScores []uint64) {
	k, n := len(top), 0
	for i, s := range scores {
		if n == k && s <= topScores[k-1] {
			continue // a tie loses to the earlier, lower index
		}
		j := min(n, k-1)
		for j > 0 && topScores[j-1] < s {
			top[j], topScores[j] = top[j-1], topScores[j-1]
			j--
		}
		top[j], topScores[j] = i, s
		if n < k {
			n++
		}
	}
}

// Partitions returns the number of partitions P.
func (t *Table) Partitions() int { return t.partitions }

// RF returns the effective number of owners per partition:
// min(requested RF, number of nodes).
func (t *Table) RF() int { return t.rf }

// Nodes returns the active node IDs in ascending order, as a new slice the
// caller owns.
func (t *Table) Nodes() []string { return slices.Clone(t.nodes) }

// Partition returns the partition of key: Partition(key, t.Partitions()).
func (t *Table) Partition(key []byte) int {
	return Partition(key, t.partitions)
}

// Owners returns the owners of partition, primary first, in descending Score
// (ties by ascending node ID). It does not allocate: the slice is shared
// with the Table and must not be modified. It is empty when the Table has no
// nodes, and Owners panics if partition is not in [0, Partitions()).
func (t *Table) Owners(partition int) []string {
	t.check(partition)
	lo, hi := partition*t.rf, (partition+1)*t.rf
	return t.owners[lo:hi:hi]
}

// OwnersOf returns the owners of key's partition, as Owners does.
func (t *Table) OwnersOf(key []byte) []string {
	return t.Owners(t.Partition(key))
}

// Primary returns the first owner of partition, or "" when the Table has no
// nodes. It panics if partition is not in [0, Partitions()).
func (t *Table) Primary(partition int) string {
	if o := t.Owners(partition); len(o) > 0 {
		return o[0]
	}
	return ""
}

// Owns reports whether node is among the owners of partition. It panics if
// partition is not in [0, Partitions()).
func (t *Table) Owns(node string, partition int) bool {
	return slices.Contains(t.Owners(partition), node)
}

// PartitionsOf returns, in ascending order and as a new slice the caller
// owns, the partitions node owns as primary or replica; nil if none.
func (t *Table) PartitionsOf(node string) []int {
	if _, ok := slices.BinarySearch(t.nodes, node); !ok {
		return nil
	}
	ps := make([]int, 0, t.partitions*t.rf/len(t.nodes)+1)
	for p := range t.partitions {
		if t.Owns(node, p) {
			ps = append(ps, p)
		}
	}
	if len(ps) == 0 {
		return nil
	}
	return ps
}

func (t *Table) check(partition int) {
	if uint(partition) >= uint(t.partitions) {
		panic(fmt.Sprintf("placement: partition %d not in [0, %d)", partition, t.partitions))
	}
}
