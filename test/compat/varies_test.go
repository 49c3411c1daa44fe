package compat_test

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// variance is how a step whose reply inherently differs between two
// servers is compared instead of byte for byte.
type variance struct {
	why   string
	check func(redis, corral string) error
}

// Comparison rules for the steps in varies.
var (
	// clientID: client ids count each server's connections.
	clientID = variance{"client ids count connections per server", sameKind}
	// helloID: HELLO's reply is compared with its id field masked.
	helloID = variance{"HELLO's id field is the client id", maskHelloID}
	// clientInfo and clientList: CLIENT INFO/LIST lines hold addresses,
	// ids, ages and buffer sizes; see clientLines.
	clientInfo = variance{"CLIENT INFO/LIST contents are per connection", clientLines(true)}
	clientList = variance{"CLIENT INFO/LIST contents are per connection", clientLines(false)}
	// serverInfo: INFO describes the server (versions, pids, counters);
	// see infoLayout.
	serverInfo = variance{"INFO contents describe the server", infoLayout}
	// serverTime: TIME is compared within a few seconds.
	serverTime = variance{"TIME is the server's clock", timeClose}
	// commandSet: corral serves a subset of Redis's commands; COMMAND LIST
	// is compared as a subset and COMMAND and COMMAND COUNT by type, and
	// TestCommandTable checks each entry.
	commandSet   = variance{"corral serves fewer commands than Redis", sameKind}
	commandNames = variance{"corral serves fewer commands than Redis", subsetNames}
	// ttlSec and ttlMs: the servers run each step at slightly different
	// moments, so remaining TTLs may differ by a tick.
	ttlSec = variance{"remaining TTL counts down between the two servers' replies", within(1)}
	ttlMs  = variance{"remaining TTL counts down between the two servers' replies", within(1000)}
	// scanCursor: where an arbitrary cursor lands depends on the server's
	// hash table.
	scanCursor = variance{"an arbitrary SCAN cursor depends on the server's hash table", sameKind}
	// setInfo: CLIENT SETINFO is Redis 7.2's; 7.0 does not know it, and
	// corral implements 7.2's behaviour.
	setInfo = variance{"CLIENT SETINFO is new in Redis 7.2", corralReplies("+OK\r\n",
		"-ERR unknown subcommand 'SETINFO'. Try CLIENT HELP.\r\n")}
)

// varies lists, by step name, the steps whose replies inherently differ
// and how each is compared instead.
var varies = map[string]variance{
	"client: CLIENT ID":                                 clientID,
	"hello: HELLO":                                      helloID,
	"hello: HELLO 3 AUTH default x":                     helloID,
	"hello: HELLO 2 SETNAME helloname":                  helloID,
	"hello: HELLO 3 AUTH default x SETNAME n2":          helloID,
	"hello: HELLO 2":                                    helloID,
	"quit-resp3: HELLO 3":                               helloID,
	"hello: HELLO 3 setname lower auth default x":       helloID,
	"hello: HELLO 2 AUTH default x AUTH default y":      helloID,
	"hello: HELLO 2 SETNAME first SETNAME second":       helloID,
	"auth: HELLO 3 AUTH default pw SETNAME n":           helloID,
	"auth: HELLO #2":                                    helloID,
	"auth: HELLO 3 auth default pw":                     helloID,
	"client: CLIENT INFO":                               clientInfo,
	"client: CLIENT LIST":                               clientList,
	"client: CLIENT LIST TYPE normal":                   clientList,
	"connection: INFO":                                  serverInfo,
	"connection: INFO server":                           serverInfo,
	"connection: TIME":                                  serverTime,
	"command: COMMAND":                                  commandSet,
	"command: COMMAND COUNT":                            commandSet,
	"command: COMMAND LIST":                             commandNames,
	"command: COMMAND LIST FILTERBY PATTERN get*":       commandNames,
	"command: COMMAND LIST FILTERBY ACLCAT string":      commandNames,
	"client: CLIENT SETINFO LIB-NAME compat":            setInfo,
	"scan: SCAN -1":                                     scanCursor,
	"set: TTL t #3":                                     ttlSec,
	"set: TTL s":                                        ttlSec,
	"set: PTTL s":                                       ttlMs,
	"set: TTL nx":                                       ttlSec,
	"set: TTL nx #2":                                    ttlSec,
	"string-family: TTL se":                             ttlSec,
	"string-family: PTTL pse":                           ttlMs,
	"string-family: TTL gx #2":                          ttlSec,
	"string-family: PTTL gx":                            ttlMs,
	"counters: TTL n":                                   ttlSec,
	"counters: PTTL f5":                                 ttlMs,
	"ranges: TTL ap2":                                   ttlSec,
	"ranges: TTL sr2":                                   ttlSec,
	"keys: TTL a":                                       ttlSec,
	"keys: TTL a #4":                                    ttlSec,
	"keys: TTL a #2":                                    ttlSec,
	"keys: TTL a #3":                                    ttlSec,
	"keys: PTTL a #2":                                   ttlMs,
	"keys: PTTL a #3":                                   ttlMs,
	"read-only-user: HELLO 3 AUTH alice secret":         helloID,
	"write-only-user: HELLO 2 AUTH writer w SETNAME wr": helloID,
	"write-only-user: TTL k3":                           ttlSec,
	"subcommand-user: CLIENT ID":                        clientID,
	"subcommand-user: CLIENT LIST":                      clientList,
	"subcommand-user: COMMAND COUNT":                    commandSet,
}

