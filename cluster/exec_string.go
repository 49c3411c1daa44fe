package cluster

import (
	"corral/cluster/engine"
	"corral/internal/command"
	"corral/internal/resp"
)

// execGet implements GET key: the value, or a null.
func (s *Store) execGet(w *resp.Writer, args [][]byte, nowMs int64) {
	s.getValue(w, args[1], nowMs)
}

// getValue writes key's value at nowMs, or a null.
func (s *Store) getValue(w *resp.Writer, key []byte, nowMs int64) {
	if r, ok := s.eng.Get(key, nowMs); ok {
		w.Bulk(r.Value)
		return
	}
	w.Null()
}

// execSet implements SET key value [NX|XX] [GET] [EX|PX|EXAT|PXAT t|KEEPTTL]
// as one engine update: without GET it replies OK, or a null when NX or
// XX stops it; with GET it replies the previous value (or a null) whether
// or not it set the key.
func (s *Store) execSet(w *resp.Writer, args [][]byte, nowMs int64) {
	a, err := command.ParseSet(args, nowMs)
	if err != nil {
		replyErr(w, err)
		return
	}
	val := clone(args[2])
	var (
		old    []byte
		had    bool
		stored bool
	)
	s.eng.Update(args[1], nowMs, func(cur engine.Record, exists bool) (engine.Record, engine.Op) {
		old, had = cur.Value, exists
		if (a.NX && exists) || (a.XX && !exists) {
			return cur, engine.OpNone
		}
		stored = true
		next := engine.Record{Value: val, ExpireAt: s.clientDeadline(a.ExpireAtMs, nowMs)}
		if a.KeepTTL {
			next.ExpireAt = cur.ExpireAt
		}
		return next, engine.OpPut
	})
	switch {
	case a.Get && had:
		w.Bulk(old)
	case a.Get, !stored:
		w.Null()
	default:
		w.OK()
	}
}

// execSetNX implements SETNX key value: 1 when it set the key, 0 when the
// key already existed.
func (s *Store) execSetNX(w *resp.Writer, args [][]byte, nowMs int64) {
	val := clone(args[2])
	stored := false
	s.eng.Update(args[1], nowMs, func(cur engine.Record, exists bool) (engine.Record, engine.Op) {
		if exists {
			return cur, engine.OpNone
		}
		stored = true
		return engine.Record{Value: val}, engine.OpPut
	})
	w.Int(b2i(stored))
}

