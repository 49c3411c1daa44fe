package repl

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"corral/cluster/engine"
	"corral/cluster/placement"
	"corral/internal/clock"
)

// testCluster is n nodes with engines on one fake clock, joined by a
// MemNet, all seeing the same placement table.
type testCluster struct {
	clock *clock.Fake
	net   *MemNet
	table *placement.Table
	ids   []string
	eng   map[string]*engine.Engine
	rep   map[string]*Replicator
}

func newTestCluster(t *testing.T, n, rf, partitions int, tweak func(*Config)) *testCluster {
	t.Helper()
	fc := clock.NewFake(time.UnixMilli(1_700_000_000_000))
	c := &testCluster{clock: fc, net: NewMemNet(fc), eng: map[string]*engine.Engine{}, rep: map[string]*Replicator{}}
	for i := range n {
		c.ids = append(c.ids, fmt.Sprintf("n%d", i))
	}
	var err error
	if c.table, err = placement.New(partitions, rf, c.ids); err != nil {
		t.Fatal(err)
	}
	for i, id := range c.ids {
		ecfg := engine.DefaultConfig()
		ecfg.Partitions = partitions
		ecfg.Clock = fc
		ecfg.Rand = rand.New(rand.NewPCG(uint64(i), 1))
		e, err := engine.New(ecfg)
		if err != nil {
			t.Fatal(err)
		}
		cfg := DefaultConfig()
		cfg.Self, cfg.Engine, cfg.Transport = id, e, c.net.Transport(id)
		cfg.Table = func() *placement.Table { return c.table }
		cfg.Replicas = rf
		cfg.Serial = true
		cfg.Clock = fc
		cfg.Rand = func() float64 { return 0.5 }
		cfg.AERate = 0
		if tweak != nil {
			tweak(&cfg)
		}
		r, err := New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		c.net.Add(id, r.Local())
		c.eng[id], c.rep[id] = e, r
	}
	return c
}

// write applies key=value on the key's primary and replicates it, as a
// store does for a client's SET; it returns acks and need.
func (c *testCluster) write(key, value string) (int, int) {
	k := []byte(key)
	p := c.table.Partition(k)
	primary := c.table.Primary(p)
	e := c.eng[primary]
	now := c.clock.Now().UnixMilli()
	rec := e.Update(k, now, func(engine.Record, bool) (engine.Record, engine.Op) {
		return engine.Record{Value: []byte(value)}, engine.OpPut
	})
	return c.rep[primary].Replicate(context.Background(), p, []Entry{{Key: k, Rec: rec}})
}

// holders returns the nodes whose engine has key=value.
func (c *testCluster) holders(key, value string) []string {
	var out []string
	for _, id := range c.ids {
		if r, ok := c.eng[id].Get([]byte(key), c.clock.Now().UnixMilli()); ok && string(r.Value) == value {
			out = append(out, id)
		}
	}
	return out
}

func (c *testCluster) round() RoundStats {
	var sum RoundStats
	for _, id := range c.ids {
		st := c.rep[id].Round(context.Background())
		sum.Compared += st.Compared
		sum.Differing += st.Differing
		sum.Repaired += st.Repaired
		sum.Failed += st.Failed
		sum.HandedOff += st.HandedOff
	}
	return sum
}

func TestReplicateReachesEveryOwner(t *testing.T) {
	c := newTestCluster(t, 3, 2, 64, nil)
	for i := range 200 {
		key := fmt.Sprintf("k%d", i)
		acks, need := c.write(key, "v")
		if acks != 2 || need != 1 {
			t.Fatalf("%s: acks %d need %d, want 2 and 1", key, acks, need)
		}
		owners := c.table.OwnersOf([]byte(key))
		if got := c.holders(key, "v"); fmt.Sprint(got) != fmt.Sprint(sortedCopy(owners)) {
			t.Fatalf("%s held by %v, owners %v", key, got, owners)
		}
	}
}

