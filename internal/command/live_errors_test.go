package command

import (
	"strings"
	"testing"
	"time"
)

// liveCase is one command sent to both Redis and our parsers. ours gets
// the argv after Resolve accepted it and returns the error corral would
// reply, or nil when Redis must not reply an error.
type liveCase struct {
	name  string
	setup [][]string
	args  []string
	ours  func(a [][]byte) error
}

func nowMs() int64 { return time.Now().UnixMilli() }

func argv(args []string) [][]byte {
	out := make([][]byte, len(args))
	for i, a := range args {
		out[i] = []byte(a)
	}
	return out
}

// Parser adapters.
var (
	set = func(a [][]byte) error { _, err := ParseSet(a, nowMs()); return err }
	// getexString models GETEX on an existing string key.
	getexString = func(a [][]byte) error {
		g, err := ParseGetEx(a, nowMs())
		if err != nil {
			return err
		}
		return g.ExpireErr
	}
	// getexMissing models GETEX on a missing key: expiry errors are never
	// reported.
	getexMissing = func(a [][]byte) error { _, err := ParseGetEx(a, nowMs()); return err }
	setex        = func(a [][]byte) error { _, err := ParseSetEx(a, nowMs(), 1000); return err }
	psetex       = func(a [][]byte) error { _, err := ParseSetEx(a, nowMs(), 1); return err }
	expire       = func(a [][]byte) error { _, _, err := ParseExpire(a, nowMs(), 1000, false); return err }
	pexpire      = func(a [][]byte) error { _, _, err := ParseExpire(a, nowMs(), 1, false); return err }
	expireat     = func(a [][]byte) error { _, _, err := ParseExpire(a, nowMs(), 1000, true); return err }
	pexpireat    = func(a [][]byte) error { _, _, err := ParseExpire(a, nowMs(), 1, true); return err }
	scan         = func(a [][]byte) error { _, err := ParseScan(a); return err }
	incrby       = func(a [][]byte) error { _, err := ParseIncrBy(a[2], false); return err }
	decrby       = func(a [][]byte) error { _, err := ParseIncrBy(a[2], true); return err }
	// incrbyFrom models INCRBY/DECRBY on a key holding cur.
	incrbyFrom = func(cur string, decr bool) func(a [][]byte) error {
		return func(a [][]byte) error {
			n, err := ParseIncrBy(a[2], decr)
			if err != nil {
				return err
			}
			v, ok := ParseInt([]byte(cur))
			if !ok {
				return ErrNotInteger
			}
			_, err = AddInt(v, n)
			return err
		}
	}
	incrbyfloat = func(a [][]byte) error { _, err := IncrFloat(nil, nil, false, a[2]); return err }
	setrange    = func(a [][]byte) error {
		off, err := ParseSetRangeOffset(a[2])
		if err != nil || len(a[3]) == 0 {
			return err
		}
		return CheckStringLength(off, int64(len(a[3])), 512<<20)
	}
	getrange = func(a [][]byte) error {
		if _, err := ParseIntArg(a[2]); err != nil {
			return err
		}
		_, err := ParseIntArg(a[3])
		return err
	}
	selectDB = func(a [][]byte) error {
		db, err := ParseSelect(a[1])
		if err == nil && (db < 0 || db >= 16) {
			err = ErrDBIndexOutOfRange
		}
		return err
	}
	// hello models HELLO on a server whose default user has no password.
	hello = func(a [][]byte) error {
		h, err := ParseHello(a)
		if err != nil {
			return err
		}
		for _, o := range h.Opts {
			if o.Auth && string(o.User) != "default" {
				return ErrWrongPass
			}
			if !o.Auth {
				if err := CheckClientName(o.Name); err != nil {
					return err
				}
			}
		}
		return h.Err
	}
	// auth models AUTH on a server whose default user has no password.
	auth = func(a [][]byte) error {
		user, _, err := ParseAuth(a)
		switch {
		case err != nil:
			return err
		case user == nil:
			return ErrAuthNoPassword
		case string(user) != "default":
			return ErrWrongPass
		}
		return nil
	}
	clientSetName = func(a [][]byte) error { return CheckClientName(a[2]) }
	clientList    = func(a [][]byte) error { _, err := ParseClientList(a); return err }
	flush         = func(a [][]byte) error { _, err := ParseFlush(a); return err }
	commandList   = func(a [][]byte) error { _, err := ParseCommandList(a); return err }
	mset          = func(a [][]byte) error {
		if len(a)%2 == 0 {
			return Error(ErrArity(Lookup(a[0])))
		}
		return nil
	}
)

