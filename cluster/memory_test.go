package cluster

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"corral/cluster/engine"
	"corral/internal/command"
	"corral/internal/testkit"
)

// startLimited starts a store without an origin (or with one, if origin is
// true), limited to limit bytes under policy, with a seeded eviction source.
func startLimited(t *testing.T, limit int64, policy engine.Policy, origin bool) *rtEnv {
	t.Helper()
	return startRT(t, numbered(time.Minute), func(c *Config) {
		if !origin {
			c.Origin = nil
		}
		c.Engine.MaxMemory = limit
		c.Engine.Policy = policy
		c.Engine.Rand = rand.New(rand.NewPCG(7, 11))
	})
}

// value1k is a 1000-byte value.
var value1k = strings.Repeat("x", 1000)

// oomReply is the raw OOM error, as redis-server 7.0.15 sends it.
const oomReply = "-OOM command not allowed when used memory > 'maxmemory'.\r\n"

// TestNoEvictionRefusesWrites: with noeviction, once used memory is over
// the limit every DenyOOM command gets Redis's exact OOM error and
// nothing is evicted, while reads and DEL keep working; DEL makes room.
func TestNoEvictionRefusesWrites(t *testing.T) {
	env := startLimited(t, 20_000, engine.NoEviction, false)
	if oomReply != "-"+string(command.ErrOOM)+"\r\n" {
		t.Fatal("command.ErrOOM drifted from the text checked against redis-server")
	}
	written := 0
	for ; written < 100; written++ {
		if r := env.raw.Do("SET", fmt.Sprint("k", written), value1k); r != ok {
			if r != oomReply {
				t.Fatalf("SET #%d = %q, want OOM", written, r)
			}
			break
		}
	}
	if written == 0 || written == 100 {
		t.Fatalf("%d SETs succeeded; want the limit to stop them part way", written)
	}
	for _, args := range [][]string{
		{"SET", "a", "b"}, {"SETNX", "a", "b"}, {"SETEX", "a", "10", "b"}, {"MSET", "a", "b"},
		{"INCR", "n"}, {"APPEND", "k0", "x"}, {"GETSET", "k0", "x"}, {"SETRANGE", "k0", "1", "x"},
	} {
		if r := env.raw.Do(args...); r != oomReply {
			t.Errorf("%v = %q, want OOM", args, r)
		}
	}
	if r := env.raw.Do("GET", "k0"); r != fmt.Sprintf("$1000\r\n%s\r\n", value1k) {
		t.Errorf("GET over the limit = %.40q", r)
	}
	if r := env.raw.Do("EXISTS", "k1"); r != ":1\r\n" {
		t.Errorf("EXISTS over the limit = %q", r)
	}
	if st := env.s.Engine().Stats(); st.EvictedTotal != 0 || st.Keys != written {
		t.Errorf("noeviction evicted: %+v", st)
	}
	if r := env.raw.Do("DEL", "k0", "k1", "k2"); r != ":3\r\n" {
		t.Fatalf("DEL over the limit = %q", r)
	}
	if r := env.raw.Do("SET", "a", "b"); r != ok {
		t.Errorf("SET after DEL made room = %q", r)
	}
	if got := gatherValues(t, env.reg)["corral_oom_rejected_total"]; got != 9 {
		t.Errorf("corral_oom_rejected_total = %v, want 9", got)
	}
}