// b2i returns 1 for true and 0 for false.
func b2i(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

// execSetEx implements SETEX key seconds value (unitMs 1000) and PSETEX
// key milliseconds value (unitMs 1).
func (s *Store) execSetEx(w *resp.Writer, args [][]byte, nowMs, unitMs int64) {
	at, err := command.ParseSetEx(args, nowMs, unitMs)
	if err != nil {
		replyErr(w, err)
		return
	}
	at = s.clientDeadline(at, nowMs)
	s.put(args[1], clone(args[3]), at, nowMs)
	w.OK()
}

// put stores val under key with deadline expireAt (0 for none),
// unconditionally. val must be a copy the engine may keep.
func (s *Store) put(key, val []byte, expireAt, nowMs int64) {
	s.eng.Update(key, nowMs, func(engine.Record, bool) (engine.Record, engine.Op) {
		return engine.Record{Value: val, ExpireAt: expireAt}, engine.OpPut
	})
}

// execGetSet implements GETSET key value: stores value without a TTL and
// replies the previous value, or a null.
func (s *Store) execGetSet(w *resp.Writer, args [][]byte, nowMs int64) {
	val := clone(args[2])
	var (
		old []byte
		had bool
	)
	s.eng.Update(args[1], nowMs, func(cur engine.Record, exists bool) (engine.Record, engine.Op) {
		old, had = cur.Value, exists
		return engine.Record{Value: val}, engine.OpPut
	})
	bulkOrNull(w, old, had)
}

// execGetDel implements GETDEL key: deletes the key and replies its value,
// or a null.
func (s *Store) execGetDel(w *resp.Writer, args [][]byte, nowMs int64) {
	var (
		old []byte
		had bool
	)
	s.eng.Update(args[1], nowMs, func(cur engine.Record, exists bool) (engine.Record, engine.Op) {
		old, had = cur.Value, exists
		return cur, engine.OpDelete
	})
	bulkOrNull(w, old, had)
}

// execGetEx implements GETEX key [EX|PX|EXAT|PXAT t|PERSIST]: replies the
// value (or a null) and changes the TTL in the same engine update. As in
// Redis, a bad expiry value is reported only for an existing key, and a
// deadline already past deletes the key after its value was read.
func (s *Store) execGetEx(w *resp.Writer, args [][]byte, nowMs int64) {
	a, err := command.ParseGetEx(args, nowMs)
	if err != nil {
		replyErr(w, err)
		return
	}
	if !a.Persist && !a.HasExpire && a.ExpireErr == nil {
		s.getValue(w, args[1], nowMs)
		return
	}
	var (
		val []byte
		had bool
	)
	s.eng.Update(args[1], nowMs, func(cur engine.Record, exists bool) (engine.Record, engine.Op) {
		val, had = cur.Value, exists
		switch {
		case !exists || a.ExpireErr != nil:
			return cur, engine.OpNone
		case a.HasExpire && a.ExpireAtMs <= nowMs:
			return cur, engine.OpDelete
		case a.HasExpire:
			return engine.Record{Value: cur.Value, ExpireAt: s.clientDeadline(a.ExpireAtMs, nowMs)}, engine.OpPut
		case cur.ExpireAt != 0: // PERSIST on a key with a TTL
			return engine.Record{Value: cur.Value}, engine.OpPut
		default:
			return cur, engine.OpNone
		}
	})
	if had && a.ExpireErr != nil {
		replyErr(w, a.ExpireErr)
		return
	}
	bulkOrNull(w, val, had)
}

// bulkOrNull writes v as a bulk string when ok, else a null.
func bulkOrNull(w *resp.Writer, v []byte, ok bool) {
	if ok {
		w.Bulk(v)
		return
	}
	w.Null()
}

// execMGet implements MGET key [key ...]: an array of values and nulls.
func (s *Store) execMGet(w *resp.Writer, args [][]byte, nowMs int64) {
	w.Array(len(args) - 1)
	for _, key := range args[1:] {
		s.getValue(w, key, nowMs)
	}
}

// execMSet implements MSET key value [key value ...]. Each key is set
// atomically, but the keys are not set as one transaction: a concurrent
// reader may see some of the new values before others.
func (s *Store) execMSet(w *resp.Writer, spec *command.Spec, args [][]byte, nowMs int64) {
	if len(args)%2 == 0 {
		w.Error(command.ErrArity(spec))
		return
	}
	for i := 1; i < len(args); i += 2 {
		s.put(args[i], clone(args[i+1]), 0, nowMs)
	}
	w.OK()
}

// execMSetNX implements MSETNX key value [key value ...]: sets every key
// and replies 1 if none of them exists, else sets nothing and replies 0.
//
// The keys live in different partitions, so the check and the writes
// cannot share one lock: MSETNX checks every key, then writes each one
// with its own update that still refuses to overwrite a key created in
// between (so it never clobbers a concurrent writer; that key then keeps
// the other writer's value, as if that write came just after MSETNX). A
// key named twice takes its last value, as in Redis.
func (s *Store) execMSetNX(w *resp.Writer, spec *command.Spec, args [][]byte, nowMs int64) {
	if len(args)%2 == 0 {
		w.Error(command.ErrArity(spec))
		return
	}
	for i := 1; i < len(args); i += 2 {
		if _, ok := s.eng.Get(args[i], nowMs); ok {
			w.Int(0)
			return
		}
	}
	last := lastIndexes(args)
	for i := 1; i < len(args); i += 2 {
		if last != nil && last[string(args[i])] != i {
			continue
		}
		val := clone(args[i+1])
		s.eng.Update(args[i], nowMs, func(cur engine.Record, exists bool) (engine.Record, engine.Op) {
			if exists {
				return cur, engine.OpNone
			}
			return engine.Record{Value: val}, engine.OpPut
		})
	}
	w.Int(1)
}

// lastIndexes maps each key of an MSET-style argv to the argument index
// of its last occurrence, or returns nil when no key is repeated.
func lastIndexes(args [][]byte) map[string]int {
	if len(args) <= 3 {
		return nil
	}
	last := make(map[string]int, len(args)/2)
	for i := 1; i < len(args); i += 2 {
		last[string(args[i])] = i
	}
	if len(last) == len(args)/2 {
		return nil
	}
	return last
}
