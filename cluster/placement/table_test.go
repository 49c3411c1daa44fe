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

// TestOwnersRule checks every partition against the rule New documents,
// computed by brute force from the fitted offsets: the owners are the
// top-RF nodes by Score>>32 plus owner offset, ties to the lower ID; the
// primary is the owner with the highest such key plus primary offset; the
// rest follow in descending key. Node counts above the candidate limit
// exercise the full-scan path, and rf at or above the node count the
// every-node-owns-everything case.
func TestOwnersRule(t *testing.T) {
	for _, n := range []int{1, 2, 3, 7, 20, 40} {
		for _, rf := range []int{1, 2, 3, 7} {
			tb := mustNew(t, 1024, rf, ids(n))
			k := min(rf, n)
			for p := range 1024 {
				key := func(i int) int64 { return int64(Score(tb.nodes[i], p)>>32) + tb.ownerOff[i] }
				ranked := make([]int, n)
				for i := range ranked {
					ranked[i] = i
				}
				slices.SortFunc(ranked, func(a, b int) int { return cmp.Or(cmp.Compare(key(b), key(a)), cmp.Compare(a, b)) })
				top := ranked[:k]
				first := top[0]
				for _, i := range top[1:] {
					pk := func(i int) int64 { return key(i) + tb.primaryOff[i] }
					if pk(i) > pk(first) || pk(i) == pk(first) && i < first {
						first = i
					}
				}
				want := []string{tb.nodes[first]}
				for _, i := range top {
					if i != first {
						want = append(want, tb.nodes[i])
					}
				}
				if got := tb.Owners(p); !slices.Equal(got, want) {
					t.Fatalf("n=%d rf=%d: Owners(%d) = %v, want %v", n, rf, p, got, want)
				}
			}
		}
	}
}

// TestAssignFullScan gives the balancer offsets far larger than any fit
// produces, so that nodes outside a partition's candidates win it, and
// checks assignOwners against a ranking of every node.
func TestAssignFullScan(t *testing.T) {
	const partitions, n, k = 512, 40, 2
	hashes := make([]uint64, n)
	for i, id := range ids(n) {
		hashes[i] = nodeHash(id)
	}
	b := newBalancer(partitions, k, hashes)
	if b.c >= n {
		t.Fatalf("%d candidates for %d nodes: the full scan is not exercised", b.c, n)
	}
	for i := range b.off {
		b.off[i] = int64(mix64(uint64(i))>>36) - 1<<27 // about ±3% of the key range
	}
	b.off[n-1] = 1 << 32 // one node so favoured it should own nearly everything
	b.assignOwners()
	scans := 0
	for p := range partitions {
		key := func(i int) int64 { return int64(score(hashes[i], partitionSalt(p))>>32) + b.off[i] }
		ranked := make([]int32, n)
		for i := range ranked {
			ranked[i] = int32(i)
		}
		slices.SortFunc(ranked, func(a, b int32) int { return cmp.Or(cmp.Compare(key(int(b)), key(int(a))), cmp.Compare(a, b)) })
		if got := b.owners[p*k : (p+1)*k]; !slices.Equal(got, ranked[:k]) {
			t.Fatalf("partition %d: owners %v, want %v", p, got, ranked[:k])
		}
		if !slices.ContainsFunc(b.cands[p*b.c:(p+1)*b.c], func(r raw) bool { return r.node == ranked[k-1] }) {
			scans++
		}
	}
	if owned := b.load[n-1]; owned < partitions*9/10 {
		t.Errorf("favoured node owns %d of %d partitions", owned, partitions)
	}
	if scans == 0 {
		t.Error("no owner came from outside the candidates")
	}
}

func TestInsertTies(t *testing.T) {
	tests := []struct {
		name string
		keys []int64
		max  int
		want []int32 // node indices kept, best first; node i has keys[i]
	}{
		{"distinct", []int64{5, 9, 1, 7}, 2, []int32{1, 3}},
		{"all tied", []int64{4, 4, 4, 4}, 3, []int32{0, 1, 2}},
		{"tie at the cut", []int64{1, 8, 5, 5, 5}, 3, []int32{1, 2, 3}},
		{"tie at the top", []int64{2, 9, 3, 9}, 2, []int32{1, 3}},
		{"late tie loses", []int64{7, 3, 7}, 1, []int32{0}},
		{"max equals n", []int64{1, 3, 2}, 3, []int32{1, 2, 0}},
		{"negative keys", []int64{-5, -1, -9}, 2, []int32{1, 0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, order := range [][]int{ascending(len(tt.keys)), descending(len(tt.keys))} {
				top := make([]candidate, 0, tt.max)
				for _, i := range order {
					top = insert(top, tt.max, tt.keys[i], int32(i))
				}
				got := make([]int32, len(top))
				for j, c := range top {
					got[j] = c.node
				}
				if !slices.Equal(got, tt.want) {
					t.Errorf("insert in order %v kept %v, want %v", order, got, tt.want)
				}
			}
		})
	}
}

func ascending(n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = i
	}
	return out
}

func descending(n int) []int {
	out := ascending(n)
	slices.Reverse(out)
	return out
}

// TestDeterministic builds the same tables from the node IDs in different
// orders: the placement may depend on the set of IDs alone.
func TestDeterministic(t *testing.T) {
	nodes := idsOf(nodeSets()[1], 12)
	want := mustNew(t, DefaultPartitions, DefaultRF, nodes)
	for seed := range uint64(4) {
		shuffled := slices.Clone(nodes)
		slices.SortFunc(shuffled, func(a, b string) int {
			return cmp.Compare(mix64(nodeHash(a)^seed), mix64(nodeHash(b)^seed))
		})
		got := mustNew(t, DefaultPartitions, DefaultRF, shuffled)
		for p := range DefaultPartitions {
			if !slices.Equal(got.Owners(p), want.Owners(p)) {
				t.Fatalf("order %v: Owners(%d) = %v, want %v", shuffled, p, got.Owners(p), want.Owners(p))
			}
		}
	}
}

// TestSmallTables checks that New's result is a valid placement for
// partition counts far below the default, where the band is a few
// partitions wide or unreachable: RF distinct owners per partition, every
// owner an active node.
func TestSmallTables(t *testing.T) {
	for _, partitions := range []int{1, 2, 3, 5, 16, 64} {
		for n := 1; n <= 12; n++ {
			for _, rf := range []int{1, 2, 3, 5} {
				tb := mustNew(t, partitions, rf, ids(n))
				for p := range partitions {
					o := tb.Owners(p)
					if len(o) != min(rf, n) || len(slices.Compact(slices.Sorted(slices.Values(o)))) != len(o) {
						t.Fatalf("P=%d n=%d rf=%d: Owners(%d) = %v", partitions, n, rf, p, o)
					}
					for _, id := range o {
						if _, ok := slices.BinarySearch(tb.Nodes(), id); !ok {
							t.Fatalf("P=%d n=%d rf=%d: Owners(%d) = %v has unknown %q", partitions, n, rf, p, o, id)
						}
					}
				}
			}
		}
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