func TestHintsDeliverAfterPeerReturns(t *testing.T) {
	c := newTestCluster(t, 3, 2, 64, nil)
	c.net.SetDown("n1", true)
	var toN1 []string
	for i := range 300 {
		key := fmt.Sprintf("k%d", i)
		owners := c.table.OwnersOf([]byte(key))
		if owners[0] == "n1" {
			continue // a client could not reach n1 to write it
		}
		acks, _ := c.write(key, "v")
		if contains(owners, "n1") {
			toN1 = append(toN1, key)
			if acks != 1 {
				t.Fatalf("%s: acks %d with its second owner down, want 1", key, acks)
			}
		}
	}
	if len(toN1) == 0 {
		t.Fatal("no key has n1 as its second owner")
	}
	queued := 0
	for _, id := range c.ids {
		queued += c.rep[id].HintsQueued()
	}
	if queued != len(toN1) {
		t.Fatalf("%d hints queued, want %d", queued, len(toN1))
	}
	if st := c.rep["n0"].Status(); st.Underreplicated == 0 {
		t.Error("Status().Underreplicated is 0 while a co-owner misses writes")
	}
	c.net.SetDown("n1", false)
	for _, id := range c.ids {
		for c.rep[id].FlushHints(context.Background()) > 0 {
		}
	}
	for _, key := range toN1 {
		if !contains(c.holders(key, "v"), "n1") {
			t.Fatalf("%s not delivered to n1 by hints", key)
		}
	}
	if n := c.rep["n0"].HintsQueued() + c.rep["n2"].HintsQueued(); n != 0 {
		t.Errorf("%d hints still queued", n)
	}
}

func TestQuorumNeedsAMajority(t *testing.T) {
	c := newTestCluster(t, 3, 3, 16, func(cfg *Config) { cfg.Acks = AckQuorum })
	others := c.table.OwnersOf([]byte("k"))[1:]
	c.net.SetDown(others[0], true)
	c.net.SetDown(others[1], true)
	acks, need := c.write("k", "v")
	if acks != 1 || need != 2 {
		t.Fatalf("acks %d need %d with two of three owners down, want 1 and 2", acks, need)
	}
	c.net.SetDown(others[1], false)
	c.clock.Advance(downMin) // past the backoff of the failed peer
	if acks, need = c.write("k", "v2"); acks != 2 || need != 2 {
		t.Fatalf("acks %d need %d with one owner down, want 2 and 2", acks, need)
	}
}

// TestRepairTrafficFollowsTheDifference: two replicas of 100k keys that
// differ in 10 keys exchange about 10 records, not 100k. (A node that
// compares from the stale side also pushes its older written value, which
// might beat a loaded one: up to 5 more here.)
func TestRepairTrafficFollowsTheDifference(t *testing.T) {
	c := newTestCluster(t, 2, 2, 4096, nil)
	now := c.clock.Now().UnixMilli()
	a, b := c.eng["n0"], c.eng["n1"]
	for i := range 100_000 {
		k := []byte(fmt.Sprintf("key:%d", i))
		r := a.Update(k, now, func(engine.Record, bool) (engine.Record, engine.Op) {
			return engine.Record{Value: []byte("value")}, engine.OpPut
		})
		b.Merge(k, r)
	}
	// 5 writes b missed, 5 keys only b has.
	for i := range 5 {
		a.Update([]byte(fmt.Sprintf("key:%d", i*997)), now, func(engine.Record, bool) (engine.Record, engine.Op) {
			return engine.Record{Value: []byte("new")}, engine.OpPut
		})
		b.Update([]byte(fmt.Sprintf("only-b:%d", i)), now, func(engine.Record, bool) (engine.Record, engine.Op) {
			return engine.Record{Value: []byte("b")}, engine.OpPut
		})
	}
	c.net.Reset()
	st := c.round()
	t.Logf("round: %+v; records carried %d, key hashes %d, calls %d", st, c.net.Records, c.net.Keys, c.net.Calls)
	if st.Repaired < 10 || st.Repaired > 15 || c.net.Records != st.Repaired {
		t.Errorf("repaired %d, carried %d records; want 10 to 15, the same", st.Repaired, c.net.Records)
	}
	if c.net.Keys > 100 {
		t.Errorf("listed %d key hashes to find 10 differences; want O(10)", c.net.Keys)
	}
	for p := range 4096 {
		if a.Root(p) != b.Root(p) {
			t.Fatalf("partition %d still differs after a round", p)
		}
	}
	if st := c.round(); st.Differing != 0 || st.Repaired != 0 {
		t.Errorf("second round %+v, want nothing to repair", st)
	}
}

// TestRejoinedEmptyNodeIsFilled: a node restarted empty is filled by
// anti-entropy, reports its partitions unfilled until then, and the
// underreplicated count goes back to 0.
func TestRejoinedEmptyNodeIsFilled(t *testing.T) {
	c := newTestCluster(t, 3, 2, 64, nil)
	for i := range 500 {
		c.write(fmt.Sprintf("k%d", i), "v")
	}
	c.round()
	// n2 restarts empty: a new engine and replicator.
	c2 := newTestCluster(t, 3, 2, 64, nil)
	c.eng["n2"], c.rep["n2"] = c2.eng["n2"], c2.rep["n2"]
	c.rep["n2"].cfg.Transport = c.net.Transport("n2")
	c.rep["n2"].cfg.Table = func() *placement.Table { return c.table }
	c.net.Add("n2", c.rep["n2"].Local())
	if st := c.rep["n2"].Status(); st.Unfilled != st.Owned || st.Owned == 0 {
		t.Fatalf("fresh node status %+v: want every owned partition unfilled", st)
	}
	for range 3 {
		c.round()
	}
	for i := range 500 {
		key := fmt.Sprintf("k%d", i)
		if got := c.holders(key, "v"); len(got) != 2 {
			t.Fatalf("%s held by %v after repair, want its 2 owners", key, got)
		}
	}
	under := 0
	for _, id := range c.ids {
		st := c.rep[id].Status()
		under += st.Underreplicated
		if st.Unfilled != 0 {
			t.Errorf("%s: %d partitions still unfilled", id, st.Unfilled)
		}
	}
	if under != 0 {
		t.Errorf("underreplicated %d after repair, want 0", under)
	}
}

