package cluster

import (
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"corral/internal/testkit"
)

// diffMode says how a differential step compares the two replies.
type diffMode uint8

const (
	// exact compares the raw bytes.
	exact diffMode = iota
	// near compares integer replies within a tolerance: TTL, PTTL,
	// EXPIRETIME and PEXPIRETIME of relative expiries depend on when each
	// server read its clock.
	near
	// unordered compares a complete SCAN (cursor 0) ignoring key order,
	// which depends on each server's hash layout.
	unordered
)

// diffStep is one command of a differential case.
type diffStep struct {
	args []string
	mode diffMode
	tol  int64 // for near
}

// same compares args' replies byte for byte.
func same(args ...string) diffStep { return diffStep{args: args, mode: exact} }

// approx compares args' integer replies within tol.
func approx(tol int64, args ...string) diffStep { return diffStep{args: args, mode: near, tol: tol} }

// anyOrder compares SCAN replies as sets of keys.
func anyOrder(args ...string) diffStep { return diffStep{args: args, mode: unordered} }

// diffMaxBulk is the proto-max-bulk-len of both servers in the
// differential test: Redis's smallest, 1mb, so the size limits of APPEND
// and SETRANGE are reached without huge values.
const diffMaxBulk = 1 << 20

// Timestamps used by differential cases.
const (
	future   = "4102444800"    // 2100-01-01, unix seconds
	futureMs = "4102444800123" // a little after, unix ms
)

