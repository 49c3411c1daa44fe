package cluster

import (
	"strconv"

	"corral/cluster/engine"
	"corral/internal/command"
	"corral/internal/resp"
)

// execDel implements DEL and UNLINK key [key ...]: the number of keys
// deleted (a key named twice counts once, since it is gone the second
// time).
func (s *Store) execDel(w *resp.Writer, args [][]byte, nowMs int64) {
	var n int64
	for _, key := range args[1:] {
		if s.eng.Delete(key, nowMs) {
			n++
		}
	}
	w.Int(n)
}

// execExists implements EXISTS and TOUCH key [key ...]: the number of
// arguments naming a live key, repeats counted.
func (s *Store) execExists(w *resp.Writer, args [][]byte, nowMs int64) {
	var n int64
	for _, key := range args[1:] {
		if _, ok := s.eng.Get(key, nowMs); ok {
			n++
		}
	}
	w.Int(n)
}

// execType implements TYPE key: "string", or "none" when missing; corral
// stores nothing else.
func (s *Store) execType(w *resp.Writer, args [][]byte, nowMs int64) {
	if _, ok := s.eng.Get(args[1], nowMs); ok {
		w.Status("string")
		return
	}
	w.Status("none")
}

// execScan implements SCAN cursor [MATCH pattern] [COUNT count] [TYPE
// type] over the engine's cursor: a two-element array of the next cursor,
// as a bulk string, and the keys found. Filters apply after the count, as
// in Redis, so a call may return fewer keys than COUNT (even none) with a
// non-zero cursor. TYPE matches "string" (any case) and nothing else.
func (s *Store) execScan(w *resp.Writer, args [][]byte, nowMs int64) {
	a, err := command.ParseScan(args)
	if err != nil {
		replyErr(w, err)
		return
	}
	typeOK := a.Type == nil || cstrEqualFold(a.Type, "string")
	var keys [][]byte
	next := s.eng.Scan(a.Cursor, a.Count, nowMs, func(key []byte, _ engine.Record) {
		if typeOK && (a.Match == nil || command.Match(a.Match, key, false)) {
			keys = append(keys, key)
		}
	})
	var tmp [maxInt64Len]byte
	w.Array(2)
	w.Bulk(strconv.AppendUint(tmp[:0], next, 10))
	w.Array(len(keys))
	for _, k := range keys {
		w.Bulk(k)
	}
}

// execFlush implements FLUSHALL and FLUSHDB [ASYNC|SYNC], which Store.Exec
// lets through only with AllowFlush: both drop every record, tombstones
// included, at once; any other argument is ErrSyntax.
func (s *Store) execFlush(w *resp.Writer, args [][]byte) {
	if len(args) > 2 || (len(args) == 2 && !cstrEqualFold(args[1], "sync") && !cstrEqualFold(args[1], "async")) {
		replyErr(w, command.ErrSyntax)
		return
	}
	s.eng.Flush()
	w.OK()
}
