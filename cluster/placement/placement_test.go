package placement

import (
	"fmt"
	"slices"
	"testing"

	"github.com/cespare/xxhash/v2"
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

// TestOwnersGolden pins owners, primary first. Most partitions keep the
// owners pure HRW gives them (the first cases of each size, unchanged from
// before the fit); the cases marked "fit" are ones New's offsets change,
// by owner set or by primary.
func TestOwnersGolden(t *testing.T) {
	three := []string{"2", "0", "1"} // New sorts its own copy
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
		{"3 nodes/p8 fit", 2, three, 8, []string{"0", "1"}},   // HRW: 1, 0
		{"3 nodes/p39 fit", 2, three, 39, []string{"0", "2"}}, // HRW: 0, 1
		{"10 nodes/p0", 3, ids(10), 0, []string{"5", "1", "8"}},
		{"10 nodes/p1", 3, ids(10), 1, []string{"6", "3", "4"}},
		{"10 nodes/p1000", 3, ids(10), 1000, []string{"3", "2", "7"}},
		{"10 nodes/p4095", 3, ids(10), 4095, []string{"0", "2", "9"}},
		{"10 nodes/p5 fit", 3, ids(10), 5, []string{"8", "1", "5"}}, // HRW: 8, 1, 9
		{"10 nodes/p9 fit", 3, ids(10), 9, []string{"7", "9", "1"}}, // HRW: 9, 7, 1
		{"20 nodes/p0 fit", 2, ids(20), 0, []string{"5", "15"}},     // HRW: 15, 5
		{"20 nodes/p9 fit", 2, ids(20), 9, []string{"17", "7"}},     // HRW: 17, 9
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

// TestTableGolden pins whole tables by a digest of every partition's
// owners in order, so that any change to the rule, its constants or the
// fit shows here: such a change moves data between nodes and is a
// cluster-wide incompatibility, as a change to Score is.
func TestTableGolden(t *testing.T) {
	tests := []struct {
		rf    int
		nodes []string
		want  uint64
	}{
		{2, ids(3), 0x1dde3550f2cf4bac},
		{2, ids(10), 0xc292cc9746265891},
		{3, ids(10), 0x57ba58a9175086d},
		{2, ids(20), 0x55b160ef9cdc9684},
		{1, ids(7), 0x289a030fbc90fe1},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("rf%d/n%d", tt.rf, len(tt.nodes)), func(t *testing.T) {
			tb := mustNew(t, DefaultPartitions, tt.rf, tt.nodes)
			d := xxhash.New()
			for p := range tb.Partitions() {
				for _, o := range tb.Owners(p) {
					d.WriteString(o + ",")
				}
				d.WriteString(";")
			}
			if got := d.Sum64(); got != tt.want {
				t.Errorf("digest of owners = %#x, want %#x", got, tt.want)
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
