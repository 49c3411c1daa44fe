package cluster

import (
	"corral/cluster/engine"
	"corral/internal/command"
	"corral/internal/resp"
)

// execAppend implements APPEND key value: creates the key (even with an
// empty value) or appends to it, keeping its TTL, and replies the new
// length. Growing beyond proto-max-bulk-len gives ErrStringTooLong.
//
// Stored values are immutable, so an append copies the old value into a
// new one under the partition's lock: appending to a very large value
// holds that partition for the duration of the copy.
func (s *Store) execAppend(w *resp.Writer, args [][]byte, nowMs int64) {
	suffix := args[2]
	var (
		n   int
		err error
	)
	s.eng.Update(args[1], nowMs, func(cur engine.Record, exists bool) (engine.Record, engine.Op) {
		if exists {
			err = command.CheckStringLength(int64(len(cur.Value)), int64(len(suffix)), s.cfg.Server.ProtoMaxBulkLen)
			if err != nil {
				return cur, engine.OpNone
			}
		}
		v := make([]byte, len(cur.Value)+len(suffix))
		copy(v[copy(v, cur.Value):], suffix)
		n = len(v)
		return engine.Record{Value: v, ExpireAt: cur.ExpireAt}, engine.OpPut
	})
	if err != nil {
		replyErr(w, err)
		return
	}
	w.Int(int64(n))
}

// execStrLen implements STRLEN key: the value's length, 0 when missing.
func (s *Store) execStrLen(w *resp.Writer, args [][]byte, nowMs int64) {
	r, _ := s.eng.Get(args[1], nowMs)
	w.Int(int64(len(r.Value)))
}

// execGetRange implements GETRANGE key start end: the inclusive substring,
// with negative indexes counting from the end; an empty bulk string for a
// missing key or an empty range. start and end are checked first.
func (s *Store) execGetRange(w *resp.Writer, args [][]byte, nowMs int64) {
	start, err := command.ParseIntArg(args[2])
	if err != nil {
		replyErr(w, err)
		return
	}
	end, err := command.ParseIntArg(args[3])
	if err != nil {
		replyErr(w, err)
		return
	}
	r, _ := s.eng.Get(args[1], nowMs)
	from, to := command.Substr(start, end, len(r.Value))
	w.Bulk(r.Value[from:to])
}

// execSetRange implements SETRANGE key offset value: overwrites the value
// from offset on, zero-padding as needed and keeping the TTL, and replies
// the new length. In Redis's order: the offset (ErrNotInteger,
// ErrOffsetOutOfRange); then an empty value replies the current length
// (0 for a missing key, which is not created); then the size limit
// (ErrStringTooLong beyond proto-max-bulk-len).
func (s *Store) execSetRange(w *resp.Writer, args [][]byte, nowMs int64) {
	offset, err := command.ParseSetRangeOffset(args[2])
	if err != nil {
		replyErr(w, err)
		return
	}
	patch := args[3]
	var n int
	s.eng.Update(args[1], nowMs, func(cur engine.Record, exists bool) (engine.Record, engine.Op) {
		n = len(cur.Value)
		if len(patch) == 0 {
			return cur, engine.OpNone
		}
		if err = command.CheckStringLength(offset, int64(len(patch)), s.cfg.Server.ProtoMaxBulkLen); err != nil {
			return cur, engine.OpNone
		}
		end := int(offset) + len(patch)
		v := make([]byte, max(len(cur.Value), end))
		copy(v, cur.Value)
		copy(v[offset:], patch)
		n = len(v)
		return engine.Record{Value: v, ExpireAt: cur.ExpireAt}, engine.OpPut
	})
	if err != nil {
		replyErr(w, err)
		return
	}
	w.Int(int64(n))
}
