package cluster

import (
	"corral/cluster/engine"
	"corral/internal/command"
	"corral/internal/resp"
)

// execExpire implements EXPIRE (unitMs 1000), PEXPIRE (1), EXPIREAT (1000,
// absolute) and PEXPIREAT (1, absolute) key time [NX|XX|GT|LT]: 1 when the
// TTL was set, 0 when the key is missing or a condition refused it. A
// deadline at or before nowMs deletes the key (and replies 1), as Redis
// does. Argument errors come first, whether or not the key exists.
func (s *Store) execExpire(w *resp.Writer, args [][]byte, nowMs, unitMs int64, absolute bool) {
	at, cond, err := command.ParseExpire(args, nowMs, unitMs, absolute)
	if err != nil {
		replyErr(w, err)
		return
	}
	at = s.clientDeadline(at, nowMs)
	done := false
	s.eng.Update(args[1], nowMs, func(cur engine.Record, exists bool) (engine.Record, engine.Op) {
		if !exists || !cond.Allows(cur.ExpireAt != 0, cur.ExpireAt, at) {
			return cur, engine.OpNone
		}
		done = true
		if at <= nowMs {
			return cur, engine.OpDelete
		}
		return engine.Record{Value: cur.Value, ExpireAt: at}, engine.OpPut
	})
	w.Int(b2i(done))
}

// execTTL implements TTL (ms false), PTTL (ms true), EXPIRETIME (ms false,
// abs true) and PEXPIRETIME (ms true, abs true): -2 for a missing key, -1
// for one without TTL, else the remaining time (or the deadline) in the
// unit, seconds rounded to nearest as Redis does ((ms+500)/1000).
func (s *Store) execTTL(w *resp.Writer, args [][]byte, nowMs int64, ms, abs bool) {
	r, ok := s.eng.Get(args[1], nowMs)
	switch {
	case !ok:
		w.Int(-2)
		return
	case r.ExpireAt == 0:
		w.Int(-1)
		return
	}
	t := r.ExpireAt
	if !abs {
		t -= nowMs
	}
	t = max(t, 0)
	if !ms {
		t = roundMsToSeconds(t)
	}
	w.Int(t)
}

// roundMsToSeconds returns (ms+500)/1000 for ms >= 0 as if computed
// without overflow: for a deadline of 2^63-1 ms Redis replies
// 9223372036854776, not a wrapped negative number.
func roundMsToSeconds(ms int64) int64 {
	return ms/1000 + (ms%1000+500)/1000
}

// execPersist implements PERSIST key: 1 when it removed a TTL, 0 when the
// key is missing or has none.
func (s *Store) execPersist(w *resp.Writer, args [][]byte, nowMs int64) {
	done := false
	s.eng.Update(args[1], nowMs, func(cur engine.Record, exists bool) (engine.Record, engine.Op) {
		if !exists || cur.ExpireAt == 0 {
			return cur, engine.OpNone
		}
		done = true
		return engine.Record{Value: cur.Value}, engine.OpPut
	})
	w.Int(b2i(done))
}
