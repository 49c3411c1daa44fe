// Package placement maps keys to partitions and partitions to owners by
// balanced rendezvous hashing: a key lives in partition xxhash64(key) % P,
// and a partition's RF owners are chosen by rendezvous (highest random
// weight) hashing with per-node offsets that hold every node's share of the
// partitions, and of the primaries, within 3% of the mean. The first owner
// is the primary.
//
// A Table is an immutable snapshot of the owners of every partition for
// one set of active node IDs, computed by New; Moves lists what changes
// between two. The placement needs no coordination: it depends on P, RF
// and the set of node IDs only, through integer arithmetic on their
// hashes, so every process that knows the same nodes computes the same
// Table.
//
// # The rule
//
// A node's raw key for a partition is Score(node, partition)>>32, a uniform
// 32-bit number, and its key is the raw key plus the node's owner offset.
// A partition's owners are the RF nodes with the highest keys, equal keys
// ranking the lower node ID first. Its primary is the owner whose key plus
// the owner's primary offset is highest; the other owners follow in
// descending key. With all offsets zero this is plain HRW. With RF at or
// above the node count every node owns every partition and only the
// primary offsets matter.
//
// New fits the two offsets of each node in three steps:
//
//  1. Luck. A node's owner offset starts at -1.5 times its luck above the
//     mean luck of the nodes, in units of 2^32/P, the key distance that
//     gains or loses about one partition. Luck is the sum of x^16 over the
//     partitions where the raw key as a fraction, x, is at least 7/8: a
//     node that drew many very high keys wins more than its share against
//     any set of competitors. Luck depends on the node's own ID, so this
//     start keeps HRW's property that a node joining or leaving changes only
//     the slots it gains or holds, while it removes roughly half the
//     variance of the counts at 10 to 20 nodes before any fitting.
//  2. Owner fit. In rounds, every partition's owners are chosen, and each
//     node whose count of owned partitions lies outside
//     [floor(T·0.97), ceil(T·1.03)], T = RF·P/n, moves its owner offset a
//     quarter of a Newton step (2^32/P per partition) toward the middle of
//     the half of the band it left. Nodes inside the band keep their
//     offsets, which keeps the fit close to the HRW ranking and so the
//     placement close to that of a node set one node larger or smaller.
//     The rounds end when every node is inside: about 6 at 20 nodes, 16 at
//     100.
//  3. Primary fit. The same rounds for primaries, T = P/n, starting from
//     zero primary offsets and choosing among each partition's owners only,
//     so they never change an owner set.
//
// A fit that cannot reach its band, which happens only for tables with a
// handful of partitions per node, stops after 64 rounds with the best
// offsets it found; every result is a valid placement.
//
// # Balance and movement
//
// Measured at P=4096 and RF=2, for n = 3..20 nodes, over 100 random node-ID
// sets (go test -run TestSweep -placement.sweep 100 -v ./cluster/placement/)
// and over the tests' ordinal, pod-name, FQDN and random sets (go test
// -run 'TestBalance|TestMoves' -v ./cluster/placement/):
//
//   - Balance: max/min owned partitions per node at most 1.065, primaries
//     at most 1.069. Pure HRW's counts are binomial: max/min about 1.29 for
//     primaries at 10 nodes and 1.49 at 20.
//   - Join: a slot is one (partition, owner) pair, and the ideal for a join
//     is the new node's share, RF·P/(n+1) slots. The slots moved were at
//     most 1.118 times the ideal (median 1.020, 99th percentile 1.097), of
//     which those moved between old nodes at most 0.101 of the ideal: the
//     new node takes a random number of slots from each old node, which
//     leaves some outside the band, and refitting them moves partitions
//     between old nodes. Pure HRW moves about the ideal exactly and nothing
//     between old nodes.
//   - Leave: the slots moved were at most 1.118 times the leaving node's
//     share RF·P/n (median 1.016, p99 1.089); the partitions it did not own
//     whose owners changed at most 0.103 of that share.
//   - Primaries: the partitions whose primary changes were at most 1.27
//     times the ideal P/(n+1) or P/n, as the primary fit also swaps
//     primaries and replicas of partitions whose owners stay.
//   - Over 50 sets, RF=1 joins and leaves moved up to 1.24 times the ideal
//     (p99 1.20), RF=3 up to 1.08. Beyond 20 nodes the refit's moves stay
//     roughly constant in slots while the ideal shrinks: a join moves about
//     1.2 times the ideal at 30 nodes, 1.4 at 50 and 1.8 to 2.0 at 100,
//     with max/min within 1.08 (1.10 for primaries at 100 nodes).
//
// The band's width trades balance for movement. Over the same 100 sets,
// with the other settings as above, max/min and the worst join were, while
// tuning: ±1%, 1.03 and 1.15; ±2%, 1.05 and 1.14; ±3%, 1.07 and 1.12; ±4%,
// 1.09 and 1.12 (p99 1.08, but the band alone would allow primaries a
// max/min above 1.10 from about 30 nodes, where ±3% holds to about 70).
// Without the luck start, ±2.5% moved up to 1.16 times the ideal. A gain of
// 1/2 instead of 1/4 halves the rounds but raises the worst join to 1.13;
// 1/8 lowers it to 1.11 but doubles the rounds and does not converge within
// 64 rounds at 100 nodes. ±3% with a gain of 1/4 keeps a margin below both
// limits asked of placement up to 20 nodes: max/min 1.10, and 1.15 times
// the ideal movement.
//
// The fit makes New about three times slower than pure HRW: 1.9 ms instead
// of 0.66 ms for 4096 partitions and 20 nodes, 5.2 ms instead of 2.0 ms for
// 100, with 320 KiB allocated instead of 128 KiB (medians of 10 runs on a
// shared 2-core machine: go test -run '^$' -bench New -benchmem -count 10
// ./cluster/placement/). Lookups are unchanged.
package placement
