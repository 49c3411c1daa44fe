package compat_test

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"

	"corral/internal/testkit"
)

// setInfoName is the one command corral serves that Redis 7.0 lacks
// (CLIENT SETINFO is Redis 7.2's).
const setInfoName = "client|setinfo"

// TestCommandTable checks corral's COMMAND replies against redis-server
// entry by entry, over RESP2 and RESP3, on the store and on the proxy:
// every name in COMMAND LIST is one Redis knows, COMMAND COUNT counts the
// top-level ones, COMMAND INFO and COMMAND DOCS of each name equal Redis's
// bytes (containers with Redis's subcommands cut to corral's and put in
// corral's order, since Redis lists them in hash order), and bare COMMAND
// and COMMAND DOCS list exactly those entries.
func TestCommandTable(t *testing.T) {
	ref := testkit.StartRedis(t, "--databases", "1")
	targets := []target{
		{name: targetStore, addr: startStore(t, access{})},
		startProxy(t, targetProxyStore, startStore(t, access{}), access{}),
	}
	for _, tg := range targets {
		for _, proto := range []int{2, 3} {
			t.Run(fmt.Sprintf("%s/RESP%d", tg.name, proto), func(t *testing.T) {
				rc, cc := testkit.Dial(t, ref), testkit.Dial(t, tg.addr)
				if proto == 3 {
					rc.Do("HELLO", "3")
					cc.Do("HELLO", "3")
				}
				checkCommandTable(t, rc, cc)
			})
		}
	}
}

func checkCommandTable(t *testing.T, rc, cc *testkit.RawConn) {
	redisNames := texts(t, rc.Do("COMMAND", "LIST"))
	names := texts(t, cc.Do("COMMAND", "LIST"))
	var top int
	for _, n := range names {
		if !strings.Contains(n, "|") {
			top++
		}
		if n != setInfoName && !slices.Contains(redisNames, n) {
			t.Errorf("corral's COMMAND LIST has %q, redis's does not", n)
		}
	}
	if !slices.Contains(names, setInfoName) {
		t.Errorf("corral's COMMAND LIST lacks %s", setInfoName)
	}
	if got, want := cc.Do("COMMAND", "COUNT"), ":"+strconv.Itoa(top)+"\r\n"; got != want {
		t.Errorf("COMMAND COUNT = %q, want %q (the top-level names of COMMAND LIST)", got, want)
	}

	infos := map[string]string{} // corral's COMMAND INFO entry of each name
	docs := map[string]string{}  // corral's COMMAND DOCS value of each name
	for _, n := range names {
		ci := mustParse(t, cc.Do("COMMAND", "INFO", n))
		cd := mustParse(t, cc.Do("COMMAND", "DOCS", n))
		if len(ci.elems) != 1 || len(cd.elems) != 2 || cd.elems[0].text() != n {
			t.Errorf("corral COMMAND INFO/DOCS %s: malformed replies %q, %q", n, ci.bytes(), cd.bytes())
			continue
		}
		infos[n], docs[n] = ci.elems[0].bytes(), cd.elems[1].bytes()
		if n == setInfoName {
			if got := ci.elems[0].elems[0].text(); got != n {
				t.Errorf("COMMAND INFO %s names %q", n, got)
			}
			continue
		}
		ri := mustParse(t, rc.Do("COMMAND", "INFO", n))
		rd := mustParse(t, rc.Do("COMMAND", "DOCS", n))
		wantInfo, gotInfo := alignSubs(t, ri.elems[0], ci.elems[0], false)
		if wantInfo != gotInfo {
			t.Errorf("COMMAND INFO %s:\nredis  %q\ncorral %q", n, wantInfo, gotInfo)
		}
		wantDocs, gotDocs := alignSubs(t, rd.elems[1], cd.elems[1], true)
		if wantDocs != gotDocs {
			t.Errorf("COMMAND DOCS %s:\nredis  %q\ncorral %q", n, wantDocs, gotDocs)
		}
	}

	t.Logf("compared COMMAND INFO and DOCS of %d names", len(names))

	// Bare COMMAND and COMMAND DOCS list the same entries, one per
	// top-level command.
	all := mustParse(t, cc.Do("COMMAND"))
	if len(all.elems) != top {
		t.Errorf("COMMAND lists %d entries, COMMAND LIST %d top-level names", len(all.elems), top)
	}
	for _, e := range all.elems {
		if n := e.elems[0].text(); e.bytes() != infos[n] {
			t.Errorf("COMMAND's entry for %q differs from COMMAND INFO %s", n, n)
		}
	}
	allDocs := mustParse(t, cc.Do("COMMAND", "DOCS"))
	if len(allDocs.elems) != 2*top {
		t.Errorf("COMMAND DOCS lists %d entries, COMMAND LIST %d top-level names", len(allDocs.elems)/2, top)
	}
	for i := 0; i+1 < len(allDocs.elems); i += 2 {
		if n := allDocs.elems[i].text(); allDocs.elems[i+1].bytes() != docs[n] {
			t.Errorf("COMMAND DOCS's entry for %q differs from COMMAND DOCS %s", n, n)
		}
	}
}

// alignSubs returns the bytes of redis's and corral's COMMAND INFO entry
// (or COMMAND DOCS value) ready to compare: for a container, redis's
// subcommands cut to the ones corral lists, in corral's order, and
// corral's without client|setinfo.
func alignSubs(t *testing.T, redis, corral value, docs bool) (string, string) {
	t.Helper()
	redis.elems, corral.elems = slices.Clone(redis.elems), slices.Clone(corral.elems)
	// subs returns a pointer to the subcommand list and the size of one
	// entry in it: an INFO entry's 10th element holds one array per
	// subcommand; a DOCS map's "subcommands" value holds name/doc pairs.
	subs := func(v *value) (*value, int) {
		if !docs {
			if len(v.elems) > 9 && len(v.elems[9].elems) > 0 {
				return &v.elems[9], 1
			}
			return nil, 0
		}
		if i, ok := v.lookup("subcommands"); ok {
			return &v.elems[i], 2
		}
		return nil, 0
	}
	name := func(list *value, i int, per int) string {
		if per == 2 {
			return list.elems[i].text()
		}
		return list.elems[i].elems[0].text()
	}
	cl, per := subs(&corral)
	if cl == nil {
		return redis.bytes(), corral.bytes()
	}
	rl, _ := subs(&redis)
	if rl == nil {
		t.Errorf("corral lists subcommands in %q, redis none", corral.bytes())
		return redis.bytes(), corral.bytes()
	}
	var keptC, keptR []value
	for i := 0; i < len(cl.elems); i += per {
		n := name(cl, i, per)
		if n == setInfoName {
			continue
		}
		keptC = append(keptC, cl.elems[i:i+per]...)
		for j := 0; j < len(rl.elems); j += per {
			if name(rl, j, per) == n {
				keptR = append(keptR, rl.elems[j:j+per]...)
			}
		}
	}
	cl.elems, rl.elems = keptC, keptR
	return redis.bytes(), corral.bytes()
}

func mustParse(t *testing.T, raw string) value {
	t.Helper()
	v, err := parseValue(raw)
	if err != nil {
		t.Fatalf("parse %.200q: %v", raw, err)
	}
	return v
}

// texts returns the strings of an array reply.
func texts(t *testing.T, raw string) []string {
	t.Helper()
	v := mustParse(t, raw)
	out := make([]string, len(v.elems))
	for i, e := range v.elems {
		out[i] = e.text()
	}
	return out
}
