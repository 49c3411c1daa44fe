package cluster

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/cespare/xxhash/v2"

	"corral/cluster/hlc"
)

// loadedShards is the number of independently locked shards of a
// loadedTable.
const loadedShards = 64

// loadedOverhead approximates a loadedTable entry's bytes beyond its key
// and value.
const loadedOverhead = 128

// loaded is what the store remembers of the last origin load of a key,
// beside the engine record it stored: the load's cost (XFetch's delta), the
// freshness deadline, and the value itself, kept past that deadline so it
// can be served stale while a refresh runs or while the origin fails.
type loaded struct {
	value []byte // shared with the engine record; immutable
	found bool   // false: the origin had no such key (a negative entry)
	// version is the engine record's Version when the value was stored
	// there; XFetch only applies to that exact record.
	version hlc.Timestamp
	// freshUntil is the deadline (unix ms) the value was cached with;
	// keepUntil is when the stale copy is dropped.
	freshUntil, keepUntil int64
	delta                 time.Duration // how long the load took
	// failures counts refreshes that failed since the last success;
	// retryAt (unix ms) is when the next one may start.
	failures int
	retryAt  int64
}

// size is e's approximate footprint with its key.
func (e *loaded) size(key string) int64 { return int64(len(key)+len(e.value)) + loadedOverhead }

// loadedTable holds the loaded entries by key, bounded in bytes: when full,
// adding an entry evicts an arbitrary one from the same shard. All methods
// are safe for concurrent use.
type loadedTable struct {
	maxBytes int64
	bytes    atomic.Int64
	shards   [loadedShards]loadedShard
}

type loadedShard struct {
	mu sync.Mutex // guards m
	m  map[string]*loaded
}

func newLoadedTable(maxBytes int64) *loadedTable {
	t := &loadedTable{maxBytes: maxBytes}
	for i := range t.shards {
		t.shards[i].m = make(map[string]*loaded)
	}
	return t
}

func (t *loadedTable) shard(key []byte) *loadedShard {
	return &t.shards[xxhash.Sum64(key)%loadedShards]
}

// get returns a copy of key's entry.
func (t *loadedTable) get(key []byte) (loaded, bool) {
	sh := t.shard(key)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if e, ok := sh.m[string(key)]; ok {
		return *e, true
	}
	return loaded{}, false
}

// put stores e for key, replacing any entry, and evicts others while the
// table is over its bound.
func (t *loadedTable) put(key string, e loaded) {
	sh := t.shard([]byte(key))
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if old, ok := sh.m[key]; ok {
		t.bytes.Add(-old.size(key))
	}
	n := e.size(key)
	for k, old := range sh.m {
		if t.bytes.Load()+n <= t.maxBytes {
			break
		}
		if k != key {
			t.bytes.Add(-old.size(k))
			delete(sh.m, k)
		}
	}
	sh.m[key] = &e
	t.bytes.Add(n)
}

// failed records a failed refresh of key at nowMs: the next may start at
// retryAt. It returns the number of consecutive failures, 0 when key has
// no entry.
func (t *loadedTable) failed(key []byte, retry func(failures int) int64) int {
	sh := t.shard(key)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	e, ok := sh.m[string(key)]
	if !ok {
		return 0
	}
	e.failures++
	e.retryAt = retry(e.failures)
	return e.failures
}

// del drops key's entry.
func (t *loadedTable) del(key []byte) {
	sh := t.shard(key)
	sh.mu.Lock()
	if e, ok := sh.m[string(key)]; ok {
		t.bytes.Add(-e.size(string(key)))
		delete(sh.m, string(key))
	}
	sh.mu.Unlock()
}

// clear drops every entry.
func (t *loadedTable) clear() {
	for i := range t.shards {
		sh := &t.shards[i]
		sh.mu.Lock()
		for k, e := range sh.m {
			t.bytes.Add(-e.size(k))
		}
		clear(sh.m)
		sh.mu.Unlock()
	}
}

// sweep drops the entries whose keepUntil has passed at nowMs and returns
// how many it dropped.
func (t *loadedTable) sweep(nowMs int64) int {
	n := 0
	for i := range t.shards {
		sh := &t.shards[i]
		sh.mu.Lock()
		for k, e := range sh.m {
			if e.keepUntil <= nowMs {
				t.bytes.Add(-e.size(k))
				delete(sh.m, k)
				n++
			}
		}
		sh.mu.Unlock()
	}
	return n
}

// len returns the number of entries.
func (t *loadedTable) len() int {
	n := 0
	for i := range t.shards {
		sh := &t.shards[i]
		sh.mu.Lock()
		n += len(sh.m)
		sh.mu.Unlock()
	}
	return n
}