// diffCases returns the differential test's command sequences, grouped by
// command. Each runs on an empty keyspace.
func diffCases() []struct {
	name  string
	steps []diffStep
} {
	type c = struct {
		name  string
		steps []diffStep
	}
	s := func(name string, steps ...diffStep) c { return c{name: name, steps: steps} }
	notInt := "9223372036854775808"
	return []c{
		// GET and SET.
		s("get missing", same("GET", "k")),
		s("set get", same("SET", "k", "v"), same("GET", "k")),
		s("set empty", same("SET", "k", ""), same("GET", "k"), same("STRLEN", "k"), same("EXISTS", "k")),
		s("set binary", same("SET", "k", "a\x00b\r\nc"), same("GET", "k")),
		s("set overwrite", same("SET", "k", "a"), same("SET", "k", "b"), same("GET", "k")),
		s("set nx missing", same("SET", "k", "v", "NX"), same("GET", "k")),
		s("set nx exists", same("SET", "k", "a"), same("SET", "k", "b", "NX"), same("GET", "k")),
		s("set xx missing", same("SET", "k", "v", "XX"), same("EXISTS", "k")),
		s("set xx exists", same("SET", "k", "a"), same("SET", "k", "b", "XX"), same("GET", "k")),
		s("set nx xx", same("SET", "k", "v", "NX", "XX"), same("SET", "k", "v", "XX", "NX")),
		s("set get missing", same("SET", "k", "v", "GET"), same("GET", "k")),
		s("set get exists", same("SET", "k", "a"), same("SET", "k", "b", "GET"), same("GET", "k")),
		s("set nx get exists", same("SET", "k", "a"), same("SET", "k", "b", "NX", "GET"), same("GET", "k")),
		s("set nx get missing", same("SET", "k", "b", "NX", "GET"), same("GET", "k")),
		s("set xx get missing", same("SET", "k", "b", "XX", "GET"), same("EXISTS", "k")),
		s("set get get", same("SET", "k", "a"), same("SET", "k", "b", "GET", "GET"), same("GET", "k")),
		s("set ex", same("SET", "k", "v", "EX", "100"), same("TTL", "k"), approx(1000, "PTTL", "k")),
		s("set px", same("SET", "k", "v", "PX", "100000"), same("TTL", "k"), approx(1000, "PTTL", "k"), approx(1, "EXPIRETIME", "k")),
		s("set exat", same("SET", "k", "v", "EXAT", future), same("EXPIRETIME", "k"), same("PEXPIRETIME", "k"), approx(2, "TTL", "k")),
		s("set pxat", same("SET", "k", "v", "PXAT", futureMs), same("PEXPIRETIME", "k"), same("EXPIRETIME", "k")),
		s("set exat past", same("SET", "k", "v", "EXAT", "1"), same("GET", "k"), same("EXISTS", "k"), same("TTL", "k")),
		s("set pxat past get", same("SET", "k", "a"), same("SET", "k", "b", "PXAT", "1", "GET"), same("GET", "k")),
		s("set ex zero", same("SET", "k", "v", "EX", "0"), same("EXISTS", "k")),
		s("set ex negative", same("SET", "k", "v", "EX", "-1")),
		s("set px zero", same("SET", "k", "v", "PX", "0")),
		s("set pxat zero", same("SET", "k", "v", "PXAT", "0")),
		s("set ex not integer", same("SET", "k", "v", "EX", "abc"), same("SET", "k", "v", "EX", "1.5"), same("SET", "k", "v", "EX", "")),
		s("set ex overflow", same("SET", "k", "v", "EX", "9223372036854775807"), same("SET", "k", "v", "EX", notInt)),
		s("set ex sum overflow", same("SET", "k", "v", "EX", "9223372036854775")),
		s("set px sum overflow", same("SET", "k", "v", "PX", "9223372036854775807")),
		s("set exat largest", same("SET", "k", "v", "EXAT", "9223372036854775"), same("PEXPIRETIME", "k"), same("EXPIRETIME", "k")),
		s("set ex without value", same("SET", "k", "v", "EX"), same("SET", "k", "v", "NX", "PX")),
		s("set ex twice", same("SET", "k", "v", "EX", "10", "EX", "20"), same("TTL", "k")),
		s("set ex px", same("SET", "k", "v", "EX", "10", "PX", "20"), same("SET", "k", "v", "PXAT", futureMs, "EXAT", future)),
		s("set keepttl", same("SET", "k", "v", "EX", "100"), same("SET", "k", "w", "KEEPTTL"), same("TTL", "k"), same("GET", "k")),
		s("set keepttl ex", same("SET", "k", "v", "KEEPTTL", "EX", "10"), same("SET", "k", "v", "EX", "10", "KEEPTTL")),
		s("set clears ttl", same("SET", "k", "v", "EX", "100"), same("SET", "k", "w"), same("TTL", "k")),
		s("set keepttl missing", same("SET", "k", "v", "KEEPTTL"), same("TTL", "k")),
		s("set unknown option", same("SET", "k", "v", "FOO"), same("SET", "k", "v", "PERSIST")),
		s("set lower case", same("set", "k", "v", "nx", "ex", "10"), same("ttl", "k")),
		s("set option nul", same("SET", "k", "v", "NX\x00junk"), same("GET", "k")),
		s("set xx get keepttl", same("SET", "k", "a", "PX", "100000"), same("SET", "k", "b", "XX", "GET", "KEEPTTL"), same("GET", "k"), approx(1000, "PTTL", "k")),
		s("set over expired", same("SET", "k", "a", "PXAT", "1"), same("SET", "k", "b", "NX"), same("GET", "k")),

		// SETNX, SETEX, PSETEX, GETSET, GETDEL.
		s("setnx", same("SETNX", "k", "a"), same("SETNX", "k", "b"), same("GET", "k")),
		s("setnx over expired", same("SET", "k", "a", "PXAT", "1"), same("SETNX", "k", "b"), same("GET", "k")),
		s("setex", same("SETEX", "k", "100", "v"), same("TTL", "k"), same("GET", "k")),
		s("setex zero", same("SETEX", "k", "0", "v"), same("SETEX", "k", "-5", "v")),
		s("setex not integer", same("SETEX", "k", "x", "v"), same("SETEX", "k", "1.0", "v")),
		s("setex overflow", same("SETEX", "k", "9223372036854775807", "v"), same("SETEX", "k", "9223372036854775", "v")),
		s("setex clears", same("SET", "k", "a"), same("SETEX", "k", "10", "b"), same("GET", "k"), same("TTL", "k")),
		s("psetex", same("PSETEX", "k", "100000", "v"), approx(1000, "PTTL", "k"), same("GET", "k")),
		s("psetex zero", same("PSETEX", "k", "0", "v"), same("PSETEX", "k", "9223372036854775807", "v")),
		s("getset missing", same("GETSET", "k", "a"), same("GET", "k")),
		s("getset clears ttl", same("SET", "k", "a", "EX", "100"), same("GETSET", "k", "b"), same("TTL", "k"), same("GET", "k")),
		s("getdel", same("SET", "k", "a"), same("GETDEL", "k"), same("GETDEL", "k"), same("EXISTS", "k")),

		// GETEX.
		s("getex missing", same("GETEX", "k"), same("GETEX", "k", "EX", "abc"), same("GETEX", "k", "PX", "0")),
		s("getex bad value", same("SET", "k", "a"), same("GETEX", "k", "EX", "abc"), same("GETEX", "k", "EX", "0"), same("GETEX", "k", "PXAT", "-1")),
		s("getex ex", same("SET", "k", "a"), same("GETEX", "k", "EX", "100"), same("TTL", "k")),
		s("getex px", same("SET", "k", "a"), same("GETEX", "k", "PX", "100000"), approx(1000, "PTTL", "k")),
		s("getex exat", same("SET", "k", "a"), same("GETEX", "k", "EXAT", future), same("EXPIRETIME", "k")),
		s("getex pxat past", same("SET", "k", "a"), same("GETEX", "k", "PXAT", "1"), same("EXISTS", "k")),
		s("getex persist", same("SET", "k", "a", "EX", "100"), same("GETEX", "k", "PERSIST"), same("TTL", "k"), same("GETEX", "k", "PERSIST")),
		s("getex plain", same("SET", "k", "a", "EX", "100"), same("GETEX", "k"), same("TTL", "k")),
		s("getex syntax", same("GETEX", "k", "PERSIST", "EX", "10"), same("GETEX", "k", "FOO"), same("GETEX", "k", "KEEPTTL"), same("GETEX", "k", "EX"), same("GETEX", "k", "NX")),
		s("getex ex twice", same("SET", "k", "a"), same("GETEX", "k", "EX", "10", "EX", "100"), same("TTL", "k")),

		// MGET, MSET, MSETNX.
		s("mget", same("SET", "a", "1"), same("SET", "c", "3"), same("MGET", "a", "b", "c", "a")),
		s("mset", same("MSET", "a", "1", "b", "2"), same("MGET", "a", "b")),
		s("mset odd", same("MSET", "a", "1", "b"), same("EXISTS", "a")),
		s("mset repeated", same("MSET", "a", "1", "a", "2"), same("GET", "a")),
		s("mset clears ttl", same("SET", "a", "1", "EX", "100"), same("MSET", "a", "2"), same("TTL", "a")),
		s("msetnx new", same("MSETNX", "a", "1", "b", "2"), same("MGET", "a", "b")),
		s("msetnx one exists", same("SET", "b", "x"), same("MSETNX", "a", "1", "b", "2"), same("MGET", "a", "b")),
		s("msetnx odd", same("MSETNX", "a", "1", "b")),
		s("msetnx repeated", same("MSETNX", "a", "1", "a", "2"), same("GET", "a")),
		s("msetnx over expired", same("SET", "a", "1", "PXAT", "1"), same("MSETNX", "a", "2"), same("GET", "a")),

		// INCR, DECR, INCRBY, DECRBY.
		s("incr missing", same("INCR", "k"), same("INCR", "k"), same("GET", "k")),
		s("incr not integer", same("SET", "k", "abc"), same("INCR", "k"), same("GET", "k")),
		s("incr leading zero", same("SET", "k", "012"), same("INCR", "k")),
		s("incr space", same("SET", "k", " 1"), same("INCR", "k"), same("SET", "k", "1 "), same("INCR", "k")),
		s("incr plus", same("SET", "k", "+1"), same("INCR", "k")),
		s("incr minus zero", same("SET", "k", "-0"), same("INCR", "k")),
		s("incr empty", same("SET", "k", ""), same("INCR", "k")),
		s("incr too long", same("SET", "k", "123456789012345678901"), same("INCR", "k")),
		s("incr max", same("SET", "k", "9223372036854775807"), same("INCR", "k"), same("GET", "k")),
		s("decr min", same("SET", "k", "-9223372036854775808"), same("DECR", "k"), same("INCR", "k")),
		s("incrby", same("INCRBY", "k", "10"), same("INCRBY", "k", "-3"), same("GET", "k")),
		s("incrby not integer", same("INCRBY", "k", "abc"), same("INCRBY", "k", "1.5"), same("INCRBY", "k", "-0"), same("INCRBY", "k", notInt), same("EXISTS", "k")),
		s("incrby overflow", same("SET", "k", "1"), same("INCRBY", "k", "9223372036854775807"), same("INCRBY", "k", "-9223372036854775808"), same("GET", "k")),
		s("decrby", same("DECRBY", "k", "5"), same("DECRBY", "k", "-7"), same("GET", "k")),
		s("decrby min", same("DECRBY", "k", "-9223372036854775808"), same("EXISTS", "k")),
		s("decrby overflow", same("SET", "k", "-2"), same("DECRBY", "k", "9223372036854775807"), same("GET", "k")),
		s("incr keeps ttl", same("SET", "k", "1", "EX", "100"), same("INCR", "k"), same("TTL", "k")),
		s("incr over expired", same("SET", "k", "5", "PXAT", "1"), same("INCR", "k"), same("TTL", "k")),

		// INCRBYFLOAT.
		s("incrbyfloat 10.5", same("INCRBYFLOAT", "k", "10.5"), same("GET", "k")),
		s("incrbyfloat 5.0e3", same("SET", "k", "10.50"), same("INCRBYFLOAT", "k", "0.1"), same("INCRBYFLOAT", "k", "5.0e3"), same("GET", "k")),
		s("incrbyfloat -0", same("INCRBYFLOAT", "k", "-0"), same("GET", "k"), same("INCRBYFLOAT", "k", "-0.0")),
		s("incrbyfloat long double", same("INCRBYFLOAT", "k", "3.0000000000000000001"), same("INCRBYFLOAT", "k", "0.1"), same("INCRBYFLOAT", "k", "0.2")),
		s("incrbyfloat huge", same("INCRBYFLOAT", "k", "1.7976931348623157e308"), same("INCRBYFLOAT", "k", "1e308"), same("INCRBYFLOAT", "k", "1e4000")),
		s("incrbyfloat out of range", same("INCRBYFLOAT", "k", "1e5000"), same("INCRBYFLOAT", "k", "1e-5000"), same("EXISTS", "k")),
		s("incrbyfloat inf", same("INCRBYFLOAT", "k", "inf"), same("INCRBYFLOAT", "k", "-Infinity"), same("SET", "k", "inf"), same("INCRBYFLOAT", "k", "1")),
		s("incrbyfloat nan", same("INCRBYFLOAT", "k", "nan"), same("INCRBYFLOAT", "k", "NaN")),
		s("incrbyfloat not float", same("INCRBYFLOAT", "k", "abc"), same("INCRBYFLOAT", "k", " 1"), same("INCRBYFLOAT", "k", "1 "), same("INCRBYFLOAT", "k", "")),
		s("incrbyfloat bad value", same("SET", "k", "abc"), same("INCRBYFLOAT", "k", "1"), same("SET", "k", "1.5x"), same("INCRBYFLOAT", "k", "1")),
		s("incrbyfloat hex", same("INCRBYFLOAT", "k", "0x10"), same("INCRBYFLOAT", "k", "0x1.8p1")),
		s("incrbyfloat int value", same("SET", "k", "5"), same("INCRBYFLOAT", "k", "2"), same("INCR", "k"), same("INCRBYFLOAT", "k", "-9.75")),
		s("incrbyfloat tiny", same("INCRBYFLOAT", "k", "1e-20"), same("GET", "k"), same("INCRBYFLOAT", "k", "123.456e-2")),
		s("incrbyfloat keeps ttl", same("SET", "k", "1", "EX", "100"), same("INCRBYFLOAT", "k", "1.5"), same("TTL", "k")),
		s("incrbyfloat big ints", same("SET", "k", "9223372036854775807"), same("INCRBYFLOAT", "k", "1"), same("INCRBYFLOAT", "k", "1e20")),

		// APPEND, STRLEN.
		s("append", same("APPEND", "k", "abc"), same("APPEND", "k", "def"), same("GET", "k"), same("STRLEN", "k")),
		s("append empty missing", same("APPEND", "k", ""), same("EXISTS", "k"), same("STRLEN", "k"), same("GET", "k")),
		s("append keeps ttl", same("SET", "k", "a", "EX", "100"), same("APPEND", "k", "b"), same("TTL", "k")),
		s("append to integer", same("SET", "k", "12"), same("APPEND", "k", "3"), same("INCR", "k")),
		s("append over limit", same("SETRANGE", "k", strconv.Itoa(diffMaxBulk-1), "x"), same("APPEND", "k", ""), same("APPEND", "k", "y"), same("STRLEN", "k")),
		s("strlen missing", same("STRLEN", "k")),

		// GETRANGE.
		s("getrange", same("SET", "k", "Hello World"),
			same("GETRANGE", "k", "0", "4"), same("GETRANGE", "k", "-5", "-1"), same("GETRANGE", "k", "6", "100"),
			same("GETRANGE", "k", "-100", "2"), same("GETRANGE", "k", "5", "3"), same("GETRANGE", "k", "-1", "-5"),
			same("GETRANGE", "k", "0", "-1"), same("GETRANGE", "k", "-1", "-1"), same("GETRANGE", "k", "100", "200"),
			same("GETRANGE", "k", "-100", "-50"), same("GETRANGE", "k", "3", "-100")),
		s("getrange missing", same("GETRANGE", "k", "0", "-1"), same("GETRANGE", "k", "5", "1")),
		s("getrange not integer", same("GETRANGE", "k", "a", "1"), same("GETRANGE", "k", "0", "b"), same("GETRANGE", "k", "0", notInt)),
		s("getrange empty", same("SET", "k", ""), same("GETRANGE", "k", "0", "-1"), same("GETRANGE", "k", "-1", "0")),
		s("getrange extremes", same("SET", "k", "Hello"), same("GETRANGE", "k", "-9223372036854775808", "9223372036854775807"), same("GETRANGE", "k", "9223372036854775807", "-9223372036854775808")),

		// SETRANGE.
		s("setrange missing", same("SETRANGE", "k", "5", "abc"), same("GET", "k")),
		s("setrange empty missing", same("SETRANGE", "k", "5", ""), same("EXISTS", "k"), same("SETRANGE", "k", "-1", "")),
		s("setrange empty existing", same("SET", "k", "hello"), same("SETRANGE", "k", "100", ""), same("SETRANGE", "k", "99999999999", ""), same("GET", "k")),
		s("setrange overwrite", same("SET", "k", "Hello World"), same("SETRANGE", "k", "6", "Redis"), same("GET", "k")),
		s("setrange extend", same("SET", "k", "abc"), same("SETRANGE", "k", "1", "XYZW"), same("GET", "k"), same("SETRANGE", "k", "0", "")),
		s("setrange bad offset", same("SETRANGE", "k", "-1", "x"), same("SETRANGE", "k", "x", "x"), same("SETRANGE", "k", "1.0", "x"), same("SETRANGE", "k", notInt, "x")),
		s("setrange too long", same("SETRANGE", "k", strconv.Itoa(diffMaxBulk), "x"), same("SETRANGE", "k", "9223372036854775807", "x"), same("EXISTS", "k")),
		s("setrange largest", same("SETRANGE", "k", strconv.Itoa(diffMaxBulk-2), "xy"), same("STRLEN", "k"), same("SETRANGE", "k", strconv.Itoa(diffMaxBulk-1), "xy")),
		s("setrange keeps ttl", same("SET", "k", "abc", "EX", "100"), same("SETRANGE", "k", "1", "z"), same("TTL", "k"), same("GET", "k")),

		// DEL, UNLINK, EXISTS, TOUCH, TYPE, DBSIZE.
		s("del", same("SET", "a", "1"), same("SET", "b", "2"), same("DEL", "a", "b", "c"), same("EXISTS", "a", "b")),
		s("del repeated", same("SET", "a", "1"), same("DEL", "a", "a"), same("DEL", "a")),
		s("unlink", same("MSET", "a", "1", "b", "2"), same("UNLINK", "a", "c", "b"), same("DBSIZE")),
		s("exists repeated", same("SET", "a", "1"), same("EXISTS", "a", "a", "b", "a")),
		s("touch", same("SET", "a", "1"), same("TOUCH", "a", "b", "a"), same("TOUCH", "x")),
		s("type", same("SET", "a", "1"), same("TYPE", "a"), same("TYPE", "b")),
		s("type expired", same("SET", "a", "1", "PXAT", "1"), same("TYPE", "a"), same("EXISTS", "a")),
		s("dbsize", same("DBSIZE"), same("MSET", "a", "1", "b", "2", "c", "3"), same("DEL", "b"), same("DBSIZE")),

		// EXPIRE, PEXPIRE, EXPIREAT, PEXPIREAT.
		s("expire missing", same("EXPIRE", "k", "100"), same("PEXPIRE", "k", "100"), same("EXPIREAT", "k", future), same("PEXPIREAT", "k", futureMs)),
		s("expire", same("SET", "k", "v"), same("EXPIRE", "k", "100"), same("TTL", "k"), approx(1000, "PTTL", "k")),
		s("pexpire", same("SET", "k", "v"), same("PEXPIRE", "k", "100000"), same("TTL", "k"), approx(1000, "PTTL", "k")),
		s("expireat", same("SET", "k", "v"), same("EXPIREAT", "k", future), same("EXPIRETIME", "k"), same("PEXPIRETIME", "k"), approx(2, "TTL", "k")),
		s("pexpireat", same("SET", "k", "v"), same("PEXPIREAT", "k", futureMs), same("PEXPIRETIME", "k"), same("EXPIRETIME", "k")),
		s("expire zero", same("SET", "k", "v"), same("EXPIRE", "k", "0"), same("EXISTS", "k")),
		s("expire negative", same("SET", "k", "v"), same("EXPIRE", "k", "-10"), same("EXISTS", "k")),
		s("expireat past", same("SET", "k", "v"), same("EXPIREAT", "k", "1"), same("EXISTS", "k")),
		s("pexpireat negative", same("SET", "k", "v"), same("PEXPIREAT", "k", "-1"), same("TTL", "k")),
		s("expire not integer", same("SET", "k", "v"), same("EXPIRE", "k", "abc"), same("EXPIRE", "k", "1.5"), same("PEXPIRE", "k", ""), same("TTL", "k")),
		s("expire overflow", same("EXPIRE", "k", "9223372036854775807"), same("EXPIRE", "k", "-9223372036854775807"), same("PEXPIRE", "k", "9223372036854775807"), same("EXPIREAT", "k", "9223372036854775807")),
		s("expire overflow name", same("ExPiRe", "k", "9223372036854775807"), same("pexpireAT", "k", "-9223372036854775808")),
		s("pexpireat largest", same("SET", "k", "v"), same("PEXPIREAT", "k", "9223372036854775807"), same("PEXPIRETIME", "k"), same("EXPIRETIME", "k"), approx(1000, "PTTL", "k")),
		s("expire nx", same("SET", "k", "v"), same("EXPIRE", "k", "100", "NX"), same("EXPIRE", "k", "200", "NX"), same("TTL", "k")),
		s("expire xx", same("SET", "k", "v"), same("EXPIRE", "k", "100", "XX"), same("EXPIRE", "k", "100"), same("EXPIRE", "k", "200", "XX"), same("TTL", "k")),
		s("expire gt", same("SET", "k", "v"), same("EXPIRE", "k", "100", "GT"), same("EXPIRE", "k", "100"), same("EXPIRE", "k", "50", "GT"), same("EXPIRE", "k", "99", "GT"), same("EXPIRE", "k", "200", "GT"), same("TTL", "k")),
		s("expire lt", same("SET", "k", "v"), same("EXPIRE", "k", "100", "LT"), same("EXPIRE", "k", "200", "LT"), same("EXPIRE", "k", "50", "LT"), same("TTL", "k")),
		s("expire xx gt", same("SET", "k", "v"), same("EXPIRE", "k", "100", "XX", "GT"), same("EXPIRE", "k", "100"), same("EXPIRE", "k", "200", "GT", "XX"), same("TTL", "k")),
		s("expire lt past", same("SET", "k", "v", "EX", "100"), same("EXPIRE", "k", "-1", "GT"), same("EXPIRE", "k", "-1", "LT"), same("EXISTS", "k")),
		s("expire nx past", same("SET", "k", "v"), same("PEXPIREAT", "k", "1", "NX"), same("EXISTS", "k")),
		s("expire option conflicts", same("EXPIRE", "k", "1", "NX", "XX"), same("EXPIRE", "k", "1", "NX", "GT"), same("EXPIRE", "k", "1", "LT", "NX"), same("EXPIRE", "k", "1", "GT", "LT"), same("EXPIRE", "k", "1", "NX", "NX")),
		s("expire unsupported option", same("EXPIRE", "k", "10", "FOO"), same("EXPIRE", "k", "abc", "FOO"), same("PEXPIREAT", "k", "1", "NX", "bar\x00baz"), same("EXPIRE", "k", "abc", "NX", "XX")),
		s("expire lower case", same("SET", "k", "v"), same("expire", "k", "10", "nx"), same("ttl", "k")),

		// TTL, PTTL, EXPIRETIME, PEXPIRETIME, PERSIST.
		s("ttl missing", same("TTL", "k"), same("PTTL", "k"), same("EXPIRETIME", "k"), same("PEXPIRETIME", "k")),
		s("ttl none", same("SET", "k", "v"), same("TTL", "k"), same("PTTL", "k"), same("EXPIRETIME", "k"), same("PEXPIRETIME", "k")),
		s("persist", same("SET", "k", "v", "EX", "100"), same("PERSIST", "k"), same("PERSIST", "k"), same("TTL", "k"), same("PERSIST", "missing")),

		// SCAN.
		s("scan empty", same("SCAN", "0")),
		s("scan all", same("MSET", "a", "1", "b", "2", "c", "3"), anyOrder("SCAN", "0")),
		s("scan match", same("MSET", "foo", "1", "bar", "2", "food", "3"), anyOrder("SCAN", "0", "MATCH", "foo*"), anyOrder("SCAN", "0", "MATCH", "[bf]?[or]"), same("SCAN", "0", "MATCH", "x*")),
		s("scan count", same("MSET", "a", "1", "b", "2", "c", "3"), anyOrder("SCAN", "0", "COUNT", "100"), anyOrder("SCAN", "0", "COUNT", "9223372036854775807")),
		s("scan type", same("MSET", "a", "1", "b", "2"), anyOrder("SCAN", "0", "TYPE", "string"), anyOrder("SCAN", "0", "TYPE", "STRING"), same("SCAN", "0", "TYPE", "list"), same("SCAN", "0", "TYPE", "none"), anyOrder("SCAN", "0", "TYPE", "string\x00x")),
		s("scan all options", same("MSET", "ka", "1", "kb", "2", "x", "3"), anyOrder("scan", "0", "match", "k*", "count", "50", "type", "String")),
		s("scan errors", same("SCAN", "abc"), same("SCAN", "-"), same("SCAN", "0", "COUNT", "0"), same("SCAN", "0", "COUNT", "-1"), same("SCAN", "0", "COUNT", "abc"), same("SCAN", "0", "FOO"), same("SCAN", "0", "MATCH"), same("SCAN", "0", "TYPE")),
		s("scan expired", same("SET", "a", "1", "PXAT", "1"), same("SET", "b", "2"), anyOrder("SCAN", "0")),

		// FLUSHALL, FLUSHDB.
		s("flushall", same("MSET", "a", "1", "b", "2"), same("FLUSHALL"), same("DBSIZE"), same("GET", "a")),
		s("flushall options", same("FLUSHALL", "ASYNC"), same("FLUSHALL", "sync"), same("FLUSHALL", "Async\x00x")),
		s("flushall bad", same("FLUSHALL", "foo"), same("FLUSHALL", "sync", "async"), same("FLUSHALL", "")),
		s("flushdb", same("SET", "a", "1"), same("FLUSHDB"), same("DBSIZE"), same("FLUSHDB", "SYNC"), same("FLUSHDB", "ASYNC"), same("FLUSHDB", "bad")),
	}
}

