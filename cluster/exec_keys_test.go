package cluster

import (
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"corral/internal/clock"
	"corral/internal/command"
	"corral/internal/resp"
)

// TestExecScanIteration checks that SCAN's cursor walks every key once
// over many calls, whatever COUNT is.
func TestExecScanIteration(t *testing.T) {
	for _, count := range []int{1, 7, 1000} {
		t.Run("count"+strconv.Itoa(count), func(t *testing.T) {
			clk := clock.NewFake(time.UnixMilli(execEpochMs))
			s := newExecStore(t, clk, 0)
			var want []string
			for i := range 300 {
				k := "key:" + strconv.Itoa(i)
				want = append(want, k)
				execReply(s, 2, clk.Now(), "SET", k, "v")
			}
			var got []string
			cursor := "0"
			for calls := 0; ; calls++ {
				if calls > 1000 {
					t.Fatal("SCAN did not finish")
				}
				w := resp.Writer{}
				av := argv("SCAN", cursor, "COUNT", strconv.Itoa(count))
				s.exec(&w, command.Lookup(av[0]), av, clk.Now())
				next, keys := parseScanReply(t, w.Bytes())
				got = append(got, keys...)
				if cursor = next; cursor == "0" {
					break
				}
			}
			slices.Sort(want)
			slices.Sort(got)
			if !slices.Equal(got, want) {
				t.Fatalf("SCAN returned %d keys, want the %d keys once each", len(got), len(want))
			}
		})
	}
}

// parseScanReply splits a raw RESP2 SCAN reply into its cursor and keys.
func parseScanReply(t testing.TB, raw []byte) (string, []string) {
	t.Helper()
	rest := string(raw)
	line := func() string {
		i := strings.Index(rest, "\r\n")
		if i < 0 {
			t.Fatalf("truncated SCAN reply %q", raw)
		}
		l := rest[:i]
		rest = rest[i+2:]
		return l
	}
	bulkLine := func() string {
		n, err := strconv.Atoi(strings.TrimPrefix(line(), "$"))
		if err != nil || len(rest) < n+2 {
			t.Fatalf("bad bulk in SCAN reply %q", raw)
		}
		b := rest[:n]
		rest = rest[n+2:]
		return b
	}
	if line() != "*2" {
		t.Fatalf("SCAN reply %q is not a two-element array", raw)
	}
	cursor := bulkLine()
	n, err := strconv.Atoi(strings.TrimPrefix(line(), "*"))
	if err != nil {
		t.Fatalf("bad key count in SCAN reply %q", raw)
	}
	keys := make([]string, n)
	for i := range keys {
		keys[i] = bulkLine()
	}
	if rest != "" {
		t.Fatalf("trailing bytes in SCAN reply %q", raw)
	}
	return cursor, keys
}
