package engine_test

import (
	"fmt"
	"strconv"
	"time"

	"corral/cluster/engine"
	"corral/internal/clock"
)

func Example() {
	fc := clock.NewFake(time.UnixMilli(1_700_000_000_000))
	cfg := engine.DefaultConfig()
	cfg.Clock = fc
	e, err := engine.New(cfg)
	if err != nil {
		panic(err)
	}
	now := fc.Now().UnixMilli()
	key := []byte("visits")

	// INCR, built on Update: read, modify and write under one lock.
	incr := func(cur engine.Record, exists bool) (engine.Record, engine.Op) {
		n := int64(0)
		if exists {
			n, _ = strconv.ParseInt(string(cur.Value), 10, 64)
		}
		// Keep any TTL, as INCR does.
		return engine.Record{Value: strconv.AppendInt(nil, n+1, 10), ExpireAt: cur.ExpireAt}, engine.OpPut
	}
	e.Update(key, now, incr)
	e.Update(key, now, incr)

	// EXPIRE visits 10: keep the value, set a deadline.
	e.Update(key, now, func(cur engine.Record, exists bool) (engine.Record, engine.Op) {
		if !exists {
			return cur, engine.OpNone
		}
		cur.ExpireAt = now + 10_000
		return cur, engine.OpPut
	})

	r, ok := e.Get(key, now)
	fmt.Println(string(r.Value), ok, r.ExpireAt-now, "ms left")
	fmt.Println("keys:", e.Len(now))

	fc.Advance(10 * time.Second)
	now = fc.Now().UnixMilli()
	_, ok = e.Get(key, now)
	fmt.Println("after 10s:", ok, "keys:", e.Len(now), "tombstones:", e.Stats().Tombstones)
	// Output:
	// 2 true 10000 ms left
	// keys: 1
	// after 10s: false keys: 0 tombstones: 1
}