// sameKind requires both replies to have the same RESP type.
// parseBoth checks that both replies are of one RESP type and parses them.
func parseBoth(redis, corral string) (r, c value, err error) {
	if err = sameKind(redis, corral); err != nil {
		return r, c, err
	}
	if r, err = parseValue(redis); err != nil {
		return r, c, err
	}
	c, err = parseValue(corral)
	return r, c, err
}

func sameKind(redis, corral string) error {
	if redis == "" || corral == "" || redis[0] != corral[0] {
		return fmt.Errorf("reply types differ: redis %.80q, corral %.80q", redis, corral)
	}
	if redis[0] == '-' && redis != corral {
		return fmt.Errorf("errors differ: redis %q, corral %q", redis, corral)
	}
	return nil
}

// clientVarying are the CLIENT INFO/LIST fields whose values depend on
// the connection or the server's internals.
var clientVarying = []string{"id", "addr", "laddr", "fd", "age", "idle", "qbuf", "qbuf-free",
	"argv-mem", "rbs", "rbp", "tot-mem"}

// clientLines checks CLIENT INFO/LIST replies: the same RESP type, and
// every line with Redis 7.0's fields in Redis's order followed by
// lib-name and lib-ver (Redis 7.2's, which corral reports since it
// implements CLIENT SETINFO). With exact, the reply is one line and the
// fields outside clientVarying must have equal values.
func clientLines(exact bool) func(redis, corral string) error {
	return func(redis, corral string) error {
		r, c, err := parseBoth(redis, corral)
		if err != nil {
			return err
		}
		rl := strings.Split(strings.TrimSuffix(r.text(), "\n"), "\n")
		cl := strings.Split(strings.TrimSuffix(c.text(), "\n"), "\n")
		want := append(slices.Clone(fieldNames(rl[0])), "lib-name", "lib-ver")
		for _, line := range cl {
			if got := fieldNames(line); !slices.Equal(got, want) {
				return fmt.Errorf("client line fields %v, want %v (redis's and lib-name, lib-ver)", got, want)
			}
		}
		if !exact {
			return nil
		}
		if len(cl) != 1 || len(rl) != 1 {
			return fmt.Errorf("CLIENT INFO: %d lines from redis, %d from corral", len(rl), len(cl))
		}
		rf, cf := strings.Fields(rl[0]), strings.Fields(cl[0])
		for i, f := range rf {
			name, _, _ := strings.Cut(f, "=")
			if !slices.Contains(clientVarying, name) && cf[i] != f {
				return fmt.Errorf("CLIENT INFO field %q from corral, %q from redis", cf[i], f)
			}
		}
		return nil
	}
}

// fieldNames returns the names of a CLIENT LIST line's name=value fields.
func fieldNames(line string) []string {
	var names []string
	for _, f := range strings.Fields(line) {
		name, _, _ := strings.Cut(f, "=")
		names = append(names, name)
	}
	return names
}

// infoLayout checks INFO replies: the same RESP type; corral's text in
// Redis's layout ("# Section" headings, "key:value" lines, a blank line
// between sections), its sections of Redis's in Redis's order, and
// redis_version the same.
func infoLayout(redis, corral string) error {
	r, c, err := parseBoth(redis, corral)
	if err != nil {
		return err
	}
	sections := func(text string) ([]string, map[string]string, error) {
		var heads []string
		kv := map[string]string{}
		for _, line := range strings.Split(strings.TrimSuffix(text, "\r\n"), "\r\n") {
			switch {
			case line == "":
			case strings.HasPrefix(line, "# "):
				heads = append(heads, line[2:])
			case strings.Contains(line, ":"):
				k, v, _ := strings.Cut(line, ":")
				kv[k] = v
			default:
				return nil, nil, fmt.Errorf("INFO line %q is neither a heading nor key:value", line)
			}
		}
		return heads, kv, nil
	}
	rh, rkv, err := sections(r.text())
	if err != nil {
		return err
	}
	ch, ckv, err := sections(c.text())
	if err != nil {
		return fmt.Errorf("corral: %w", err)
	}
	last := -1
	for _, h := range ch {
		i := slices.Index(rh, h)
		if i < 0 {
			continue // corral's own section (Proxy)
		}
		if i < last {
			return fmt.Errorf("corral's INFO sections %v are not in redis's order %v", ch, rh)
		}
		last = i
	}
	if rkv["redis_version"] != ckv["redis_version"] {
		return fmt.Errorf("redis_version %q from redis, %q from corral", rkv["redis_version"], ckv["redis_version"])
	}
	return nil
}

