package cluster

import (
	"context"
	"errors"
	"log/slog"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"corral/cluster/engine"
	"corral/cluster/repl"
	"corral/internal/testkit"
)

// TestPeersPruneLeftNodes: the client of a peer that left the view, or
// whose address changed, is dropped from the set and its pool closed once
// the commands in flight on it are done; a peer still in the view keeps
// its client.
func TestPeersPruneLeftNodes(t *testing.T) {
	addrs := map[string]string{"a": testkit.StartRedis(t), "b": testkit.StartRedis(t)}
	ps := &peers{
		addrOf:   func(id string) string { return addrs[id] },
		timeout:  50 * time.Millisecond,
		poolSize: 2,
		log:      slog.New(slog.DiscardHandler),
		clients:  map[string]*peerClient{},
	}
	defer ps.close()
	ctx := context.Background()
	ca, err := ps.client("a")
	if err != nil {
		t.Fatal(err)
	}
	cb, err := ps.client("b")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []*redis.Client{ca, cb} {
		if err := c.Ping(ctx).Err(); err != nil {
			t.Fatal(err)
		}
	}
	ps.prune(map[string]string{"b": addrs["b"]}) // a left
	ps.mu.Lock()
	_, kept := ps.clients["b"]
	_, stale := ps.clients["a"]
	ps.mu.Unlock()
	if !kept || stale {
		t.Fatalf("after a left: b kept %v, a kept %v; want b only", kept, stale)
	}
	testkit.Eventually(t, func() bool { return errors.Is(ca.Ping(ctx).Err(), redis.ErrClosed) }, 5*time.Second,
		"the pool of the peer that left closed")
	if err := cb.Ping(ctx).Err(); err != nil {
		t.Errorf("the remaining peer's client: %v", err)
	}
	// b moves: its old client goes, the next use dials the new address.
	addrs["b"] = addrs["a"]
	ps.prune(map[string]string{"b": addrs["b"]})
	testkit.Eventually(t, func() bool { return errors.Is(cb.Ping(ctx).Err(), redis.ErrClosed) }, 5*time.Second,
		"the pool of b's old address closed")
	if c, err := ps.client("b"); err != nil || c == cb {
		t.Fatalf("client(b) after the move = %p, %v; want a new client", c, err)
	}
}

// TestEntryWireKeepsTheLoadedFlag: replication's record encoding carries
// whether a value was written or loaded, and tombstones.
func TestEntryWireKeepsTheLoadedFlag(t *testing.T) {
	in := []repl.Entry{
		{Key: []byte("w"), Rec: engine.Record{Value: []byte("client"), Version: 7, ExpireAt: 99}},
		{Key: []byte("l"), Rec: engine.Record{Value: []byte("origin"), Version: 8, Loaded: true}},
		{Key: []byte("t"), Rec: engine.Record{Version: 9, ExpireAt: 5, Tombstone: true}},
	}
	var args []any
	for _, e := range in {
		args = appendEntry(args, e)
	}
	wire := make([]any, len(args))
	for i, a := range args {
		switch v := a.(type) {
		case []byte:
			wire[i] = string(v)
		default:
			wire[i] = v
		}
	}
	out, err := parseEntries(wire)
	if err != nil {
		t.Fatal(err)
	}
	for i := range in {
		a, b := in[i].Rec, out[i].Rec
		if string(in[i].Key) != string(out[i].Key) || a.Version != b.Version || a.ExpireAt != b.ExpireAt ||
			a.Tombstone != b.Tombstone || a.Loaded != b.Loaded || string(a.Value) != string(b.Value) {
			t.Errorf("entry %d: sent %+v, got %+v", i, in[i], out[i])
		}
	}
}
