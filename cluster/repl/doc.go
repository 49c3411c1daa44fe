// Package repl keeps the replicas of the store tier's partitions equal: it
// replicates each write from the owner that applied it to the partition's
// other owners, queues a bounded set of hints for owners it could not
// reach, and runs anti-entropy, which compares partitions by their digests
// and exchanges only the records that differ. It also hands partitions a
// node no longer owns to their owners, and tracks which partitions are in
// sync, for the underreplicated gauge and for reads on a node that is still
// filling a partition.
//
// The logic talks to peers through a Transport and reads the placement
// through a function, so the same code runs over RESP between real nodes
// and over a simulated network in the seeded simulation. Nothing here reads
// the wall clock or a global random source: both are injected.
//
// Records merge by last writer wins (engine.Merge), which is commutative,
// associative and idempotent; so replication ships whole records, late or
// duplicated deliveries are harmless, and a hint only names a key: whatever
// the key holds when the hint is delivered is what the peer must have.
package repl
