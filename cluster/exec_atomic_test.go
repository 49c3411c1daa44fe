package cluster

import (
	"strconv"
	"sync"
	"testing"
	"time"

	"corral/internal/clock"
)

// TestExecAtomicity runs read-modify-write commands from many goroutines
// at once and checks that none of their updates is lost.
func TestExecAtomicity(t *testing.T) {
	const goroutines, perG = 8, 200
	tests := []struct {
		name  string
		args  func(g, i int) []string
		check []unitStep // run afterwards
		wins  int        // replies of :1 expected in all, -1 not checked
	}{
		{name: "incr", args: func(int, int) []string { return []string{"INCR", "k"} },
			check: []unitStep{do(bulk(strconv.Itoa(goroutines*perG)), "GET", "k")}, wins: 1},
		{name: "incrbyfloat", args: func(int, int) []string { return []string{"INCRBYFLOAT", "k", "0.5"} },
			check: []unitStep{do(bulk(strconv.Itoa(goroutines*perG/2)), "GET", "k")}, wins: -1},
		{name: "append", args: func(int, int) []string { return []string{"APPEND", "k", "ab"} },
			check: []unitStep{do(num(2*goroutines*perG), "STRLEN", "k")}, wins: -1},
		{name: "setnx", args: func(g, i int) []string { return []string{"SETNX", "k" + strconv.Itoa(i), strconv.Itoa(g)} },
			check: []unitStep{do(num(perG), "DBSIZE")}, wins: perG},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			now := time.UnixMilli(execEpochMs)
			s := newExecStore(t, clock.NewFake(now), 0)
			var wg sync.WaitGroup
			wins := make([]int, goroutines)
			for g := range goroutines {
				wg.Go(func() {
					for i := range perG {
						if execReply(s, 2, now, tc.args(g, i)...) == ":1\r\n" {
							wins[g]++
						}
					}
				})
			}
			wg.Wait()
			for _, st := range tc.check {
				if got := execReply(s, 2, now, st.args...); got != st.want {
					t.Fatalf("%q: got %q, want %q", st.args, got, st.want)
				}
			}
			total := 0
			for _, n := range wins {
				total += n
			}
			if tc.wins >= 0 && total != tc.wins {
				t.Fatalf("%d replies of :1, want %d", total, tc.wins)
			}
		})
	}
}