// maskHelloID compares two HELLO replies with their id values zeroed.
func maskHelloID(redis, corral string) error {
	mask := func(raw string) string {
		v, err := parseValue(raw)
		if err != nil {
			return raw
		}
		if i, ok := v.lookup("id"); ok && v.elems[i].kind == ':' {
			v.elems[i].head = "0"
		}
		return v.bytes()
	}
	if r, c := mask(redis), mask(corral); r != c {
		return fmt.Errorf("HELLO replies differ beyond the id:\nredis  %q\ncorral %q", redis, corral)
	}
	return nil
}

// within compares integer replies allowing a difference of tol when both
// are non-negative; the negative codes (-1 no TTL, -2 no key) must match.
func within(tol int64) func(redis, corral string) error {
	return func(redis, corral string) error {
		r, rerr := intReply(redis)
		c, cerr := intReply(corral)
		switch {
		case rerr != nil || cerr != nil:
			if redis != corral {
				return fmt.Errorf("redis %q, corral %q", redis, corral)
			}
		case r < 0 || c < 0:
			if r != c {
				return fmt.Errorf("redis %d, corral %d", r, c)
			}
		case max(r-c, c-r) > tol:
			return fmt.Errorf("redis %d, corral %d: more than %d apart", r, c, tol)
		}
		return nil
	}
}

func intReply(raw string) (int64, error) {
	v, err := parseValue(raw)
	if err != nil {
		return 0, err
	}
	if v.kind != ':' {
		return 0, errors.New("not an integer reply")
	}
	return strconv.ParseInt(v.head, 10, 64)
}

// timeClose requires both TIME replies to be two bulk integers, the
// seconds at most 2 apart.
func timeClose(redis, corral string) error {
	secs := func(raw string) (int64, error) {
		v, err := parseValue(raw)
		if err != nil || v.kind != '*' || len(v.elems) != 2 || v.elems[0].kind != '$' || v.elems[1].kind != '$' {
			return 0, fmt.Errorf("not a TIME reply: %q", raw)
		}
		if _, err := strconv.ParseUint(v.elems[1].str, 10, 32); err != nil {
			return 0, fmt.Errorf("bad microseconds in %q", raw)
		}
		return strconv.ParseInt(v.elems[0].str, 10, 64)
	}
	r, err := secs(redis)
	if err != nil {
		return err
	}
	c, err := secs(corral)
	if err != nil {
		return err
	}
	if max(r-c, c-r) > 2 {
		return fmt.Errorf("TIME seconds redis %d, corral %d", r, c)
	}
	return nil
}

// subsetNames requires corral's array of command names to be a subset of
// redis's, apart from client|setinfo, which Redis 7.0 lacks.
func subsetNames(redis, corral string) error {
	r, c, err := parseBoth(redis, corral)
	if err != nil {
		return err
	}
	var have []string
	for _, e := range r.elems {
		have = append(have, e.text())
	}
	for _, e := range c.elems {
		if n := e.text(); n != "client|setinfo" && !slices.Contains(have, n) {
			return fmt.Errorf("corral lists %q, redis does not", n)
		}
	}
	if len(c.elems) == 0 && len(r.elems) > 0 {
		return errors.New("corral lists no commands")
	}
	return nil
}

// corralReplies checks a step Redis 7.0 does not implement: each server
// must give its own expected reply.
func corralReplies(corralWant, redisWant string) func(redis, corral string) error {
	return func(redis, corral string) error {
		if redis != redisWant {
			return fmt.Errorf("redis replied %q, want %q", redis, redisWant)
		}
		if corral != corralWant {
			return fmt.Errorf("corral replied %q, want %q", corral, corralWant)
		}
		return nil
	}
}

// mismatch names a step of one target, over one protocol (0: both).
type mismatch struct {
	target string
	proto  int
	step   string
}

// knownMismatches are differences from Redis in code this suite does not
// own, left for its owner to fix. Each entry still runs: it is logged
// while it differs, and the test fails once it matches, so the entry is
// removed with the fix.
var knownMismatches = map[mismatch]string{}
