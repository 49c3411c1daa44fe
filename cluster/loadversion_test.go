package cluster_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"corral/cluster"
	"corral/cluster/clustertest"
	"corral/cluster/placement"
	"corral/origin"
)

// TestLoadIsAsOldAsItsStart: while a key's owners are cut off from each
// other, a read at the replica loads from the (slow) origin, since the
// primary does not answer its fetch; a SET the primary acknowledges while
// the origin answers must survive the heal. The load's version is taken
// when it starts, so the SET is newer. Found by the soak (make soak), where
// EXPIRE found no key right after an acknowledged SET.
func TestLoadIsAsOldAsItsStart(t *testing.T) {
	release := make(chan struct{})
	var asked atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		asked.Add(1)
		<-release // the slow origin
		w.Header().Set("Cache-Control", "max-age=60")
		fmt.Fprint(w, "origin")
	}))
	defer srv.Close()
	defer func() {
		select {
		case <-release:
		default:
			close(release)
		}
	}()
	const key = "k"
	k, prim, repl := ownersWithOrigin(t, srv.URL, key)
	ctx := context.Background()

	k.Cut(prim.ID, repl.ID, true)
	read := make(chan string, 1)
	go func() {
		v, err := repl.Client().Get(ctx, key).Result()
		read <- fmt.Sprint(v, err)
	}()
	// Wait until the replica's load reached the origin (it asked the
	// primary first, which is cut off).
	k.WaitFor(10*time.Second, "the replica's load to reach the origin", func() bool {
		return asked.Load() > 0
	})
	if err := prim.Client().Set(ctx, key, "acked", 0).Err(); err != nil {
		t.Fatalf("SET at the primary: %v", err)
	}
	close(release)
	t.Logf("replica's GET: %s", <-read)
	k.Cut(prim.ID, repl.ID, false)
	k.WaitConverged(30 * time.Second)
	if v, err := prim.Client().Get(ctx, key).Result(); err != nil || v != "acked" {
		t.Fatalf("after the cut healed, GET at the primary = %q, %v; want the acknowledged \"acked\"", v, err)
	}
}

// TestWriteBeforeAReplicaLoadSurvives: while a key's owners are cut off
// from each other, the primary acknowledges a SET; afterwards a read at
// the replica, which cannot ask the primary, loads the key from the origin
// with a newer version. Once the cut heals, the acknowledged write wins on
// both owners: a value a client wrote beats one loaded from the origin.
func TestWriteBeforeAReplicaLoadSurvives(t *testing.T) {
	var asked atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		asked.Add(1)
		w.Header().Set("Cache-Control", "max-age=60")
		fmt.Fprint(w, "origin")
	}))
	defer srv.Close()
	const key = "k"
	k, prim, repl := ownersWithOrigin(t, srv.URL, key)
	ctx := context.Background()

	k.Cut(prim.ID, repl.ID, true)
	if err := prim.Client().Set(ctx, key, "acked", 0).Err(); err != nil {
		t.Fatalf("SET at the primary: %v", err)
	}
	if v, err := repl.Client().Get(ctx, key).Result(); err != nil || v != "origin" || asked.Load() == 0 {
		t.Fatalf("GET at the cut-off replica = %q, %v (origin asked %d times); want its load of the origin's value", v, err, asked.Load())
	}
	k.Cut(prim.ID, repl.ID, false)
	k.WaitConverged(30 * time.Second)
	for _, nd := range []*clustertest.Node{prim, repl} {
		if v, err := nd.Client().Get(ctx, key).Result(); err != nil || v != "acked" {
			t.Errorf("after the heal, GET at node %s = %q, %v; want the acknowledged \"acked\"", nd.ID, v, err)
		}
	}
}

// ownersWithOrigin starts two nodes (RF 2) reading through to the HTTP
// origin at url (10s timeout) and returns them with key's primary and its
// other owner.
func ownersWithOrigin(t *testing.T, url, key string) (k *clustertest.Kit, prim, repl *clustertest.Node) {
	t.Helper()
	tweak := func(_ string, cfg *cluster.Config) {
		ocfg := origin.DefaultConfig()
		ocfg.URL = url + "/{key}"
		ocfg.Timeout = 10 * time.Second
		o, err := origin.New(ocfg)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { o.Close() })
		cfg.Origin = o
	}
	k = clustertest.New(t, 2, clustertest.Options{Tweak: tweak, Partitions: 16})
	tbl, err := placement.New(16, 2, []string{"0", "1"})
	if err != nil {
		t.Fatal(err)
	}
	owners := tbl.OwnersOf([]byte(key))
	return k, k.Node(owners[0]), k.Node(owners[1])
}
