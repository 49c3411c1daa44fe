package cluster

import (
	"strconv"
	"testing"
	"time"

	"corral/internal/clock"
	"corral/internal/command"
	"corral/internal/resp"
)

// execEpochMs is the fake clock's start in unit tests, unix ms:
// 2023-11-14T22:13:20Z.
const execEpochMs = 1_700_000_000_000

// newExecStore returns a Store on a loopback port-0 config, with clk and
// proto-max-bulk-len maxBulk (0 keeps the default); it is never run.
func newExecStore(t testing.TB, clk clock.Clock, maxBulk int64) *Store {
	t.Helper()
	cfg := DefaultConfig()
	cfg.Server.Addr = "127.0.0.1:0"
	cfg.Clock = clk
	cfg.Engine.Partitions = 64
	if maxBulk > 0 {
		cfg.Server.ProtoMaxBulkLen = maxBulk
	}
	s, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return s
}

// argv converts strings to a command's argument vector.
func argv(args ...string) [][]byte {
	out := make([][]byte, len(args))
	for i, a := range args {
		out[i] = []byte(a)
	}
	return out
}

// execReply resolves args as the server would (unknown command and arity
// errors included) and runs them through s.exec at now, returning the raw
// reply in protocol proto (2 or 3).
func execReply(s *Store, proto int, now time.Time, args ...string) string {
	av := argv(args...)
	spec, errText := command.Resolve(av)
	w := resp.Writer{Proto: proto}
	if spec == nil {
		w.Error(errText)
		return string(w.Bytes())
	}
	s.exec(&w, spec, av, now)
	return string(w.Bytes())
}

// unitStep is one command and its expected raw reply, run after the fake
// clock advanced by advance.
type unitStep struct {
	advance time.Duration
	args    []string
	want    string
}

// do expects want from args.
func do(want string, args ...string) unitStep { return unitStep{args: args, want: want} }

// after advances the clock by d, then expects want from args.
func after(d time.Duration, want string, args ...string) unitStep {
	return unitStep{advance: d, args: args, want: want}
}

// Raw replies used throughout the tests.
const (
	ok    = "+OK\r\n"
	null2 = "$-1\r\n"
	null3 = "_\r\n"
	empty = "$0\r\n\r\n"
)

// bulk returns s as a raw bulk string reply.
func bulk(s string) string { return "$" + strconv.Itoa(len(s)) + "\r\n" + s + "\r\n" }

// num returns n as a raw integer reply.
func num(n int64) string { return ":" + itoa(n) + "\r\n" }

// errReply returns the raw error reply of text.
func errReply(text string) string { return "-" + text + "\r\n" }