// TestAllKeysLRUStaysUnderLimit: with the default policy, writes never
// fail and used memory is at most maxmemory after each one; INFO and the
// metrics report it.
func TestAllKeysLRUStaysUnderLimit(t *testing.T) {
	const limit = 50_000
	env := startLimited(t, limit, engine.AllKeysLRU, false)
	for i := range 200 {
		if r := env.raw.Do("SET", fmt.Sprint("k", i), value1k); r != ok {
			t.Fatalf("SET #%d = %q", i, r)
		}
		if used := env.s.Engine().UsedBytes(); used > limit {
			t.Fatalf("after SET #%d: used memory %d > maxmemory %d", i, used, limit)
		}
	}
	if r := env.raw.Do("GET", "k199"); !strings.HasPrefix(r, "$1000\r\n") {
		t.Errorf("the latest key was evicted: %.20q", r)
	}
	evicted := env.s.Engine().Stats().EvictedTotal
	if evicted < 150 {
		t.Errorf("evicted %d keys, want at least 150", evicted)
	}
	info := env.raw.Do("INFO")
	for _, want := range []string{
		"\r\nused_memory:" + fmt.Sprint(env.s.Engine().UsedBytes()) + "\r\n",
		"\r\nmaxmemory:50000\r\n", "\r\nmaxmemory_human:48.83K\r\n", "\r\nmaxmemory_policy:allkeys-lru\r\n",
		"\r\nevicted_keys:" + fmt.Sprint(evicted) + "\r\n",
	} {
		if !strings.Contains(info, want) {
			t.Errorf("INFO lacks %q", strings.TrimSpace(want))
		}
	}
	if n := strings.Count(info, "# Stats\r\n"); n != 1 {
		t.Errorf("INFO has %d Stats sections, want 1", n)
	}
	m := gatherValues(t, env.reg)
	if m["corral_memory_max_bytes"] != limit || m["corral_memory_used_bytes"] > limit || m["corral_memory_used_bytes"] == 0 {
		t.Errorf("memory gauges: used %v, max %v", m["corral_memory_used_bytes"], m["corral_memory_max_bytes"])
	}
	if m["corral_evicted_keys_total"] != float64(evicted) || m["corral_oom_rejected_total"] != 0 {
		t.Errorf("corral_evicted_keys_total %v (want %d), corral_oom_rejected_total %v", m["corral_evicted_keys_total"], evicted, m["corral_oom_rejected_total"])
	}
}

// TestVolatileLRUWithoutTTLsRefuses: a volatile policy with no key that
// has a TTL cannot evict, so writes get OOM; keys with a TTL are evicted
// and the others kept.
func TestVolatileLRUWithoutTTLsRefuses(t *testing.T) {
	env := startLimited(t, 20_000, engine.VolatileLRU, false)
	for i := range 5 {
		env.raw.Do("SET", fmt.Sprint("persistent", i), value1k)
	}
	for i := range 40 { // each eviction's tombstone stays 30s: not too many
		if r := env.raw.Do("SET", fmt.Sprint("v", i), value1k, "EX", "100"); r != ok {
			t.Fatalf("SET EX #%d = %q", i, r)
		}
	}
	for i := range 5 {
		if r := env.raw.Do("EXISTS", fmt.Sprint("persistent", i)); r != ":1\r\n" {
			t.Errorf("persistent%d evicted under volatile-lru", i)
		}
	}
	n := 0
	for ; n < 100; n++ {
		if r := env.raw.Do("SET", fmt.Sprint("p", n), value1k); r == oomReply {
			break
		}
	}
	if n == 100 {
		t.Fatal("writes without TTLs never hit OOM under volatile-lru")
	}
}

// TestReadThroughWhenFull: a load from the origin into a store that is
// full and cannot evict is served but not stored; with allkeys-lru it is
// stored and something else is evicted.
func TestReadThroughWhenFull(t *testing.T) {
	env := startLimited(t, 20_000, engine.NoEviction, true)
	for i := 0; env.raw.Do("SET", fmt.Sprint("k", i), value1k) == ok; i++ {
	}
	if r := env.raw.Do("GET", "fromorigin"); r != "$12\r\nfromorigin#1\r\n" {
		t.Fatalf("GET through a full store = %q", r)
	}
	if _, ok := env.s.Engine().Get([]byte("fromorigin"), env.clk.Now().UnixMilli()); ok {
		t.Error("a full noeviction store stored a loaded value")
	}

	lru := startLimited(t, 20_000, engine.AllKeysLRU, true)
	for i := range 30 {
		lru.raw.Do("SET", fmt.Sprint("k", i), value1k)
	}
	if r := lru.raw.Do("GET", "fromorigin"); r != "$12\r\nfromorigin#1\r\n" {
		t.Fatalf("GET through a full store = %q", r)
	}
	if _, ok := lru.s.Engine().Get([]byte("fromorigin"), lru.clk.Now().UnixMilli()); !ok {
		t.Error("allkeys-lru did not store the loaded value")
	}
	if used := lru.s.Engine().UsedBytes(); used > 20_000 {
		t.Errorf("used memory %d over the limit after a load", used)
	}
}

// TestMemoryLoopReclaims: memory added behind the command path (a
// replicated or snapshot record) is reclaimed by the background loop.
func TestMemoryLoopReclaims(t *testing.T) {
	env := startLimited(t, 20_000, engine.AllKeysLRU, false)
	eng := env.s.Engine()
	for i := range 50 {
		r := engine.Record{Value: []byte(value1k), Version: 1 << 40}
		eng.Merge([]byte(fmt.Sprint("r", i)), r)
	}
	testkit.Eventually(t, func() bool { return eng.UsedBytes() <= 20_000 }, 5*time.Second, "the memory loop to evict")
}
