package placement

import (
	"flag"
	"fmt"
	"slices"
	"testing"
)

var (
	sweepSets = flag.Int("placement.sweep", 0, "TestSweep: number of random node-ID sets (0 skips it)")
	sweepRF   = flag.Int("placement.rf", DefaultRF, "TestSweep: replication factor")
)

// TestSweep measures balance and movement over many random node-ID sets,
// n = 3..20 at P=4096: a join of one node and leaves of the first, a middle
// and the last node. It produced the figures in the package documentation:
//
//	go test -run TestSweep -placement.sweep 100 -v ./cluster/placement/
//
// At RF=2 it holds every set to the bounds of TestBalance, TestMovesJoin
// and TestMovesLeave; at other RFs it only reports.
func TestSweep(t *testing.T) {
	if *sweepSets == 0 {
		t.Skip("run with -placement.sweep N")
	}
	const partitions = DefaultPartitions
	rf := *sweepRF
	var joins, strays, joinPrimaries, leaves, changes, leavePrimaries []float64
	worstOwned, worstPrimary := 0.0, 0.0
	for seed := range uint64(*sweepSets) {
		s := nodeSet{fmt.Sprintf("sweep-%d", seed), func(i int) string {
			h := mix64((seed+100)<<32 | uint64(i))
			return fmt.Sprintf("%08x-%04x-%04x", h>>32, h>>16&0xffff, h&0xffff)
		}}
		for n := 3; n <= 20; n++ {
			nodes := idsOf(s, n+1)
			from := mustNew(t, partitions, rf, nodes[:n])
			owned, primaries := loads(from)
			worstOwned = max(worstOwned, checkBand(t, s.name, rf, nodes[:n], "owned partitions", owned, rf*partitions))
			worstPrimary = max(worstPrimary, checkBand(t, s.name, rf, nodes[:n], "primaries", primaries, partitions))

			moved, stray, _, prim := slotDiff(from, mustNew(t, partitions, rf, nodes), nodes[n])
			ideal := float64(rf*partitions) / float64(n+1)
			joins = append(joins, float64(moved)/ideal)
			strays = append(strays, float64(stray)/ideal)
			joinPrimaries = append(joinPrimaries, float64(prim)*float64(n+1)/partitions)

			sorted := from.Nodes()
			for _, i := range []int{0, n / 2, n - 1} {
				to := mustNew(t, partitions, rf, slices.Delete(slices.Clone(sorted), i, i+1))
				moved, _, changed, prim := slotDiff(from, to, sorted[i])
				ideal := float64(rf*partitions) / float64(n)
				leaves = append(leaves, float64(moved)/ideal)
				changes = append(changes, float64(changed)/ideal)
				leavePrimaries = append(leavePrimaries, float64(prim)*float64(n)/partitions)
			}
		}
	}
	t.Logf("rf=%d, %d node sets, n=3..20: worst max/min owned %.3f, primaries %.3f", rf, *sweepSets, worstOwned, worstPrimary)
	report := func(what string, xs []float64, bound float64) {
		slices.Sort(xs)
		at := func(q float64) float64 { return xs[int(q*float64(len(xs)-1))] }
		t.Logf("%-38s median %.3f  p90 %.3f  p99 %.3f  max %.3f (%d cases)", what, at(.5), at(.9), at(.99), xs[len(xs)-1], len(xs))
		if rf == DefaultRF && xs[len(xs)-1] > bound {
			t.Errorf("%s: worst %.3f exceeds %.3f", what, xs[len(xs)-1], bound)
		}
	}
	report("join: slots moved / ideal", joins, maxMovedRatio)
	report("join: slots between old nodes", strays, maxStrayRatio)
	report("join: primaries changed / ideal", joinPrimaries, maxPrimaryRatio)
	report("leave: slots moved / ideal", leaves, maxMovedRatio)
	report("leave: partitions changed without it", changes, maxStrayRatio)
	report("leave: primaries changed / ideal", leavePrimaries, maxPrimaryRatio)
}