// TestExec runs command sequences through Store.exec on a fake clock and
// checks every raw reply.
func TestExec(t *testing.T) {
	tests := []struct {
		name    string
		proto   int   // 0 means RESP2
		maxBulk int64 // proto-max-bulk-len, 0 for the default
		steps   []unitStep
	}{
		{name: "get missing", steps: []unitStep{do(null2, "GET", "k")}},
		{name: "get missing resp3", proto: 3, steps: []unitStep{do(null3, "GET", "k"), do("*2\r\n_\r\n_\r\n", "MGET", "a", "b")}},
		{name: "set get", steps: []unitStep{do(ok, "SET", "k", "v"), do(bulk("v"), "GET", "k")}},
		{name: "set binary", steps: []unitStep{do(ok, "SET", "k", "a\x00\r\nb"), do(bulk("a\x00\r\nb"), "GET", "k")}},
		{name: "set ex expires", steps: []unitStep{
			do(ok, "SET", "k", "v", "EX", "10"),
			after(9999*time.Millisecond, bulk("v"), "GET", "k"),
			after(time.Millisecond, null2, "GET", "k"),
			do(num(-2), "TTL", "k"),
		}},
		{name: "set px ttl rounding", steps: []unitStep{
			do(ok, "SET", "k", "v", "PX", "1500"),
			do(num(2), "TTL", "k"),
			after(1*time.Millisecond, num(1), "TTL", "k"),
			do(num(1499), "PTTL", "k"),
			do(num(1_700_000_001_500), "PEXPIRETIME", "k"),
			do(num(1_700_000_002), "EXPIRETIME", "k"),
			after(998*time.Millisecond, num(1), "TTL", "k"),
			after(2*time.Millisecond, num(0), "TTL", "k"),
			do(num(499), "PTTL", "k"),
		}},
		{name: "set exat pxat", steps: []unitStep{
			do(ok, "SET", "k", "v", "EXAT", "1700000100"),
			do(num(100_000), "PTTL", "k"),
			do(ok, "SET", "k", "v", "PXAT", "1700000000001"),
			do(num(1), "PTTL", "k"),
			after(time.Millisecond, null2, "GET", "k"),
		}},
		{name: "set exat past", steps: []unitStep{
			do(ok, "SET", "k", "v", "EXAT", "1699999999"),
			do(null2, "GET", "k"),
			do(num(0), "DBSIZE"),
		}},
		{name: "set keepttl", steps: []unitStep{
			do(ok, "SET", "k", "a", "EX", "100"),
			after(time.Second, ok, "SET", "k", "b", "KEEPTTL"),
			do(num(99), "TTL", "k"),
			do(ok, "SET", "k", "c"),
			do(num(-1), "TTL", "k"),
			do(ok, "SET", "n", "c", "KEEPTTL"),
			do(num(-1), "TTL", "n"),
		}},
		{name: "set nx xx get", steps: []unitStep{
			do(null2, "SET", "k", "a", "XX"),
			do(ok, "SET", "k", "a", "NX"),
			do(null2, "SET", "k", "b", "NX"),
			do(bulk("a"), "SET", "k", "c", "NX", "GET"),
			do(bulk("a"), "SET", "k", "d", "XX", "GET"),
			do(bulk("d"), "GET", "k"),
			do(null2, "SET", "m", "x", "XX", "GET"),
			do(null2, "GET", "m"),
			do(errReply("ERR syntax error"), "SET", "k", "v", "NX", "XX"),
		}},
		{name: "set over expired key", steps: []unitStep{
			do(ok, "SET", "k", "a", "PX", "5"),
			after(5*time.Millisecond, ok, "SET", "k", "b", "NX"),
			do(bulk("b"), "GET", "k"),
			do(num(-1), "PTTL", "k"),
		}},
		{name: "set get resp3", proto: 3, steps: []unitStep{
			do(null3, "SET", "k", "a", "GET"),
			do(null3, "SET", "k", "b", "NX"),
			do(bulk("a"), "SET", "k", "b", "GET"),
		}},
		{name: "setnx", steps: []unitStep{do(num(1), "SETNX", "k", "a"), do(num(0), "SETNX", "k", "b"), do(bulk("a"), "GET", "k")}},
		{name: "setex psetex", steps: []unitStep{
			do(ok, "SETEX", "k", "10", "v"),
			do(num(10_000), "PTTL", "k"),
			do(ok, "PSETEX", "k", "10", "w"),
			do(num(10), "PTTL", "k"),
			after(10*time.Millisecond, null2, "GET", "k"),
			do(errReply("ERR invalid expire time in 'setex' command"), "SETEX", "k", "0", "v"),
			do(errReply("ERR invalid expire time in 'psetex' command"), "PSETEX", "k", "-1", "v"),
			do(errReply("ERR value is not an integer or out of range"), "SETEX", "k", "1.5", "v"),
		}},
		{name: "getset getdel", steps: []unitStep{
			do(null2, "GETSET", "k", "a"),
			do(ok, "SET", "k", "b", "EX", "100"),
			do(bulk("b"), "GETSET", "k", "c"),
			do(num(-1), "TTL", "k"),
			do(bulk("c"), "GETDEL", "k"),
			do(null2, "GETDEL", "k"),
			do(num(0), "EXISTS", "k"),
		}},
		{name: "getex", steps: []unitStep{
			do(null2, "GETEX", "k", "EX", "nope"),
			do(errReply("ERR syntax error"), "GETEX", "k", "FOO"),
			do(ok, "SET", "k", "v"),
			do(errReply("ERR value is not an integer or out of range"), "GETEX", "k", "EX", "nope"),
			do(errReply("ERR invalid expire time in 'getex' command"), "GETEX", "k", "PX", "0"),
			do(bulk("v"), "GETEX", "k"),
			do(bulk("v"), "GETEX", "k", "EX", "50"),
			do(num(50), "TTL", "k"),
			do(bulk("v"), "GETEX", "k", "PERSIST"),
			do(num(-1), "TTL", "k"),
			do(bulk("v"), "GETEX", "k", "PXAT", "1700000000000"),
			do(num(0), "EXISTS", "k"),
		}},
		{name: "mget mset msetnx", steps: []unitStep{
			do(ok, "MSET", "a", "1", "b", "2", "a", "3"),
			do("*3\r\n"+bulk("3")+bulk("2")+null2, "MGET", "a", "b", "c"),
			do(errReply("ERR wrong number of arguments for 'mset' command"), "MSET", "a", "1", "b"),
			do(errReply("ERR wrong number of arguments for 'msetnx' command"), "MSETNX", "a", "1", "b"),
			do(num(0), "MSETNX", "c", "1", "a", "2"),
			do(num(0), "EXISTS", "c"),
			do(num(1), "MSETNX", "c", "1", "d", "2", "c", "4"),
			do("*2\r\n"+bulk("4")+bulk("2"), "MGET", "c", "d"),
		}},
		{name: "incr family", steps: []unitStep{
			do(num(1), "INCR", "k"),
			do(num(11), "INCRBY", "k", "10"),
			do(num(10), "DECR", "k"),
			do(num(5), "DECRBY", "k", "5"),
			do(bulk("5"), "GET", "k"),
			do(errReply("ERR decrement would overflow"), "DECRBY", "k", "-9223372036854775808"),
			do(ok, "SET", "k", "9223372036854775807"),
			do(errReply("ERR increment or decrement would overflow"), "INCR", "k"),
			do(ok, "SET", "k", "012"),
			do(errReply("ERR value is not an integer or out of range"), "INCR", "k"),
			do(errReply("ERR value is not an integer or out of range"), "INCRBY", "k", "1.0"),
		}},
		{name: "incr keeps ttl", steps: []unitStep{
			do(ok, "SET", "k", "1", "PX", "100"),
			do(num(2), "INCR", "k"),
			do(bulk("3.5"), "INCRBYFLOAT", "k", "1.5"),
			do(num(4), "APPEND", "k", "0"),
			do(num(5), "SETRANGE", "k", "4", "1"),
			do(num(100), "PTTL", "k"),
			do(bulk("3.501"), "GET", "k"),
		}},
		{name: "incrbyfloat", steps: []unitStep{
			do(bulk("10.5"), "INCRBYFLOAT", "k", "10.5"),
			do(bulk("5010.5"), "INCRBYFLOAT", "k", "5.0e3"),
			do(bulk("5010.5"), "INCRBYFLOAT", "k", "-0"),
			do(errReply("ERR increment would produce NaN or Infinity"), "INCRBYFLOAT", "k", "inf"),
			do(errReply("ERR value is not a valid float"), "INCRBYFLOAT", "k", "abc"),
			do(ok, "SET", "k", "0.1"),
			do(bulk("0.3"), "INCRBYFLOAT", "k", "0.2"),
		}},
		{name: "append strlen", steps: []unitStep{
			do(num(0), "STRLEN", "k"),
			do(num(0), "APPEND", "k", ""),
			do(num(1), "EXISTS", "k"),
			do(num(3), "APPEND", "k", "abc"),
			do(num(6), "APPEND", "k", "def"),
			do(num(6), "STRLEN", "k"),
			do(bulk("abcdef"), "GET", "k"),
		}},
		{name: "append limit", maxBulk: 8, steps: []unitStep{
			do(num(8), "APPEND", "k", "12345678"),
			do(errReply("ERR string exceeds maximum allowed size (proto-max-bulk-len)"), "APPEND", "k", "9"),
			do(num(0), "APPEND", "e", ""),
			do(num(8), "APPEND", "e", "12345678"),
		}},
		{name: "getrange", steps: []unitStep{
			do(empty, "GETRANGE", "k", "0", "-1"),
			do(ok, "SET", "k", "Hello World"),
			do(bulk("Hello"), "GETRANGE", "k", "0", "4"),
			do(bulk("World"), "GETRANGE", "k", "-5", "-1"),
			do(bulk("World"), "GETRANGE", "k", "6", "100"),
			do(empty, "GETRANGE", "k", "-1", "-5"),
			do(empty, "GETRANGE", "k", "5", "3"),
			do(errReply("ERR value is not an integer or out of range"), "GETRANGE", "k", "0", "x"),
		}},
		{name: "setrange", maxBulk: 16, steps: []unitStep{
			do(num(0), "SETRANGE", "k", "3", ""),
			do(num(0), "EXISTS", "k"),
			do(num(5), "SETRANGE", "k", "3", "ab"),
			do(bulk("\x00\x00\x00ab"), "GET", "k"),
			do(num(5), "SETRANGE", "k", "0", "XY"),
			do(bulk("XY\x00ab"), "GET", "k"),
			do(num(5), "SETRANGE", "k", "100", ""),
			do(num(16), "SETRANGE", "k", "15", "z"),
			do(errReply("ERR string exceeds maximum allowed size (proto-max-bulk-len)"), "SETRANGE", "k", "16", "z"),
			do(errReply("ERR offset is out of range"), "SETRANGE", "k", "-1", "z"),
			do(errReply("ERR value is not an integer or out of range"), "SETRANGE", "k", "x", "z"),
		}},
		{name: "del exists touch type", steps: []unitStep{
			do(ok, "MSET", "a", "1", "b", "2"),
			do(num(3), "EXISTS", "a", "a", "b", "c"),
			do(num(2), "TOUCH", "a", "c", "b"),
			do("+string\r\n", "TYPE", "a"),
			do("+none\r\n", "TYPE", "c"),
			do(num(1), "DEL", "a", "a", "c"),
			do(num(1), "UNLINK", "b"),
			do(num(0), "DBSIZE"),
		}},
		{name: "expire conditions", steps: []unitStep{
			do(num(0), "EXPIRE", "k", "10"),
			do(ok, "SET", "k", "v"),
			do(num(0), "EXPIRE", "k", "10", "XX"),
			do(num(0), "EXPIRE", "k", "10", "GT"),
			do(num(1), "EXPIRE", "k", "100", "LT"),
			do(num(0), "EXPIRE", "k", "10", "NX"),
			do(num(0), "EXPIRE", "k", "200", "LT"),
			do(num(1), "EXPIRE", "k", "200", "GT"),
			do(num(1), "PEXPIRE", "k", "5000", "XX", "LT"),
			do(num(5000), "PTTL", "k"),
			do(num(1), "EXPIREAT", "k", "1700000010"),
			do(num(1_700_000_010), "EXPIRETIME", "k"),
			do(num(1), "PEXPIREAT", "k", "1700000010123"),
			do(num(1_700_000_010_123), "PEXPIRETIME", "k"),
			do(errReply("ERR NX and XX, GT or LT options at the same time are not compatible"), "EXPIRE", "k", "1", "NX", "GT"),
			do(errReply("ERR GT and LT options at the same time are not compatible"), "EXPIRE", "k", "1", "GT", "LT"),
			do(errReply("ERR Unsupported option foo"), "EXPIRE", "k", "1", "foo"),
			do(errReply("ERR invalid expire time in 'expire' command"), "EXPIRE", "k", "9223372036854775807"),
			do(num(1), "PERSIST", "k"),
			do(num(0), "PERSIST", "k"),
			do(num(0), "PERSIST", "missing"),
			do(num(-1), "TTL", "k"),
		}},
		{name: "expire past deletes", steps: []unitStep{
			do(ok, "MSET", "a", "1", "b", "2", "c", "3"),
			do(num(1), "EXPIRE", "a", "0"),
			do(num(1), "PEXPIREAT", "b", "1700000000000"),
			do(num(1), "EXPIREAT", "c", "-5"),
			do(num(0), "DBSIZE"),
			do(num(-2), "TTL", "a"),
		}},
		{name: "flush", steps: []unitStep{
			do(ok, "MSET", "a", "1", "b", "2"),
			do(ok, "FLUSHALL"),
			do(num(0), "DBSIZE"),
			do(ok, "SET", "a", "1"),
			do(ok, "FLUSHDB", "async"),
			do(ok, "FLUSHALL", "SYNC"),
			do(errReply("ERR syntax error"), "FLUSHALL", "now"),
			do(errReply("ERR syntax error"), "FLUSHDB", "sync", "async"),
		}},
		{name: "scan one key", steps: []unitStep{
			do("*2\r\n$1\r\n0\r\n*0\r\n", "SCAN", "0"),
			do(ok, "SET", "key", "v"),
			do("*2\r\n$1\r\n0\r\n*1\r\n"+bulk("key"), "SCAN", "0"),
			do("*2\r\n$1\r\n0\r\n*1\r\n"+bulk("key"), "SCAN", "0", "MATCH", "k?y", "TYPE", "STRING"),
			do("*2\r\n$1\r\n0\r\n*0\r\n", "SCAN", "0", "MATCH", "x*"),
			do("*2\r\n$1\r\n0\r\n*0\r\n", "SCAN", "0", "TYPE", "list"),
			do(errReply("ERR invalid cursor"), "SCAN", "x"),
			do(errReply("ERR syntax error"), "SCAN", "0", "COUNT", "0"),
		}},
		{name: "not a data command", steps: []unitStep{
			do(errReply("ERR unknown command 'PING', with args beginning with: "), "PING"),
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			clk := clock.NewFake(time.UnixMilli(execEpochMs))
			s := newExecStore(t, clk, tc.maxBulk)
			proto := max(tc.proto, 2)
			for i, st := range tc.steps {
				clk.Advance(st.advance)
				if got := execReply(s, proto, clk.Now(), st.args...); got != st.want {
					t.Fatalf("step %d %q: got %q, want %q", i, st.args, got, st.want)
				}
			}
		})
	}
}
