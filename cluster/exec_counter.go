package cluster

import (
	"strconv"

	"corral/cluster/engine"
	"corral/internal/command"
	"corral/internal/resp"
)

// maxInt64Len is the longest decimal int64, "-9223372036854775808".
const maxInt64Len = 20

// execIncrBy implements INCR, DECR, INCRBY and DECRBY: adds delta to the
// integer held at key (a missing key counts as 0), keeping its TTL, and
// replies the new value. A value that is not a Redis integer gives
// ErrNotInteger and an int64 overflow ErrOverflow; the key is then left
// as it was.
func (s *Store) execIncrBy(w *resp.Writer, key []byte, delta, nowMs int64) {
	buf := make([]byte, 0, maxInt64Len)
	var (
		n   int64
		err error
	)
	s.eng.Update(key, nowMs, func(cur engine.Record, exists bool) (engine.Record, engine.Op) {
		var v int64
		if exists {
			var ok bool
			if v, ok = command.ParseInt(cur.Value); !ok {
				err = command.ErrNotInteger
				return cur, engine.OpNone
			}
		}
		if n, err = command.AddInt(v, delta); err != nil {
			return cur, engine.OpNone
		}
		return engine.Record{Value: strconv.AppendInt(buf, n, 10), ExpireAt: cur.ExpireAt}, engine.OpPut
	})
	if err != nil {
		replyErr(w, err)
		return
	}
	w.Int(n)
}

// execIncrByFloat implements INCRBYFLOAT key increment with Redis's long
// double arithmetic and formatting (command.IncrFloat): it keeps the TTL
// and replies the new value as a bulk string; ErrNotFloat for a value or
// increment that is not a float, ErrNaNOrInfinity for a non-finite sum.
func (s *Store) execIncrByFloat(w *resp.Writer, args [][]byte, nowMs int64) {
	incr := args[2]
	var (
		out []byte
		err error
	)
	s.eng.Update(args[1], nowMs, func(cur engine.Record, exists bool) (engine.Record, engine.Op) {
		if out, err = command.IncrFloat(nil, cur.Value, exists, incr); err != nil {
			return cur, engine.OpNone
		}
		return engine.Record{Value: out, ExpireAt: cur.ExpireAt}, engine.OpPut
	})
	if err != nil {
		replyErr(w, err)
		return
	}
	w.Bulk(out)
}
