package placement

import (
	"fmt"
	"slices"
	"testing"
)

// Golden values: they pin the key hash and the node score, so that every
// process and every release computes the same placement. A change here
// moves data between nodes and is a cluster-wide incompatibility.
//
// Partition must agree exactly with cluster/engine's Engine.Partition
// (xxhash64(key) % P, engine.go) until the engine calls Partition itself;
// the two must never diverge.
func TestPartitionGolden(t *testing.T) {
	tests := []struct {
		key        string
		partitions int
		want       int
	}{
		{"", 4096, 2457}, // xxhash64("") = 0xef46db3751d8e999
		{"foo", 4096, 2623},
		{"user:42", 4096, 450},
		{"session:9f1c", 4096, 2371},
		{"a-much-longer-key-that-spans-more-than-32-bytes-of-input", 4096, 1376},
		{"foo", 7, 3},
		{"user:42", 7, 4},
		{"foo", 1, 0},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s/%d", tt.key, tt.partitions), func(t *testing.T) {
			if got := Partition([]byte(tt.key), tt.partitions); got != tt.want {
				t.Errorf("Partition(%q, %d) = %d, want %d", tt.key, tt.partitions, got, tt.want)
			}
		})
	}
}

func TestScoreGolden(t *testing.T) {
	tests := []struct {
		node      string
		partition int
		want      uint64
	}{
		{"0", 0, 0x4d6f6270f4054566},
		{"1", 0, 0xfa06673b7bd3d428},
		{"2", 4095, 0xeebea9554d502626},
		{"store-7", 123, 0xe26e29f9b70ab45a},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s/%d", tt.node, tt.partition), func(t *testing.T) {
			if got := Score(tt.node, tt.partition); got != tt.want {
				t.Errorf("Score(%q, %d) = %#x, want %#x", tt.node, tt.partition, got, tt.want)
			}
		})
	}
}

func TestOwnersGolden(t *testing.T) {
	three := []string{"2", "0", "1"} // New sorts its own copy
	ten := []string{"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"}
	tests := []struct {
		name      string
		rf        int
		nodes     []string
		partition int
		want      []string
	}{
		{"3 nodes/p0", 2, three, 0, []string{"1", "2"}},
		{"3 nodes/p1", 2, three, 1, []string{"1", "0"}},
		{"3 nodes/p2", 2, three, 2, []string{"0", "1"}},
		{"3 nodes/p1000", 2, three, 1000, []string{"2", "1"}},
		{"3 nodes/p4095", 2, three, 4095, []string{"0", "2"}},
		{"10 nodes/p0", 3, ten, 0, []string{"5", "1", "8"}},
		{"10 nodes/p1", 3, ten, 1, []string{"6", "3", "4"}},
		{"10 nodes/p1000", 3, ten, 1000, []string{"3", "2", "7"}},
		{"10 nodes/p4095", 3, ten, 4095, []string{"0", "2", "9"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tb := mustNew(t, DefaultPartitions, tt.rf, tt.nodes)
			if got := tb.Owners(tt.partition); !slices.Equal(got, tt.want) {
				t.Errorf("Owners(%d) = %v, want %v", tt.partition, got, tt.want)
			}
		})
	}
}

func mustNew(t testing.TB, partitions, rf int, nodes []string) *Table {
	t.Helper()
	tb, err := New(partitions, rf, nodes)
	if err != nil {
		t.Fatalf("New(%d, %d, %v): %v", partitions, rf, nodes, err)
	}
	return tb
}

// ids returns the node IDs "0" .. "n-1", as StatefulSet ordinals name them.
func ids(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprint(i)
	}
	return out
}
