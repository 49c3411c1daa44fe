package cluster

import (
	"context"
	"strconv"
	"time"

	"corral/cluster/engine"
	"corral/cluster/repl"
	"corral/internal/server"
)

// The store's memory bound (--maxmemory, --maxmemory-policy). Used memory
// is the engine's accounted bytes of stored data (engine.UsedBytes: key +
// value + a fixed per-record overhead, tombstones included), not the Go
// heap. A DenyOOM command (SET, INCR, APPEND, ...) first reclaims memory
// by the policy; if that cannot get under the limit (noeviction, or a
// volatile policy with no key that has a TTL) it is refused with Redis's
// OOM error, and otherwise it runs and reclaims again, so that the limit
// holds after every write. Reads and deletes always run. Replication and
// anti-entropy apply regardless (as Redis's replicas ignore maxmemory), and
// a background loop reclaims what they add.

// memoryInterval is how often the background loop reclaims memory that
// replication, anti-entropy or snapshots added.
const memoryInterval = 100 * time.Millisecond

// admitWrite reports whether a DenyOOM command may run at nowMs, evicting
// first if the policy allows.
func (s *Store) admitWrite(nowMs int64) bool {
	if s.reclaim(nowMs) {
		return true
	}
	s.m.oomRejected.Inc()
	return false
}

// reclaim brings the engine under --maxmemory by its policy and reports
// whether it is. A cluster node evicts first from its primary partitions,
// whose reads it serves and so whose access times it knows, and replicates
// each eviction's tombstone to the co-owners in the background.
func (s *Store) reclaim(nowMs int64) bool {
	limit := s.eng.MaxMemory()
	if limit == 0 || s.eng.UsedBytes() <= limit {
		return true // the hot path: two loads
	}
	if s.node == nil {
		return s.eng.Reclaim(nowMs, nil, nil)
	}
	n := s.node
	t := n.table.Load()
	var prefer func(p int) bool
	if t != nil {
		prefer = func(p int) bool { return t.Primary(p) == n.self }
	}
	byPart := map[int][]repl.Entry{}
	ok := s.eng.Reclaim(nowMs, prefer, func(p int, key []byte, tomb engine.Record) {
		byPart[p] = append(byPart[p], repl.Entry{Key: key, Rec: tomb})
	})
	for p, entries := range byPart {
		n.rep.ReplicateAsync(p, entries)
	}
	return ok
}

// memoryLoop reclaims memory every memoryInterval until ctx is done.
func (s *Store) memoryLoop(ctx context.Context) error {
	t := time.NewTicker(memoryInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
			s.reclaim(s.clock.Now().UnixMilli())
		}
	}
}

// infoMemory appends the INFO memory section.
func (s *Store) infoMemory(dst []byte) []byte {
	used, limit := s.eng.UsedBytes(), s.eng.MaxMemory()
	dst = server.InfoInt(dst, "used_memory", used)
	dst = server.InfoLine(dst, "used_memory_human", humanBytes(used))
	dst = server.InfoInt(dst, "used_memory_dataset", used)
	dst = server.InfoInt(dst, "maxmemory", limit)
	dst = server.InfoLine(dst, "maxmemory_human", humanBytes(limit))
	return server.InfoLine(dst, "maxmemory_policy", s.eng.Policy().String())
}

// infoStats appends the store's lines of the INFO stats section.
func (s *Store) infoStats(dst []byte) []byte {
	st := s.eng.Stats()
	dst = server.InfoInt(dst, "expired_keys", st.ExpiredTotal)
	return server.InfoInt(dst, "evicted_keys", st.EvictedTotal)
}

// humanBytes formats n as Redis's INFO does: 0B, 1023B, 1.00K, 1.93M.
func humanBytes(n int64) string {
	const units = "KMGTPE"
	if n < 1024 {
		return strconv.FormatInt(n, 10) + "B"
	}
	f, i := float64(n)/1024, 0
	for f >= 1024 && i < len(units)-1 {
		f /= 1024
		i++
	}
	return strconv.FormatFloat(f, 'f', 2, 64) + units[i:i+1]
}