// TestHandoffToNewOwners: when a node leaves the placement, it pushes its
// partitions to their owners and drops them.
func TestHandoffToNewOwners(t *testing.T) {
	c := newTestCluster(t, 3, 2, 64, nil)
	for i := range 500 {
		c.write(fmt.Sprintf("k%d", i), "v")
	}
	// n0 leaves: the others place without it; n0 still sees itself out.
	var err error
	if c.table, err = placement.New(64, 2, []string{"n1", "n2"}); err != nil {
		t.Fatal(err)
	}
	st := c.round()
	if st.HandedOff == 0 {
		t.Fatalf("round %+v: nothing handed off", st)
	}
	if s := c.rep["n0"].Status(); s.Handoff != 0 {
		t.Errorf("n0 still holds %d partitions after handoff", s.Handoff)
	}
	for i := range 500 {
		key := fmt.Sprintf("k%d", i)
		if got := c.holders(key, "v"); fmt.Sprint(got) != "[n1 n2]" {
			t.Fatalf("%s held by %v after n0 left, want [n1 n2]", key, got)
		}
	}
}

// TestTombstonesWinOverStaleCopies: a delete on the primary while the
// co-owner was down reaches it by anti-entropy and removes the value.
func TestTombstonesWinOverStaleCopies(t *testing.T) {
	c := newTestCluster(t, 2, 2, 16, func(cfg *Config) { cfg.HintsPerPeer = 0 })
	c.write("k", "v")
	c.net.SetDown("n1", true)
	k := []byte("k")
	p := c.table.Partition(k)
	primary := c.table.Primary(p)
	now := c.clock.Now().UnixMilli()
	rec := c.eng[primary].Update(k, now, func(engine.Record, bool) (engine.Record, engine.Op) { return engine.Record{}, engine.OpDelete })
	c.rep[primary].Replicate(context.Background(), p, []Entry{{Key: k, Rec: rec}})
	c.net.SetDown("n1", false)
	c.round()
	if got := c.holders("k", "v"); len(got) != 0 {
		t.Fatalf("deleted key still held by %v", got)
	}
}

func contains(s []string, x string) bool {
	for _, v := range s {
		if v == x {
			return true
		}
	}
	return false
}

func sortedCopy(s []string) []string {
	out := append([]string(nil), s...)
	for i := range out {
		for j := i + 1; j < len(out); j++ {
			if out[j] < out[i] {
				out[i], out[j] = out[j], out[i]
			}
		}
	}
	return out
}

// TestFailedPeerIsSkippedForABackoff: after a call to a peer fails, writes
// hint it without calling it until the backoff (doubling per consecutive
// failure) has passed; a successful hint delivery clears the mark at once.
func TestFailedPeerIsSkippedForABackoff(t *testing.T) {
	c := newTestCluster(t, 2, 2, 16, nil)
	c.net.SetDown("n1", true)
	var keys []string
	for i := 0; len(keys) < 3; i++ {
		if k := fmt.Sprintf("k%d", i); c.table.Primary(c.table.Partition([]byte(k))) == "n0" {
			keys = append(keys, k)
		}
	}
	c.write(keys[0], "v") // fails: n1 marked down
	c.net.Reset()
	c.write(keys[1], "v")
	if c.net.Calls != 0 {
		t.Fatalf("%d calls to a peer that just failed, want 0 (hinted at once)", c.net.Calls)
	}
	if !c.rep["n0"].PeerDown("n1") {
		t.Fatal("PeerDown(n1) = false right after a failure")
	}
	c.clock.Advance(downMin)
	c.write(keys[2], "v") // tried again, fails again: backoff doubles
	if c.net.Calls != 1 {
		t.Fatalf("%d calls after the backoff, want 1", c.net.Calls)
	}
	c.clock.Advance(downMin)
	if !c.rep["n0"].PeerDown("n1") {
		t.Fatal("the second backoff did not double")
	}
	c.net.SetDown("n1", false)
	if c.rep["n0"].FlushHints(context.Background()) != 3 {
		t.Fatal("hint delivery did not probe the peer while it was marked down")
	}
	if c.rep["n0"].PeerDown("n1") {
		t.Error("a successful delivery did not clear the mark")
	}
}