// TestExecMatchesRedis runs every differential case against a private
// redis-server 7.0.15 and against Store.exec, in RESP2 and RESP3, and
// compares the raw replies (see diffMode for the exceptions). Skips when
// redis-server is not installed.
func TestExecMatchesRedis(t *testing.T) {
	addr := testkit.StartRedis(t, "--databases", "1", "--proto-max-bulk-len", "1mb")
	cases := diffCases()
	if len(cases) < 120 {
		t.Fatalf("only %d differential cases", len(cases))
	}
	for _, proto := range []int{2, 3} {
		rc := testkit.Dial(t, addr)
		if proto == 3 {
			if r := rc.Do("HELLO", "3"); !strings.HasPrefix(r, "%") {
				t.Fatalf("HELLO 3: %q", r)
			}
		}
		s := newExecStore(t, nil, diffMaxBulk)
		for _, tc := range cases {
			t.Run("resp"+strconv.Itoa(proto)+"/"+tc.name, func(t *testing.T) {
				if r := rc.Do("FLUSHALL"); r != ok {
					t.Fatalf("redis FLUSHALL: %q", r)
				}
				s.eng.Flush()
				for i, st := range tc.steps {
					want := rc.Do(st.args...)
					got := execReply(s, proto, time.Now(), st.args...)
					if msg := diffReplies(st, got, want); msg != "" {
						t.Errorf("step %d %q: %s\n corral: %q\n  redis: %q", i, st.args, msg, got, want)
					}
				}
			})
		}
	}
}

