//go:build soak

package soak

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"corral/cluster"
	"corral/cluster/clustertest"
	"corral/cluster/placement"
	"corral/origin"
)

// TestReplicaLoadBeatsAcknowledgedWrite is what the soak's "EXPIRE found
// nothing where vN was acknowledged" replies narrowed down to: while a
// key's owners are cut off from each other, a read served by the replica
// (the proxy fails reads over on a timeout of the primary) loads from the
// origin, since the primary does not answer its fetch; a SET the primary
// acknowledges meanwhile is older, by version, than the load that ends
// after it, so once the cut heals the origin's value replaces the
// acknowledged write on both owners. It fails today; it is skipped unless
// CORRAL_SOAK_KNOWN_BUGS is set, so that make soak measures the rest.
func TestReplicaLoadBeatsAcknowledgedWrite(t *testing.T) {
	if os.Getenv("CORRAL_SOAK_KNOWN_BUGS") == "" {
		t.Skip("known bug, see the doc comment; CORRAL_SOAK_KNOWN_BUGS=1 runs it")
	}
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
	tweak := func(_ string, cfg *cluster.Config) {
		ocfg := origin.DefaultConfig()
		ocfg.URL = srv.URL + "/{key}"
		ocfg.Timeout = 10 * time.Second
		o, err := origin.New(ocfg)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { o.Close() })
		cfg.Origin = o
	}
	k := clustertest.New(t, 2, clustertest.Options{Tweak: tweak, Partitions: 16})
	tbl, err := placement.New(16, 2, []string{"0", "1"})
	if err != nil {
		t.Fatal(err)
	}
	const key = "k"
	owners := tbl.OwnersOf([]byte(key))
	prim, repl := k.Node(owners[0]), k.Node(owners[1])
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
