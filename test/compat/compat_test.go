package compat_test

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"corral/internal/testkit"
)

// replyTimeout bounds each read; a missing reply fails the run quickly.
const replyTimeout = 3 * time.Second

// TestScript runs the script against redis-server and each corral target,
// over RESP2 and again over RESP3 (HELLO 3 first on every connection),
// and requires byte-identical replies step by step, except for the steps
// in varies (compared by their own rule) and in knownMismatches.
func TestScript(t *testing.T) {
	checkLists(t)
	for _, tk := range targetKinds {
		t.Run(tk.name, func(t *testing.T) {
			t.Parallel()
			ref := testkit.StartRedis(t, "--databases", "1")
			tg := tk.start(t, access{})
			for _, proto := range []int{2, 3} {
				t.Run(fmt.Sprintf("RESP%d", proto), func(t *testing.T) {
					flushAll(t, ref, tg.addr)
					runSessions(t, ref, tg, proto, script)
				})
			}
		})
	}
}

// flushAll empties the servers' keyspaces.
func flushAll(t *testing.T, addrs ...string) {
	t.Helper()
	for _, addr := range addrs {
		c := testkit.Dial(t, addr)
		if got := c.Do("FLUSHALL"); got != "+OK\r\n" {
			t.Fatalf("FLUSHALL on %s: %q", addr, got)
		}
		c.Close()
	}
}

// runSessions runs every session of a script in lockstep on redis (ref)
// and the target. With proto 3 each session starts with HELLO 3.
func runSessions(t *testing.T, ref string, tg target, proto int, sessions []session) {
	names := stepNames(sessions)
	for i, s := range sessions {
		rc, cc := testkit.Dial(t, ref), testkit.Dial(t, tg.addr)
		rc.SetTimeout(replyTimeout)
		cc.SetTimeout(replyTimeout)
		if proto == 3 {
			want, got := rc.Do("HELLO", "3"), cc.Do("HELLO", "3")
			if err := maskHelloID(want, got); err != nil {
				t.Fatalf("%s: HELLO 3 to start the session: %v", s.name, err)
			}
		}
		for j, st := range s.steps {
			runStep(t, rc, cc, tg.name, proto, names[i][j], st)
		}
		rc.Close()
		cc.Close()
	}
}

// runStep runs one step on redis (rc) and the target (cc) and judges the
// replies. A missing reply or connection close fails the run; the step's
// name is logged then, since testkit's message cannot name it.
func runStep(t *testing.T, rc, cc *testkit.RawConn, tgt string, proto int, name string, st step) {
	t.Helper()
	done := false
	defer func() {
		if !done {
			t.Logf("the run stopped at step %q", name)
		}
	}()
	want := doStep(rc, st)
	got := doStep(cc, st)
	judge(t, tgt, proto, name, want, got)
	if st.close {
		rc.ExpectClosed(replyTimeout)
		cc.ExpectClosed(replyTimeout)
	}
	done = true
}

// doStep runs one step and returns its replies, concatenated. A full SCAN
// iteration is summed up as its sorted set of keys (cursors differ
// legitimately between servers), or as its first error reply.
func doStep(c *testkit.RawConn, st step) string {
	switch {
	case st.scan != nil:
		return scanKeys(c, st.scan)
	case st.raw != "":
		c.Send(st.raw)
		var b strings.Builder
		for range st.n {
			b.WriteString(c.ReadReply())
		}
		return b.String()
	}
	return c.Do(st.args...)
}

// maxScanCalls bounds one SCAN iteration, so a cursor that never returns
// to 0 fails instead of hanging.
const maxScanCalls = 10000

func scanKeys(c *testkit.RawConn, opts []string) string {
	keys := map[string]bool{}
	cursor := "0"
	for range maxScanCalls {
		raw := c.Do(append([]string{"SCAN", cursor}, opts...)...)
		v, err := parseValue(raw)
		if err != nil || v.kind != '*' || len(v.elems) != 2 {
			return raw // an error reply, or a malformed one the comparison shows
		}
		for _, k := range v.elems[1].elems {
			keys[k.text()] = true
		}
		cursor = v.elems[0].text()
		if cursor == "0" {
			sorted := make([]string, 0, len(keys))
			for k := range keys {
				sorted = append(sorted, strconv.Quote(k))
			}
			slices.Sort(sorted)
			return fmt.Sprintf("%d keys: %s", len(sorted), strings.Join(sorted, " "))
		}
	}
	return fmt.Sprintf("SCAN did not finish within %d calls", maxScanCalls)
}

// judge compares one step's replies and reports a difference, unless the
// step is a listed known mismatch of this target.
func judge(t *testing.T, tgt string, proto int, name, want, got string) {
	t.Helper()
	var err error
	if v, ok := varies[name]; ok {
		if err = v.check(want, got); err != nil {
			err = fmt.Errorf("compared as a value that varies (%s): %w", v.why, err)
		}
	} else if want != got {
		err = fmt.Errorf("redis  %s\ncorral %s", excerpt(want, got), excerpt(got, want))
	}
	why, known := knownMismatches[mismatch{tgt, proto, name}]
	if !known {
		why, known = knownMismatches[mismatch{tgt, 0, name}]
	}
	switch {
	case known && err == nil:
		t.Errorf("%s: listed in knownMismatches (%s) but now matches redis: remove it from the list", name, why)
	case known:
		t.Logf("known mismatch, left to the lead: %s (%s):\n%v", name, why, err)
	case err != nil:
		t.Errorf("%s:\n%v", name, err)
	}
}

// excerpt quotes s, cut to a window around its first difference with
// other so that 1 MiB replies stay readable.
func excerpt(s, other string) string {
	const window = 120
	i := 0
	for i < len(s) && i < len(other) && s[i] == other[i] {
		i++
	}
	from := max(0, i-window/2)
	to := min(len(s), from+window)
	out := strconv.Quote(s[from:to])
	if from > 0 {
		out = fmt.Sprintf("[%d bytes]...", from) + out
	}
	if to < len(s) {
		out += fmt.Sprintf("...[%d more bytes]", len(s)-to)
	}
	return out
}

// checkLists fails when the variance or exception lists name a step no
// script has, or when two steps share a name.
func checkLists(t *testing.T) {
	t.Helper()
	all := map[string]bool{}
	for _, sessions := range [][]session{script, authScript, aclScript} {
		for i, names := range stepNames(sessions) {
			for j, n := range names {
				if all[n] {
					t.Errorf("two steps are named %q", n)
				}
				all[n] = true
				if sessions[i].steps[j].close && j != len(names)-1 {
					t.Errorf("%s closes the connection but is not its session's last step", n)
				}
			}
		}
	}
	for n := range varies {
		if !all[n] {
			t.Errorf("varies names %q, which is not a step of the script", n)
		}
	}
	for k := range knownMismatches {
		if !all[k.step] {
			t.Errorf("knownMismatches names %q, which is not a step of the script", k.step)
		}
	}
}
