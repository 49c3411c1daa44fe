//go:build soak

package soak

import (
	"fmt"
	"strconv"
	"strings"
)

// The ledger records, per key, what the cluster acknowledged. Each key
// belongs to one writer goroutine, which issues its commands one at a
// time, so "the latest acknowledged state" of a key is well defined. A
// command that failed (an error reply, a timeout) may or may not have run:
// its state is ambiguous, and the checks accept it as well.

// state is a string key's content after a command.
type state struct {
	seq     int64 // the SET that wrote the value (value(key, seq)); unused when deleted
	deleted bool  // DEL'd: absent, or reloaded from the origin (read-through)
	ttl     bool  // EXPIRE gave the value a deadline (an hour: it never fires here)
}

func (s state) String() string {
	switch {
	case s.deleted:
		return "deleted"
	case s.ttl:
		return fmt.Sprintf("v%d with a TTL", s.seq)
	}
	return fmt.Sprintf("v%d", s.seq)
}

// strKey is the ledger of one string key.
type strKey struct {
	name   string
	acked  state    // the last acknowledged state
	after  []state  // unacknowledged commands since then: may have run
	before []state  // unacknowledged commands before it: may land late
	acks   int64    // acknowledged writes
	recent []string // the last few commands on the key, for reports
}

// note remembers one command on the key, keeping the last eight.
func (k *strKey) note(what string) {
	if len(k.recent) == 8 {
		k.recent = append(k.recent[:0], k.recent[1:]...)
	}
	k.recent = append(k.recent, what)
}

// history is the last few commands on the key, oldest first.
func (k *strKey) history() string { return strings.Join(k.recent, "; ") }

// value is what the writer's SET number seq stores in key.
func value(key string, seq int64) string { return "v" + strconv.FormatInt(seq, 10) + ":" + key }

// seqOf returns the SET number of a value the writers wrote to key.
func seqOf(key, v string) (int64, bool) {
	rest, ok := strings.CutSuffix(v, ":"+key)
	if !ok || !strings.HasPrefix(rest, "v") {
		return 0, false
	}
	n, err := strconv.ParseInt(rest[1:], 10, 64)
	return n, err == nil
}

// fromOrigin reports whether v is what the origin simulator serves for key.
func fromOrigin(key, v string) bool { return strings.HasPrefix(v, key+"#") }

// ack records an acknowledged command that left the key in s.
func (k *strKey) ack(s state) {
	k.before = append(k.before, k.after...)
	k.after = k.after[:0]
	k.acked = s
	k.acks++
}

// fail records a command that may or may not have left the key in s.
func (k *strKey) fail(s state) { k.after = append(k.after, s) }

// settled reports whether nothing unacknowledged is outstanding since the
// last acknowledged command, so its state is exactly known.
func (k *strKey) settled() bool { return len(k.after) == 0 }

// mayHaveLanded reports whether an unacknowledged command before the last
// acknowledged one left the key deleted (if del) or holding a value.
func (k *strKey) mayHaveLanded(del bool) bool {
	for _, s := range k.before {
		if s.deleted == del {
			return true
		}
	}
	return false
}

// verdict is the outcome of reading a key back.
type verdict int

const (
	ok   verdict = iota
	late         // an older unacknowledged write landed after a newer acknowledged one
	lost         // the last acknowledged state is gone and no unacknowledged command explains it
)

// judge compares what a key reads back (v nil when absent; hasTTL whether it
// has a deadline) with the ledger, and says why when it does not match.
func (k *strKey) judge(v *string, hasTTL bool) (verdict, string) {
	if matches(k.name, k.acked, v, hasTTL) {
		return ok, ""
	}
	for _, s := range k.after {
		if matches(k.name, s, v, hasTTL) {
			return ok, ""
		}
	}
	got := "absent"
	if v != nil {
		got = fmt.Sprintf("%q", *v)
		if hasTTL {
			got += " with a TTL"
		}
	}
	why := fmt.Sprintf("%s: acknowledged %s (%d unacknowledged after it), read %s", k.name, k.acked, len(k.after), got)
	for _, s := range k.before {
		if matches(k.name, s, v, hasTTL) {
			return late, why
		}
	}
	return lost, why
}

func matches(key string, s state, v *string, hasTTL bool) bool {
	if s.deleted {
		return v == nil || fromOrigin(key, *v)
	}
	return v != nil && *v == value(key, s.seq) && hasTTL == s.ttl
}

// ctrKey is the ledger of one INCR counter.
type ctrKey struct {
	name    string
	acked   int64 // the last value an INCR returned (or the warmup SET)
	unacked int64 // INCRs that failed: each may have counted
	acks    int64
}

// incr records an INCR reply r and reports an anomaly when r shows that an
// acknowledged increment was lost (r too small) or that increments
// appeared from nowhere (r too large).
func (k *ctrKey) incr(r int64) string {
	want := k.acked + 1
	k.acks++
	prev := k.acked
	k.acked = r
	switch {
	case r < want:
		return fmt.Sprintf("%s: INCR returned %d after an acknowledged %d", k.name, r, prev)
	case r > want+k.unacked:
		return fmt.Sprintf("%s: INCR returned %d after an acknowledged %d and %d unacknowledged", k.name, r, prev, k.unacked)
	}
	return ""
}

// judge checks the counter's final value n.
func (k *ctrKey) judge(n int64) (verdict, string) {
	if n >= k.acked && n <= k.acked+k.unacked {
		return ok, ""
	}
	return lost, fmt.Sprintf("%s: acknowledged %d (%d unacknowledged INCRs), read %d", k.name, k.acked, k.unacked, n)
}
