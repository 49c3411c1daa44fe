// Package engine is the store tier's in-memory storage engine: a string
// key-value map split into P partitions (xxhash64(key) % P), each guarded by
// its own sync.RWMutex.
//
// Every stored record carries a hybrid-logical-clock Version and an absolute
// expiry deadline (ExpireAt, unix ms), and both travel unchanged to replicas,
// so replicas agree on what a key holds and when it dies without exchanging
// expiry messages. Deletes leave tombstones; a record whose deadline has
// passed turns into a tombstone of the same Version (its value is released at
// once). Tombstones hide the key from readers and outrank older writes, so a
// late replicated write can never resurrect deleted or expired data; they are
// collected TombstoneTTL after the key died.
//
// Replication applies remote records with Merge (last writer wins by
// Version); anti-entropy walks a partition with PartitionRecords. Commands
// are built on Update, an atomic read-modify-write of one key.
//
// Time is passed in as nowMs (unix milliseconds) by callers that read their
// clock once per command; background work reads Config.Clock. Active expiry
// keeps a per-partition min-heap of deadlines (TTL deadlines and tombstone
// collection times), so each ExpireTick looks only at records that are due,
// and at most Config.ExpiryBudget of them.
//
// With Config.MaxMemory set, Reclaim evicts keys by Config.Policy (Redis's
// maxmemory policies, approximated by sampling as Redis does) until the
// accounted bytes (UsedBytes: key + value + a fixed per-record overhead,
// not the Go heap) are under the limit. Reads stamp each record's access
// time atomically under the read lock. An eviction leaves a tombstone with
// a fresh Version that replicates like a delete, so replicas drop the key
// too and anti-entropy does not bring it back; it is collected after
// Config.EvictedTombstoneTTL rather than TombstoneTTL.
package engine
