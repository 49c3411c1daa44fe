package command

import (
	"math/rand/v2"
	"slices"
	"sort"
	"strconv"
	"testing"
)

// TestLiveIncrFloat runs chains of INCRBYFLOAT on Redis and IncrFloat side
// by side and compares every reply, errors included.
func TestLiveIncrFloat(t *testing.T) {
	c := liveRedis(t)
	chains := [][]string{
		{"0.1", "0.2", "0.3", "-0.6"},
		{"10.50", "0.1", "-5", "5.0e3", "2.0e2"},
		{"3.0e3", "1e-20", "-3000"},
		{"1e400", "1", "-1e400"},
		{"1e4932", "1e4932"},
		{"-1e4932", "-1e4932"},
		{"0x10", "0x1.8p1", "0x.8", ".5", "5.", "+1", "-.0", "1e+5", "1E-2"},
		{"1e-400", "-1e-20", "1e-4950", "1e-4951", "1e-4952"},
		{"123456789012345678901234567890", "0.000000000000000001"},
		{"9223372036854775807", "1", "0.5"},
		{"3.14159265358979323846264338327950288", "2.71828182845904523536"},
		{"0.1", "inf", "0.1", "nan", "1e", "0x", "0x1p", " 1", "1 ", "1_0", "infinity", "-INF"},
		{"4.5", "0x1p-16445", "0x1p-16446", "0x1.000000000000000000001p-16446", "0x1.ffffffffffffffffffffp-16447", "0x1p16383", "0x1p16384"},
		{"0x1.fffffffffffffffep16383", "0x1.ffffffffffffffffp16383", "-0x1.fffffffffffffffe8p16383"},
		{"1.8e-4951", "1.9e-4951", "1.82e-4951", "1.823e-4951", "1.8225e-4951", "1.82259e-4951", "1.822599765941237e-4951", "1.82259976594123730126e-4951"},
		{"1.7976931348623157e308", "1.7976931348623157e308"},
		{"0.0000000000000000049", "0.0000000000000000051", "0.000000000000000005"},
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 20; i++ {
		var chain []string
		for j := 0; j < 8; j++ {
			switch rng.IntN(3) {
			case 0:
				chain = append(chain, strconv.FormatFloat(rng.NormFloat64()*1e6, 'g', -1, 64))
			case 1:
				chain = append(chain, strconv.FormatFloat(rng.Float64(), 'f', rng.IntN(25), 64))
			default:
				chain = append(chain, strconv.FormatInt(rng.Int64N(1<<40)-1<<39, 10)+"."+strconv.Itoa(rng.IntN(1000)))
			}
		}
		chains = append(chains, chain)
	}
	for i, chain := range chains {
		key := "f" + strconv.Itoa(i)
		var cur []byte
		exists := false
		for _, incr := range chain {
			v, raw := do(t, c, "INCRBYFLOAT", key, incr)
			got, err := IncrFloat(nil, cur, exists, []byte(incr))
			if err != nil {
				if v.Kind != '-' || string(v.Str) != err.Error() {
					t.Errorf("%s += %q: redis %q, ours %v", cur, incr, raw, err)
				}
				continue
			}
			if v.Kind != '$' || string(v.Str) != string(got) {
				t.Errorf("%s += %q: redis %q, ours %q", cur, incr, raw, got)
			}
			if v.Kind == '$' {
				cur, exists = v.Str, true
			}
		}
	}
	// Values stored by SET are parsed the same way.
	for _, stored := range []string{"abc", "", "1e", " 5", "5\x00", "0x1p3", "inf", "12"} {
		do(t, c, "SET", "fs", stored)
		v, raw := do(t, c, "INCRBYFLOAT", "fs", "1")
		got, err := IncrFloat(nil, []byte(stored), true, []byte("1"))
		ok := v.Kind != '-'
		if (err == nil) != ok || (ok && string(v.Str) != string(got)) || (!ok && string(v.Str) != err.Error()) {
			t.Errorf("stored %q + 1: redis %q, ours %q %v", stored, raw, got, err)
		}
	}
}

// TestLiveMatch compares Match with KEYS over a fixed key set.
func TestLiveMatch(t *testing.T) {
	c := liveRedis(t)
	keys := []string{"", "a", "b", "ab", "abc", "aXc", "a*c", "a?c", "a[c", "a]c", "a\\c", "a-c", "hello", "hallo",
		"hxllo", "heeeello", "HELLO", "foo:bar:baz", "foo::", "x\x00y", "\xff", "\x80", "^", "[", "]", "-", "a\nb", "aaaaaaaaaab", "Ab"}
	for _, k := range keys {
		do(t, c, "SET", k, "v")
	}
	patterns := []string{"*", "?", "a*", "*c", "a?c", "a\\*c", "a\\?c", "h[ae]llo", "h[^e]llo", "h[a-b]llo", "h[b-a]llo",
		"h*llo", "h*l*o", "[", "a[", "a[c", "a[^", "[^", "[]", "[]]", "[]a]*", "a[\\]]c", "a[\\\\]c", "a[-]c", "a[a-]c", "a[-a]c",
		"*:*:*", "foo:*", "x?y", "x\x00y", "[\x80-\xff]", "[\x00-\x7f]", "[a-\xff]", "\\", "a\\", "**a**b", "*a*a*a*a*a*b",
		"[A-Z]*", "HE*", "a[!b]c", "\\h*", "a\nb", "[^a]", "a[b-]", "?b", "*?*", "a[x-z", "[[]", "[\\"}
	for _, p := range patterns {
		v, _ := do(t, c, "KEYS", p)
		var want []string
		for _, e := range v.Elems {
			want = append(want, string(e.Str))
		}
		var got []string
		for _, k := range keys {
			// KEYS * (like SCAN MATCH *) skips matching altogether.
			if p == "*" || Match([]byte(p), []byte(k), false) {
				got = append(got, k)
			}
		}
		sort.Strings(want)
		sort.Strings(got)
		if !slices.Equal(got, want) {
			t.Errorf("pattern %q: redis %q, ours %q", p, want, got)
		}
	}
	// nocase: COMMAND LIST FILTERBY PATTERN matches full names ignoring case.
	for _, p := range []string{"GET*", "client|s*", "C[L-M]*", "*|*", "?et", "[^a-z]*", "*EX*"} {
		v, _ := do(t, c, "COMMAND", "LIST", "FILTERBY", "PATTERN", p)
		served := map[string]bool{}
		for _, s := range List() {
			served[s.Name] = true
		}
		var want []string
		for _, e := range v.Elems {
			if served[string(e.Str)] && string(e.Str) != "client|setinfo" {
				want = append(want, string(e.Str))
			}
		}
		f, err := ParseCommandList(argv([]string{"command", "list", "filterby", "pattern", p}))
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, s := range List() {
			if f.Match(s) && s.ID != ClientSetInfo {
				got = append(got, s.Name)
			}
		}
		sort.Strings(want)
		sort.Strings(got)
		if !slices.Equal(got, want) {
			t.Errorf("pattern %q: redis %q, ours %q", p, want, got)
		}
	}
}

// TestLiveSubstr compares Substr with GETRANGE.
func TestLiveSubstr(t *testing.T) {
	c := liveRedis(t)
	values := []string{"", "a", "hello world"}
	idx := []int64{0, 1, 2, 5, 10, 11, 12, 100, -1, -2, -5, -11, -12, -100, 9223372036854775807, -9223372036854775808}
	for _, val := range values {
		do(t, c, "SET", "r", val)
		for _, start := range idx {
			for _, end := range idx {
				v, _ := do(t, c, "GETRANGE", "r", strconv.FormatInt(start, 10), strconv.FormatInt(end, 10))
				from, to := Substr(start, end, len(val))
				if got := val[from:to]; got != string(v.Str) {
					t.Errorf("GETRANGE %q %d %d: redis %q, ours %q", val, start, end, v.Str, got)
				}
			}
		}
	}
}

// TestLiveParseInt checks ParseInt's accept/reject decisions with INCRBY.
func TestLiveParseInt(t *testing.T) {
	c := liveRedis(t)
	for _, s := range parseIntInputs() {
		do(t, c, "SET", "i", "0")
		v, _ := do(t, c, "INCRBY", "i", s)
		n, ok := ParseInt([]byte(s))
		switch {
		case ok != (v.Kind == ':'):
			t.Errorf("%q: redis %q, ours ok=%v", s, v.Str, ok)
		case ok && strconv.FormatInt(n, 10) != string(v.Str):
			t.Errorf("%q: redis %s, ours %d", s, v.Str, n)
		}
	}
}

// TestLiveSetExpiry checks the absolute expiries ParseSet and ParseSetEx
// compute against PEXPIRETIME, within the time the round trips take.
func TestLiveSetExpiry(t *testing.T) {
	c := liveRedis(t)
	cases := [][]string{
		{"SET", "e", "v", "EX", "100"},
		{"SET", "e", "v", "PX", "100000"},
		{"SET", "e", "v", "EXAT", "99999999999"},
		{"SET", "e", "v", "PXAT", "99999999999999"},
		{"SET", "e", "v", "ex", "1", "EX", "1000"},
		{"SETEX", "e", "100", "v"},
		{"PSETEX", "e", "100000", "v"},
	}
	for _, args := range cases {
		before := nowMs()
		do(t, c, args...)
		after := nowMs()
		v, _ := do(t, c, "PEXPIRETIME", "e")
		redisAt, _ := strconv.ParseInt(string(v.Str), 10, 64)
		var lo, hi int64
		var err error
		a := argv(args)
		if args[0] == "SET" {
			var sa, sb SetArgs
			sa, err = ParseSet(a, before)
			sb, _ = ParseSet(a, after)
			lo, hi = sa.ExpireAtMs, sb.ExpireAtMs
		} else {
			unit := int64(1000)
			if args[0] == "PSETEX" {
				unit = 1
			}
			lo, err = ParseSetEx(a, before, unit)
			hi, _ = ParseSetEx(a, after, unit)
		}
		if err != nil || redisAt < lo || redisAt > hi {
			t.Errorf("%q: redis expires at %d, ours in [%d, %d] (%v)", args, redisAt, lo, hi, err)
		}
	}
}

// TestLiveFixedErrors triggers the fixed texts that need server state.
func TestLiveFixedErrors(t *testing.T) {
	addr := liveServer(t)
	c := dial(t, addr)
	do(t, c, "LPUSH", "list", "a")
	if v, _ := do(t, c, "GET", "list"); string(v.Str) != string(ErrWrongType) {
		t.Errorf("WRONGTYPE: redis %q", v.Str)
	}
	do(t, c, "CONFIG", "SET", "maxmemory", "1")
	if v, _ := do(t, c, "SET", "k", "v"); string(v.Str) != string(ErrOOM) {
		t.Errorf("OOM: redis %q", v.Str)
	}
	do(t, c, "CONFIG", "SET", "maxmemory", "0")
	do(t, c, "CONFIG", "SET", "maxclients", "1")
	c2 := dial(t, addr)
	if v, _, err := c2.Do("PING"); err != nil || string(v.Str) != string(ErrMaxClients) {
		t.Errorf("maxclients: redis %q, %v", v.Str, err)
	}
}