// hookTransport runs before each Apply, to interleave a write with a
// delivery.
type hookTransport struct {
	Transport
	before func()
}

func (t *hookTransport) Apply(ctx context.Context, to string, e []Entry) error {
	if t.before != nil {
		t.before()
	}
	return t.Transport.Apply(ctx, to, e)
}

// TestHintWrittenAgainDuringDeliveryStaysQueued: a key hinted again while
// FlushHints delivers its older record stays queued, so the newer record
// reaches the peer on the next flush instead of waiting for anti-entropy.
func TestHintWrittenAgainDuringDeliveryStaysQueued(t *testing.T) {
	hooks := map[string]*hookTransport{}
	c := newTestCluster(t, 2, 2, 16, func(cfg *Config) {
		h := &hookTransport{Transport: cfg.Transport}
		hooks[cfg.Self] = h
		cfg.Transport = h
	})
	key := "k"
	primary := c.table.Primary(c.table.Partition([]byte(key)))
	peer := "n0"
	if primary == "n0" {
		peer = "n1"
	}
	c.net.SetDown(peer, true)
	c.write(key, "v1") // hinted
	c.net.SetDown(peer, false)
	c.clock.Advance(downMax)
	once := true
	hooks[primary].before = func() {
		if once {
			once = false
			c.net.SetDown(peer, true)
			c.write(key, "v2") // lands between the flush's Lookup and its removal
			c.net.SetDown(peer, false)
		}
	}
	c.rep[primary].FlushHints(context.Background())
	if c.rep[primary].HintsQueued() != 1 {
		t.Fatalf("%d hints queued after a delivery raced a write, want 1", c.rep[primary].HintsQueued())
	}
	c.clock.Advance(downMax)
	c.rep[primary].FlushHints(context.Background())
	if got := c.holders(key, "v2"); len(got) != 2 {
		t.Fatalf("v2 held by %v after the next flush, want both nodes", got)
	}
}

// TestHealedIsolationUnfillsPartitions: a node that was alone in its view
// (a network partition) and sees its co-owners again counts its partitions
// as not filled until anti-entropy finds them equal, so that reads ask the
// co-owners, which took writes meanwhile, before reading or loading.
func TestHealedIsolationUnfillsPartitions(t *testing.T) {
	c := newTestCluster(t, 2, 2, 16, nil)
	c.round()
	r := c.rep["n0"]
	if !r.Filled(0) {
		t.Fatal("partition 0 not filled after a round")
	}
	alone, err := placement.New(16, 2, []string{"n0"})
	if err != nil {
		t.Fatal(err)
	}
	both := c.table
	c.table = alone
	if !r.Filled(0) {
		t.Fatal("alone, partition 0 should count as filled: nobody to ask")
	}
	c.table = both
	if r.Filled(0) {
		t.Fatal("with the co-owner back, partition 0 still counts as filled")
	}
	c.round()
	if !r.Filled(0) {
		t.Fatal("anti-entropy did not mark partition 0 filled again")
	}
}

// TestAntiEntropyWrittenBeatsNewerLoaded: one replica holds values clients
// wrote, the other newer values loaded from the origin (it loaded them
// while cut off); whichever side compares, a round leaves both with the
// written values, though their Versions are older.
func TestAntiEntropyWrittenBeatsNewerLoaded(t *testing.T) {
	c := newTestCluster(t, 2, 2, 16, nil)
	now := c.clock.Now().UnixMilli()
	a, b := c.eng["n0"], c.eng["n1"]
	const n = 64 // spread over partitions of both primaries
	for i := range n {
		k := []byte(fmt.Sprintf("key:%d", i))
		a.Update(k, now, func(engine.Record, bool) (engine.Record, engine.Op) {
			return engine.Record{Value: []byte("written")}, engine.OpPut
		})
		b.PutIfVersion(k, now, 0, engine.Record{Value: []byte("loaded"), Version: b.Stamp() + 1000, Loaded: true})
	}
	c.round()
	for i := range n {
		k := []byte(fmt.Sprintf("key:%d", i))
		for id, e := range map[string]*engine.Engine{"n0": a, "n1": b} {
			if r, ok := e.Get(k, now); !ok || string(r.Value) != "written" {
				t.Fatalf("%s on %s = %q, %v after a round; want the written value", k, id, r.Value, ok)
			}
		}
	}
}
