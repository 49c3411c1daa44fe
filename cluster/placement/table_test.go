package placement

import (
	"cmp"
	"errors"
	"slices"
	"strings"
	"testing"
)

func TestNewRejects(t *testing.T) {
	tests := []struct {
		name       string
		partitions int
		rf         int
		nodes      []string
		wantErrs   []string // substrings, one per reported problem
	}{
		{"zero partitions", 0, 2, ids(3), []string{"partitions 0"}},
		{"too many partitions", MaxPartitions + 1, 2, ids(3), []string{"partitions 1048577"}},
		{"zero rf", 4096, 0, ids(3), []string{"rf 0"}},
		{"empty ID", 4096, 2, []string{"0", "", ""}, []string{"empty node ID"}},
		{"duplicate ID", 4096, 2, []string{"1", "0", "1", "1", "2", "2"}, []string{`duplicate node ID "1"`, `duplicate node ID "2"`}},
		{"all at once", -1, -1, []string{"", "a", "a"}, []string{"partitions -1", "rf -1", "empty node ID", `duplicate node ID "a"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tb, err := New(tt.partitions, tt.rf, tt.nodes)
			if tb != nil || !errors.Is(err, ErrInvalidTable) {
				t.Fatalf("New = %v, %v; want nil, ErrInvalidTable", tb, err)
			}
			if got := strings.Count(err.Error(), "placement: invalid table"); got != len(tt.wantErrs) {
				t.Errorf("error %q reports %d problems, want %d", err, got, len(tt.wantErrs))
			}
			for _, want := range tt.wantErrs {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q lacks %q", err, want)
				}
			}
		})
	}
}

func TestNewSmallClusters(t *testing.T) {
	tests := []struct {
		name   string
		rf     int
		nodes  []string
		wantRF int
	}{
		{"no nodes", 2, nil, 0},
		{"one node rf 2", 2, []string{"a"}, 1},
		{"rf above node count", 5, ids(3), 3},
		{"rf equals node count", 3, ids(3), 3},
		{"rf below node count", 1, ids(3), 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tb := mustNew(t, 64, tt.rf, tt.nodes)
			if tb.RF() != tt.wantRF || tb.Partitions() != 64 {
				t.Fatalf("RF, Partitions = %d, %d; want %d, 64", tb.RF(), tb.Partitions(), tt.wantRF)
			}
			for p := range 64 {
				o := tb.Owners(p)
				if len(o) != tt.wantRF {
					t.Fatalf("Owners(%d) = %v, want %d owners", p, o, tt.wantRF)
				}
				if tt.wantRF == len(tt.nodes) && !slices.Equal(slices.Sorted(slices.Values(o)), tb.Nodes()) {
					t.Fatalf("Owners(%d) = %v, want every node", p, o)
				}
				want := ""
				if len(o) > 0 {
					want = o[0]
				}
				if got := tb.Primary(p); got != want {
					t.Fatalf("Primary(%d) = %q, want %q", p, got, want)
				}
			}
		})
	}
}

// TestOwnersOrder checks every partition against a brute-force ranking:
// descending Score, ties by ascending node ID, the first RF of them.
func TestOwnersOrder(t *testing.T) {
	for _, n := range []int{1, 2, 3, 7, 20} {
		for _, rf := range []int{1, 2, 3} {
			nodes := ids(n)
			tb := mustNew(t, 1024, rf, nodes)
			for p := range 1024 {
				ranked := slices.Clone(nodes)
				slices.SortFunc(ranked, func(a, b string) int {
					return cmp.Or(cmp.Compare(Score(b, p), Score(a, p)), cmp.Compare(a, b))
				})
				if want := ranked[:min(rf, n)]; !slices.Equal(tb.Owners(p), want) {
					t.Fatalf("n=%d rf=%d: Owners(%d) = %v, want %v", n, rf, p, tb.Owners(p), want)
				}
			}
		}
	}
}

func TestTopKTies(t *testing.T) {
	tests := []struct {
		name   string
		scores []uint64
		k      int
		want   []int
	}{
		{"distinct", []uint64{5, 9, 1, 7}, 2, []int{1, 3}},
		{"all tied", []uint64{4, 4, 4, 4}, 3, []int{0, 1, 2}},
		{"tie at the cut", []uint64{1, 8, 5, 5, 5}, 3, []int{1, 2, 3}},
		{"tie at the top", []uint64{2, 9, 3, 9}, 2, []int{1, 3}},
		{"late tie loses", []uint64{7, 3, 7}, 1, []int{0}},
		{"k equals n", []uint64{1, 3, 2}, 3, []int{1, 2, 0}},
		{"max score", []uint64{0, ^uint64(0), 0}, 2, []int{1, 0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			top := make([]int, tt.k)
			topK(tt.scores, top, make([]uint64, tt.k))
			if !slices.Equal(top, tt.want) {
				t.Errorf("topK(%v, %d) = %v, want %v", tt.scores, tt.k, top, tt.want)
			}
		})
	}
}

func TestQueries(t *testing.T) {
	tb := mustNew(t, DefaultPartitions, 2, []string{"2", "0", "1"})
	if got := tb.Nodes(); !slices.Equal(got, []string{"0", "1", "2"}) {
		t.Fatalf("Nodes() = %v", got)
	}
	tb.Nodes()[0] = "changed" // the caller owns the copy
	if tb.Nodes()[0] != "0" {
		t.Fatal("Nodes shares its slice with the Table")
	}
	key := []byte("user:42")
	p := tb.Partition(key)
	if p != Partition(key, DefaultPartitions) || !slices.Equal(tb.OwnersOf(key), tb.Owners(p)) {
		t.Fatalf("Partition, OwnersOf disagree with Partition, Owners for %q", key)
	}
	if o := tb.Owners(p); cap(o) != len(o) {
		t.Errorf("Owners cap %d > len %d: an append would overwrite the next partition", cap(o), len(o))
	}

	total := 0
	for _, node := range []string{"0", "1", "2"} {
		ps := tb.PartitionsOf(node)
		total += len(ps)
		if !slices.IsSorted(ps) {
			t.Errorf("PartitionsOf(%q) not ascending", node)
		}
		for q := range DefaultPartitions {
			if owns, listed := tb.Owns(node, q), slices.Contains(ps, q); owns != listed || owns != slices.Contains(tb.Owners(q), node) {
				t.Fatalf("node %q partition %d: Owns %v, PartitionsOf lists %v", node, q, owns, listed)
			}
		}
	}
	if total != 2*DefaultPartitions {
		t.Errorf("PartitionsOf totals %d, want %d", total, 2*DefaultPartitions)
	}
	if ps := tb.PartitionsOf("9"); ps != nil {
		t.Errorf("PartitionsOf(unknown) = %v, want nil", ps)
	}
	if tb.Owns("9", p) {
		t.Error("Owns(unknown) = true")
	}
}

func TestOutOfRangePanics(t *testing.T) {
	for _, tb := range []*Table{mustNew(t, 16, 2, ids(3)), mustNew(t, 16, 2, nil)} {
		for _, p := range []int{-1, 16} {
			for name, call := range map[string]func(){
				"Owners":  func() { tb.Owners(p) },
				"Primary": func() { tb.Primary(p) },
				"Owns":    func() { tb.Owns("0", p) },
			} {
				func() {
					defer func() {
						if recover() == nil {
							t.Errorf("%s(%d) with %d nodes did not panic", name, p, len(tb.Nodes()))
						}
					}()
					call()
				}()
			}
		}
	}
}