var liveCases = []liveCase{
	// Names, subcommands, arity.
	{name: "unknown", args: []string{"foo", "a", "b"}},
	{name: "unknown no args", args: []string{"nosuch"}},
	{name: "unknown NUL", args: []string{"fo\x00o", "a\x00b", "c"}},
	{name: "unknown CRLF", args: []string{"f\r\noo", "a\nb"}},
	{name: "unknown long name", args: []string{strings.Repeat("x", 200), strings.Repeat("a", 200), "b"}},
	{name: "unknown args 100+100", args: []string{"x", strings.Repeat("a", 100), strings.Repeat("b", 100), "c"}},
	{name: "unknown args 126", args: []string{"x", strings.Repeat("a", 126), "b"}},
	{name: "unknown args 125", args: []string{"x", strings.Repeat("a", 125), "b", "c"}},
	{name: "unknown many args", args: []string{"x", "a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k", "l", "m", "n", "o", "p", "q", "r", "s", "t", "u", "v", "w", "x", "y", "z", "aa", "bb", "cc", "dd", "ee", "ff", "gg", "hh", "ii", "jj", "kk", "ll"}},
	{name: "subcommand as name", args: []string{"client|setname", "x"}},
	{name: "unknown subcommand", args: []string{"CLIENT", "FOO"}},
	{name: "unknown subcommand lower", args: []string{"client", "foo"}},
	{name: "unknown subcommand NUL", args: []string{"Client", "f\x00oo\n"}},
	{name: "unknown subcommand long", args: []string{"CLIENT", strings.Repeat("y", 200)}},
	{name: "unknown COMMAND subcommand", args: []string{"COMMAND", "FOO"}},
	{name: "container alone", args: []string{"CLIENT"}},
	{name: "command alone", args: []string{"command", "count"}},
	{name: "subcommand arity", args: []string{"CLIENT", "SETNAME"}},
	{name: "subcommand arity help", args: []string{"CLIENT", "HELP", "x"}},
	{name: "subcommand arity count", args: []string{"COMMAND", "COUNT", "x"}},
	{name: "get arity", args: []string{"GET"}},
	{name: "set arity", args: []string{"set", "k"}},
	{name: "mget arity", args: []string{"MGET"}},
	{name: "echo arity", args: []string{"ECHO"}},
	{name: "ping arity", args: []string{"PING", "a", "b"}, ours: func(a [][]byte) error {
		return Error(ErrArity(Lookup(a[0])))
	}},
	{name: "mset odd", args: []string{"MSET", "a", "b", "c"}, ours: mset},
	{name: "msetnx odd", args: []string{"MSETNX", "a", "b", "c"}, ours: mset},
	{name: "mset even ok", args: []string{"MSET", "a", "b"}, ours: mset},
	{name: "getex arity", args: []string{"GETEX"}},

	// SET.
	{name: "set ex px", args: []string{"SET", "k", "v", "EX", "10", "PX", "10"}, ours: set},
	{name: "set nx xx", args: []string{"SET", "k", "v", "NX", "XX"}, ours: set},
	{name: "set xx nx", args: []string{"SET", "k", "v", "xx", "nx"}, ours: set},
	{name: "set nx nx", args: []string{"SET", "k", "v", "nx", "NX"}, ours: set},
	{name: "set ex 0", args: []string{"SET", "k", "v", "EX", "0"}, ours: set},
	{name: "set ex -1", args: []string{"SET", "k", "v", "EX", "-1"}, ours: set},
	{name: "set ex abc", args: []string{"SET", "k", "v", "EX", "abc"}, ours: set},
	{name: "set ex huge", args: []string{"SET", "k", "v", "EX", "9999999999999999"}, ours: set},
	{name: "set ex max/1000", args: []string{"SET", "k", "v", "EX", "9223372036854775"}, ours: set},
	{name: "set px max", args: []string{"SET", "k", "v", "PX", "9223372036854775807"}, ours: set},
	{name: "set px near max", args: []string{"SET", "k", "v", "PX", "9223372036854775000"}, ours: set},
	{name: "set px far", args: []string{"SET", "k", "v", "PX", "9223370000000000000"}, ours: set},
	{name: "set keepttl ex", args: []string{"SET", "k", "v", "KEEPTTL", "EX", "1"}, ours: set},
	{name: "set ex keepttl", args: []string{"SET", "k", "v", "EX", "1", "KEEPTTL"}, ours: set},
	{name: "set ex ex", args: []string{"SET", "k", "v", "EX", "1", "EX", "2"}, ours: set},
	{name: "set ex ex bad", args: []string{"SET", "k", "v", "EX", "1", "EX", "x"}, ours: set},
	{name: "set ex missing", args: []string{"SET", "k", "v", "EX"}, ours: set},
	{name: "set get nx", args: []string{"SET", "k", "v", "GET", "NX"}, ours: set},
	{name: "set exat 0", args: []string{"SET", "k", "v", "EXAT", "0"}, ours: set},
	{name: "set pxat 1", args: []string{"SET", "k", "v", "PXAT", "1"}, ours: set},
	{name: "set exat max/1000", args: []string{"SET", "k", "v", "EXAT", "9223372036854775"}, ours: set},
	{name: "set exat over", args: []string{"SET", "k", "v", "EXAT", "9223372036854776"}, ours: set},
	{name: "set pxat max", args: []string{"SET", "k", "v", "PXAT", "9223372036854775807"}, ours: set},
	{name: "set exat pxat", args: []string{"SET", "k", "v", "EXAT", "1", "PXAT", "1"}, ours: set},
	{name: "set persist", args: []string{"SET", "k", "v", "PERSIST"}, ours: set},
	{name: "set unknown", args: []string{"SET", "k", "v", "FOO"}, ours: set},
	{name: "set nx NUL", args: []string{"SET", "k", "v", "nx\x00zz"}, ours: set},
	{name: "set ex NUL value", args: []string{"SET", "k", "v", "EX", "10\x00"}, ours: set},
	{name: "set ex -0", args: []string{"SET", "k", "v", "EX", "-0"}, ours: set},
	{name: "set ex +5", args: []string{"SET", "k", "v", "EX", "+5"}, ours: set},
	{name: "set ex 05", args: []string{"SET", "k", "v", "EX", "05"}, ours: set},
	{name: "set ex space", args: []string{"SET", "k", "v", "EX", " 5"}, ours: set},
	{name: "set px ok", args: []string{"SET", "k", "v", "px", "100000", "xx", "get"}, ours: set},
	{name: "set keepttl get", args: []string{"set", "k", "v", "keepttl", "get", "xx"}, ours: set},

	// GETEX.
	{name: "getex nx", args: []string{"GETEX", "gk", "NX"}, ours: getexMissing},
	{name: "getex persist ex", args: []string{"GETEX", "gk", "PERSIST", "EX", "10"}, ours: getexMissing},
	{name: "getex ex persist", args: []string{"GETEX", "gk", "EX", "10", "PERSIST"}, ours: getexMissing},
	{name: "getex keepttl", args: []string{"GETEX", "gk", "KEEPTTL"}, ours: getexMissing},
	{name: "getex missing ex abc", args: []string{"GETEX", "missing", "EX", "abc"}, ours: getexMissing},
	{name: "getex missing ex 0", args: []string{"GETEX", "missing", "EX", "0"}, ours: getexMissing},
	{name: "getex ex abc", setup: [][]string{{"SET", "gk", "v"}}, args: []string{"GETEX", "gk", "EX", "abc"}, ours: getexString},
	{name: "getex ex 0", setup: [][]string{{"SET", "gk", "v"}}, args: []string{"GETEX", "gk", "EX", "0"}, ours: getexString},
	{name: "getex px max", setup: [][]string{{"SET", "gk", "v"}}, args: []string{"GETEX", "gk", "PX", "9223372036854775807"}, ours: getexString},
	{name: "getex ex ex", setup: [][]string{{"SET", "gk", "v"}}, args: []string{"GETEX", "gk", "EX", "10", "EX", "20"}, ours: getexString},
	{name: "getex persist", setup: [][]string{{"SET", "gk", "v"}}, args: []string{"GETEX", "gk", "persist"}, ours: getexString},
	{name: "getex exat", setup: [][]string{{"SET", "gk", "v"}}, args: []string{"GETEX", "gk", "exat", "99999999999"}, ours: getexString},

	// SETEX, PSETEX.
	{name: "setex 0", args: []string{"SETEX", "k", "0", "v"}, ours: setex},
	{name: "setex abc", args: []string{"SETEX", "k", "abc", "v"}, ours: setex},
	{name: "setex -5", args: []string{"SETEX", "k", "-5", "v"}, ours: setex},
	{name: "setex max/1000", args: []string{"SETEX", "k", "9223372036854775", "v"}, ours: setex},
	{name: "setex ok", args: []string{"SETEX", "k", "100", "v"}, ours: setex},
	{name: "psetex 0", args: []string{"PSETEX", "k", "0", "v"}, ours: psetex},
	{name: "psetex max", args: []string{"PSETEX", "k", "9223372036854775807", "v"}, ours: psetex},
	{name: "psetex ok", args: []string{"psetex", "k", "100000", "v"}, ours: psetex},

	// EXPIRE family.
	{name: "expire abc", args: []string{"EXPIRE", "k", "abc"}, ours: expire},
	{name: "expire nx xx", args: []string{"EXPIRE", "k", "10", "NX", "XX"}, ours: expire},
	{name: "expire gt lt", args: []string{"EXPIRE", "k", "10", "GT", "LT"}, ours: expire},
	{name: "expire nx gt", args: []string{"EXPIRE", "k", "10", "NX", "GT"}, ours: expire},
	{name: "expire lt nx", args: []string{"EXPIRE", "k", "10", "lt", "nx"}, ours: expire},
	{name: "expire xx gt", args: []string{"EXPIRE", "k", "10", "xx", "gt"}, ours: expire},
	{name: "expire unknown", args: []string{"EXPIRE", "k", "10", "FOO"}, ours: expire},
	{name: "expire unknown first", args: []string{"EXPIRE", "k", "abc", "FOO"}, ours: expire},
	{name: "expire unknown after conflict", args: []string{"EXPIRE", "k", "10", "NX", "XX", "FOO"}, ours: expire},
	{name: "expire unknown LF", args: []string{"EXPIRE", "k", "10", "foo\n"}, ours: expire},
	{name: "expire unknown CRLF both ends", args: []string{"EXPIRE", "k", "10", "\nfoo\r\n"}, ours: expire},
	{name: "expire unknown NUL", args: []string{"EXPIRE", "k", "10", "fo\x00o"}, ours: expire},
	{name: "expire nx NUL", args: []string{"EXPIRE", "k", "10", "nx\x00zz"}, ours: expire},
	{name: "expire overflow", args: []string{"EXPIRE", "k", "9223372036854776"}, ours: expire},
	{name: "expire underflow", args: []string{"EXPIRE", "k", "-9223372036854776"}, ours: expire},
	{name: "expire max/1000", args: []string{"EXPIRE", "k", "9223372036854775"}, ours: expire},
	{name: "expire min/1000", args: []string{"EXPIRE", "k", "-9223372036854775"}, ours: expire},
	{name: "pexpire max", args: []string{"PEXPIRE", "k", "9223372036854775807"}, ours: pexpire},
	{name: "pexpire min", args: []string{"PEXPIRE", "k", "-9223372036854775808"}, ours: pexpire},
	{name: "expireat max", args: []string{"EXPIREAT", "k", "9223372036854775807"}, ours: expireat},
	{name: "expireat max/1000", args: []string{"EXPIREAT", "k", "9223372036854775"}, ours: expireat},
	{name: "pexpireat max", args: []string{"PEXPIREAT", "k", "9223372036854775807"}, ours: pexpireat},
	{name: "pexpireat abc", args: []string{"pexpireat", "k", "1.5"}, ours: pexpireat},

	// SCAN.
	{name: "scan abc", args: []string{"SCAN", "abc"}, ours: scan},
	{name: "scan -1", args: []string{"SCAN", "-1"}, ours: scan},
	{name: "scan +5", args: []string{"SCAN", "+5"}, ours: scan},
	{name: "scan space", args: []string{"SCAN", " 5"}, ours: scan},
	{name: "scan trailing space", args: []string{"SCAN", "5 "}, ours: scan},
	{name: "scan empty", args: []string{"SCAN", ""}, ours: scan},
	{name: "scan sign only", args: []string{"SCAN", "-"}, ours: scan},
	{name: "scan 2^64", args: []string{"SCAN", "18446744073709551616"}, ours: scan},
	{name: "scan 2^64-1", args: []string{"SCAN", "18446744073709551615"}, ours: scan},
	{name: "scan -2^64+1", args: []string{"SCAN", "-18446744073709551615"}, ours: scan},
	{name: "scan hex", args: []string{"SCAN", "0x10"}, ours: scan},
	{name: "scan leading zeros", args: []string{"SCAN", "007"}, ours: scan},
	{name: "scan NUL", args: []string{"SCAN", "5\x00abc"}, ours: scan},
	{name: "scan count 0", args: []string{"SCAN", "0", "COUNT", "0"}, ours: scan},
	{name: "scan count -1", args: []string{"SCAN", "0", "COUNT", "-1"}, ours: scan},
	{name: "scan count abc", args: []string{"SCAN", "0", "COUNT", "abc"}, ours: scan},
	{name: "scan count missing", args: []string{"SCAN", "0", "COUNT"}, ours: scan},
	{name: "scan match missing", args: []string{"SCAN", "0", "MATCH"}, ours: scan},
	{name: "scan type missing", args: []string{"SCAN", "0", "TYPE"}, ours: scan},
	{name: "scan unknown", args: []string{"SCAN", "0", "FOO", "bar"}, ours: scan},
	{name: "scan type foo", args: []string{"SCAN", "0", "TYPE", "foo"}, ours: scan},
	{name: "scan count NUL", args: []string{"SCAN", "0", "count\x00x", "5"}, ours: scan},
	{name: "scan all", args: []string{"scan", "0", "match", "*", "count", "100", "type", "string"}, ours: scan},
	{name: "scan bad cursor and count", args: []string{"SCAN", "x", "COUNT", "0"}, ours: scan},

	// Numbers.
	{name: "incrby abc", args: []string{"INCRBY", "nk", "abc"}, ours: incrby},
	{name: "incrby space", args: []string{"INCRBY", "nk", "1 "}, ours: incrby},
	{name: "incrby 21 digits", args: []string{"INCRBY", "nk", "000000000000000000001"}, ours: incrby},
	{name: "decrby min", args: []string{"DECRBY", "nk", "-9223372036854775808"}, ours: decrby},
	{name: "decrby max", args: []string{"DECRBY", "nk2", "9223372036854775807"}, ours: decrby},
	{name: "incrby overflow", setup: [][]string{{"SET", "big", "9223372036854775807"}}, args: []string{"INCRBY", "big", "1"}, ours: incrbyFrom("9223372036854775807", false)},
	{name: "decr underflow", setup: [][]string{{"SET", "small", "-9223372036854775808"}}, args: []string{"DECRBY", "small", "1"}, ours: incrbyFrom("-9223372036854775808", true)},
	{name: "incrby not integer value", setup: [][]string{{"SET", "s", "12a"}}, args: []string{"INCRBY", "s", "1"}, ours: incrbyFrom("12a", false)},
	{name: "incrbyfloat abc", args: []string{"INCRBYFLOAT", "fk", "abc"}, ours: incrbyfloat},
	{name: "incrbyfloat inf", args: []string{"INCRBYFLOAT", "fk", "inf"}, ours: incrbyfloat},
	{name: "incrbyfloat nan", args: []string{"INCRBYFLOAT", "fk", "nan"}, ours: incrbyfloat},
	{name: "incrbyfloat 1e5000", args: []string{"INCRBYFLOAT", "fk", "1e5000"}, ours: incrbyfloat},
	{name: "incrbyfloat 1e-5000", args: []string{"INCRBYFLOAT", "fk", "1e-5000"}, ours: incrbyfloat},
	{name: "incrbyfloat space", args: []string{"INCRBYFLOAT", "fk", " 1"}, ours: incrbyfloat},
	{name: "incrbyfloat empty", args: []string{"INCRBYFLOAT", "fk", ""}, ours: incrbyfloat},
	{name: "incrbyfloat long", args: []string{"INCRBYFLOAT", "fk", "1" + strings.Repeat("0", 5200)}, ours: incrbyfloat},
	{name: "setrange -1", args: []string{"SETRANGE", "sk", "-1", "x"}, ours: setrange},
	{name: "setrange abc", args: []string{"SETRANGE", "sk", "abc", "x"}, ours: setrange},
	{name: "setrange too long", args: []string{"SETRANGE", "sk", "536870912", "x"}, ours: setrange},
	{name: "setrange overflow", args: []string{"SETRANGE", "sk", "9223372036854775807", "x"}, ours: setrange},
	{name: "setrange empty value", args: []string{"SETRANGE", "sk", "9223372036854775807", ""}, ours: setrange},
	{name: "getrange abc", args: []string{"GETRANGE", "k", "a", "1"}, ours: getrange},
	{name: "getrange end abc", args: []string{"GETRANGE", "k", "0", "1.0"}, ours: getrange},
	{name: "select 16", args: []string{"SELECT", "16"}, ours: selectDB},
	{name: "select -1", args: []string{"SELECT", "-1"}, ours: selectDB},
	{name: "select abc", args: []string{"SELECT", "abc"}, ours: selectDB},
	{name: "select int overflow", args: []string{"SELECT", "2147483648"}, ours: selectDB},
	{name: "select int underflow", args: []string{"SELECT", "-2147483649"}, ours: selectDB},
	{name: "select 0", args: []string{"SELECT", "0"}, ours: selectDB},

	// Connection commands.
	{name: "hello 4", args: []string{"HELLO", "4"}, ours: hello},
	{name: "hello 1", args: []string{"HELLO", "1"}, ours: hello},
	{name: "hello abc", args: []string{"HELLO", "abc"}, ours: hello},
	{name: "hello -0", args: []string{"HELLO", "-0"}, ours: hello},
	{name: "hello 03", args: []string{"HELLO", "03"}, ours: hello},
	{name: "hello foo", args: []string{"HELLO", "3", "FOO"}, ours: hello},
	{name: "hello auth short", args: []string{"HELLO", "3", "AUTH", "a"}, ours: hello},
	{name: "hello setname short", args: []string{"HELLO", "2", "SETNAME"}, ours: hello},
	{name: "hello setname space", args: []string{"HELLO", "3", "SETNAME", "a b"}, ours: hello},
	{name: "hello setname 0x80", args: []string{"HELLO", "2", "SETNAME", "x\x80"}, ours: hello},
	{name: "hello option NUL", args: []string{"HELLO", "3", "fo\x00o"}, ours: hello},
	{name: "hello wrong user", args: []string{"HELLO", "2", "setname", "ok", "auth", "a", "b"}, ours: hello},
	{name: "hello auth then bad name", args: []string{"HELLO", "2", "auth", "default", "b", "setname", "a b"}, ours: hello},
	{name: "hello bad name then bad option", args: []string{"HELLO", "2", "setname", "a b", "foo"}, ours: hello},
	{name: "hello ok", args: []string{"HELLO", "2", "SETNAME", "name1"}, ours: hello},
	{name: "hello alone", args: []string{"HELLO"}, ours: hello},
	{name: "auth three", args: []string{"AUTH", "a", "b", "c"}, ours: auth},
	{name: "auth nopass", args: []string{"AUTH", "x"}, ours: auth},
	{name: "auth wrong user", args: []string{"AUTH", "u", "p"}, ours: auth},
	{name: "auth default", args: []string{"AUTH", "default", "p"}, ours: auth},
	{name: "client setname space", args: []string{"CLIENT", "SETNAME", "a b"}, ours: clientSetName},
	{name: "client setname NUL", args: []string{"CLIENT", "SETNAME", "a\x00b"}, ours: clientSetName},
	{name: "client setname empty", args: []string{"CLIENT", "SETNAME", ""}, ours: clientSetName},
	{name: "client setname ok", args: []string{"client", "setname", "x~!"}, ours: clientSetName},
	{name: "client list type foo", args: []string{"CLIENT", "LIST", "TYPE", "foo"}, ours: clientList},
	{name: "client list type NUL", args: []string{"CLIENT", "LIST", "TYPE", "fo\x00o\n"}, ours: clientList},
	{name: "client list type master", args: []string{"CLIENT", "LIST", "TYPE", "master"}, ours: clientList},
	{name: "client list type Slave", args: []string{"CLIENT", "LIST", "TYPE", "Slave"}, ours: clientList},
	{name: "client list type replica x", args: []string{"CLIENT", "LIST", "TYPE", "replica", "x"}, ours: clientList},
	{name: "client list type missing", args: []string{"CLIENT", "LIST", "TYPE"}, ours: clientList},
	{name: "client list id abc", args: []string{"CLIENT", "LIST", "ID", "1", "abc"}, ours: clientList},
	{name: "client list id missing", args: []string{"CLIENT", "LIST", "id"}, ours: clientList},
	{name: "client list id ok", args: []string{"CLIENT", "LIST", "id", "1", "-5", "99"}, ours: clientList},
	{name: "client list foo", args: []string{"CLIENT", "LIST", "foo"}, ours: clientList},
	{name: "flushall foo", args: []string{"FLUSHALL", "foo"}, ours: flush},
	{name: "flushall two args", args: []string{"FLUSHALL", "a", "b"}, ours: flush},
	{name: "flushdb async", args: []string{"FLUSHDB", "async"}, ours: flush},
	{name: "flushdb SYNC", args: []string{"FLUSHDB", "SYNC"}, ours: flush},
	{name: "flushdb sync sync", args: []string{"FLUSHDB", "SYNC", "SYNC"}, ours: flush},
	{name: "flushdb sync NUL", args: []string{"FLUSHDB", "sync\x00x"}, ours: flush},
	{name: "command list filterby foo", args: []string{"COMMAND", "LIST", "FILTERBY", "foo", "x"}, ours: commandList},
	{name: "command list filterby short", args: []string{"COMMAND", "LIST", "FILTERBY", "aclcat"}, ours: commandList},
	{name: "command list filterby long", args: []string{"COMMAND", "LIST", "FILTERBY", "aclcat", "connection", "x"}, ours: commandList},
	{name: "command list foo", args: []string{"COMMAND", "LIST", "foo"}, ours: commandList},
	{name: "command list ok", args: []string{"COMMAND", "LIST", "filterby", "PATTERN", "x"}, ours: commandList},
}

// TestLiveErrors sends every case to redis-server and checks that our
// parsers fail exactly where Redis replies an error, with the same text.
func TestLiveErrors(t *testing.T) {
	c := liveRedis(t)
	for _, tc := range liveCases {
		t.Run(tc.name, func(t *testing.T) {
			for _, s := range tc.setup {
				do(t, c, s...)
			}
			v, raw := do(t, c, tc.args...)
			a := argv(tc.args)
			var ours error
			if s, msg := Resolve(a); s == nil {
				ours = Error(msg)
			} else if tc.ours != nil {
				ours = tc.ours(a)
			}
			switch {
			case ours == nil && v.Kind == '-':
				t.Errorf("redis replied %q, our parser accepted", v.Str)
			case ours != nil && v.Kind != '-':
				t.Errorf("redis replied %q, our parser failed: %q", raw, ours)
			case ours != nil && ours.Error() != string(v.Str):
				t.Errorf("error text differs:\nredis %q\n ours %q", v.Str, ours)
			}
		})
	}
}
