package cluster

import (
	"bytes"
	"strconv"

	"corral/internal/command"
	"corral/internal/resp"
)

// execData runs one data command against the engine at nowMs (unix ms) and
// writes exactly one reply to w, byte for byte as redis-server 7.0.15 would.
// The server has already checked the arity; args alias the network buffer
// and are copied before the engine keeps any of them. Commands corral's
// store does not serve get Redis's unknown-command error.
func (s *Store) execData(w *resp.Writer, spec *command.Spec, args [][]byte, nowMs int64) {
	switch spec.ID {
	// Strings.
	case command.Get:
		s.execGet(w, args, nowMs)
	case command.Set:
		s.execSet(w, args, nowMs)
	case command.SetNX:
		s.execSetNX(w, args, nowMs)
	case command.SetEx:
		s.execSetEx(w, args, nowMs, 1000)
	case command.PSetEx:
		s.execSetEx(w, args, nowMs, 1)
	case command.GetSet:
		s.execGetSet(w, args, nowMs)
	case command.GetDel:
		s.execGetDel(w, args, nowMs)
	case command.GetEx:
		s.execGetEx(w, args, nowMs)
	case command.MGet:
		s.execMGet(w, args, nowMs)
	case command.MSet:
		s.execMSet(w, spec, args, nowMs)
	case command.MSetNX:
		s.execMSetNX(w, spec, args, nowMs)
	case command.Incr:
		s.execIncrBy(w, args[1], 1, nowMs)
	case command.Decr:
		s.execIncrBy(w, args[1], -1, nowMs)
	case command.IncrBy, command.DecrBy:
		delta, err := command.ParseIncrBy(args[2], spec.ID == command.DecrBy)
		if err != nil {
			replyErr(w, err)
			return
		}
		s.execIncrBy(w, args[1], delta, nowMs)
	case command.IncrByFloat:
		s.execIncrByFloat(w, args, nowMs)
	case command.Append:
		s.execAppend(w, args, nowMs)
	case command.StrLen:
		s.execStrLen(w, args, nowMs)
	case command.GetRange:
		s.execGetRange(w, args, nowMs)
	case command.SetRange:
		s.execSetRange(w, args, nowMs)

	// Keys.
	case command.Del, command.Unlink:
		s.execDel(w, args, nowMs)
	case command.Exists, command.Touch:
		s.execExists(w, args, nowMs)
	case command.Type:
		s.execType(w, args, nowMs)
	case command.Expire:
		s.execExpire(w, args, nowMs, 1000, false)
	case command.PExpire:
		s.execExpire(w, args, nowMs, 1, false)
	case command.ExpireAt:
		s.execExpire(w, args, nowMs, 1000, true)
	case command.PExpireAt:
		s.execExpire(w, args, nowMs, 1, true)
	case command.TTL:
		s.execTTL(w, args, nowMs, false, false)
	case command.PTTL:
		s.execTTL(w, args, nowMs, true, false)
	case command.ExpireTime:
		s.execTTL(w, args, nowMs, false, true)
	case command.PExpireTime:
		s.execTTL(w, args, nowMs, true, true)
	case command.Persist:
		s.execPersist(w, args, nowMs)
	case command.DBSize:
		w.Int(int64(s.eng.Len(nowMs)))
	case command.Scan:
		s.execScan(w, args, nowMs)
	case command.FlushAll, command.FlushDB:
		s.execFlush(w, args)

	default:
		w.Error(command.ErrUnknownCommand(args))
	}
}

// replyErr writes err, a command.Error from a parser or a check, as an
// error reply.
func replyErr(w *resp.Writer, err error) { w.Error(err.Error()) }

// itoa formats n in decimal.
func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// clone returns a copy of b that the engine may keep: request arguments
// alias the connection's read buffer. The copy of an empty b is empty and
// non-nil.
func clone(b []byte) []byte {
	out := make([]byte, len(b))
	copy(out, b)
	return out
}

// cstrEqualFold reports whether C's strcasecmp(b, lower) == 0, as Redis
// compares option words: b is read up to its first NUL byte and only ASCII
// letters fold (unlike bytes.EqualFold, which folds Unicode too). lower
// must be lower-case ASCII.
func cstrEqualFold(b []byte, lower string) bool {
	if i := bytes.IndexByte(b, 0); i >= 0 {
		b = b[:i]
	}
	if len(b) != len(lower) {
		return false
	}
	for i, c := range b {
		if c-'A' < 26 {
			c += 'a' - 'A'
		}
		if c != lower[i] {
			return false
		}
	}
	return true
}
