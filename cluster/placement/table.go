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

	// ownerOff and primaryOff are the fitted offsets, indexed like nodes:
	// the rule's only state besides the node IDs, kept for tests.
	ownerOff, primaryOff []int64
}

// New returns the Table for partitions partitions, rf owners per partition,
// and the active store nodes named by nodes (in any order; New keeps its own
// sorted copy). Zero nodes are allowed: every partition then has no owners.
// With rf at or above the node count every node owns every partition.
//
// Owners are chosen by balanced rendezvous hashing (see the package
// documentation): a partition's owners are the min(rf, len(nodes)) nodes
// with the highest key, Score(node, partition)>>32 plus a per-node offset
// that New fits so that every node owns within 3% of its share of the
// partitions (rounded outward to whole partitions, as far as a table with
// only a few partitions per node allows); the primary is the owner with the highest key plus a second
// per-node offset, fitted the same way for primaries; the other owners
// follow in descending key. Equal keys rank the lower node ID first. The
// result depends only on partitions, rf and the set of node IDs, so every
// process computes the same Table.
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
	n := len(sorted)
	k := min(rf, n)
	t := &Table{
		partitions: partitions,
		rf:         k,
		nodes:      sorted,
		owners:     make([]string, partitions*k),
	}
	if k == 0 {
		return t, nil
	}
	hashes := make([]uint64, n)
	for i, id := range sorted {
		hashes[i] = nodeHash(id)
	}
	b := newBalancer(partitions, k, hashes)
	if k < n {
		b.luckOffsets()
		fit(partitions, k*partitions, b.off, b.load, b.assignOwners)
	} else {
		b.assignOwners() // every node owns every partition
	}
	primary := make([]int32, partitions)
	poff := make([]int64, n)
	if k > 1 {
		pload := make([]int, n)
		fit(partitions, partitions, poff, pload, func() { b.assignPrimaries(poff, primary, pload) })
	}
	t.ownerOff, t.primaryOff = b.off, poff
	for p := range partitions {
		own, out := b.owners[p*k:(p+1)*k], t.owners[p*k:(p+1)*k]
		first := primary[p]
		out[0] = sorted[own[first]]
		r := 1
		for j, i := range own {
			if int32(j) != first {
				out[r] = sorted[i]
				r++
			}
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

// Owners returns the owners of partition: the primary first, then the
// other owners in descending key (see New). It does not allocate: the slice is shared
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