// diffReplies compares corral's reply got with Redis's want for step st
// and describes the difference, or returns "" when they agree.
func diffReplies(st diffStep, got, want string) string {
	switch st.mode {
	case near:
		g, gerr := strconv.ParseInt(strings.TrimSuffix(strings.TrimPrefix(got, ":"), "\r\n"), 10, 64)
		w, werr := strconv.ParseInt(strings.TrimSuffix(strings.TrimPrefix(want, ":"), "\r\n"), 10, 64)
		if gerr != nil || werr != nil || !strings.HasPrefix(got, ":") || !strings.HasPrefix(want, ":") {
			return "not both integer replies"
		}
		if g < w-st.tol || g > w+st.tol {
			return "integers differ by more than " + strconv.FormatInt(st.tol, 10)
		}
		return ""
	case unordered:
		gc, gk, gok := splitScan(got)
		wc, wk, wok := splitScan(want)
		if !gok || !wok {
			if got != want {
				return "replies differ"
			}
			return ""
		}
		if gc != "0" || wc != "0" {
			return "SCAN did not complete in one call"
		}
		slices.Sort(gk)
		slices.Sort(wk)
		if !slices.Equal(gk, wk) {
			return "SCAN key sets differ"
		}
		return ""
	default:
		if got != want {
			return "replies differ"
		}
		return ""
	}
}

// splitScan parses a raw SCAN reply (RESP2 or RESP3: the same bytes) into
// its cursor and keys; ok is false for any other reply.
func splitScan(raw string) (cursor string, keys []string, ok bool) {
	lines := strings.Split(raw, "\r\n")
	if len(lines) < 5 || lines[0] != "*2" || !strings.HasPrefix(lines[1], "$") || !strings.HasPrefix(lines[3], "*") {
		return "", nil, false
	}
	n, err := strconv.Atoi(lines[3][1:])
	if err != nil || len(lines) != 4+2*n+1 {
		return "", nil, false
	}
	for i := range n {
		keys = append(keys, lines[5+2*i])
	}
	return lines[2], keys, true
}
