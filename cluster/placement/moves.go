package placement

import (
	"errors"
	"fmt"
	"slices"
)

// ErrPartitionsDiffer is returned by Moves for tables with different
// partition counts, whose partitions hold different keys.
var ErrPartitionsDiffer = errors.New("placement: tables have different partition counts")

// Move is the change of one partition's owners from one Table to another.
type Move struct {
	Partition int
	// Added are the new owners that were not owners before, in the new
	// Table's owner order; they must receive the partition's data.
	Added []string
	// Removed are the old owners that are owners no more, in the old Table's
	// owner order; they may drop the partition's data once the new owners
	// hold it.
	Removed []string
}

// Moves returns, in ascending partition order, the partitions whose set of
// owners differs between from and to, with the owners each gained and lost.
// Moves compares owner sets only: a partition whose owners are the same is
// left out even if its primary changed, as New's primary fit can swap the
// primary and a replica between two tables without moving data; compare
// Primary for that. Moves returns an error wrapping ErrPartitionsDiffer if
// the tables' partition counts differ. Both tables must be non-nil.
func Moves(from, to *Table) ([]Move, error) {
	if from.partitions != to.partitions {
		return nil, fmt.Errorf("%w: %d and %d", ErrPartitionsDiffer, from.partitions, to.partitions)
	}
	var moves []Move
	for p := range from.partitions {
		a, b := from.Owners(p), to.Owners(p)
		added, removed := diff(b, a), diff(a, b)
		if len(added) > 0 || len(removed) > 0 {
			moves = append(moves, Move{Partition: p, Added: added, Removed: removed})
		}
	}
	return moves, nil
}

// diff returns the elements of a not in b, in a's order, or nil if none.
func diff(a, b []string) []string {
	var out []string
	for _, s := range a {
		if !slices.Contains(b, s) {
			out = append(out, s)
		}
	}
	return out
}
