package placement

import "github.com/cespare/xxhash/v2"

// Defaults for the store tier: P partitions and RF owners per partition.
const (
	DefaultPartitions = 4096
	DefaultRF         = 2
)

// MaxPartitions is the largest partition count New accepts; it matches the
// storage engine's limit.
const MaxPartitions = 1 << 20

// Partition returns the partition of key among partitions:
// xxhash64(key) % partitions. It is the storage engine's mapping, and every
// process of a cluster must agree on it. partitions must be at least 1.
func Partition(key []byte, partitions int) int {
	return int(xxhash.Sum64(key) % uint64(partitions))
}

// Score returns the rendezvous weight of node for partition: a well-mixed
// 64-bit hash of the node ID and the partition number, the same in every
// process and on every architecture. Its top 32 bits are the node's raw key
// for the partition, from which New ranks the owners after adding the
// node's fitted offset.
func Score(node string, partition int) uint64 {
	return score(nodeHash(node), partitionSalt(partition))
}

// nodeHash hashes a node ID once, for score to combine with every
// partition's salt.
func nodeHash(node string) uint64 { return xxhash.Sum64String(node) }

// score combines a node ID's hash with a partition's salt. The two are
// XORed and put through the splitmix64 finalizer, a bijection with full
// avalanche, so the ranking of any two nodes is independent from one
// partition to the next.
func score(nodeHash, salt uint64) uint64 {
	return mix64(nodeHash ^ salt)
}

// partitionSalt spreads partition numbers over all 64 bits, so that nearby
// partitions share no bit pattern for the node hash to correlate with.
func partitionSalt(partition int) uint64 {
	return mix64(uint64(partition) + 0x9e3779b97f4a7c15)
}

// mix64 is the splitmix64 finalizer (Stafford's Mix13).
func mix64(z uint64) uint64 {
	z = (z ^ z>>30) * 0xbf58476d1ce4e5b9
	z = (z ^ z>>27) * 0x94d049bb133111eb
	return z ^ z>>31
}
