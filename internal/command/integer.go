package command

import (
	"math"

	"corral/internal/resp"
)

// ParseInt parses b as Redis's string2ll does for integer arguments and
// values (INCR, EX seconds, SCAN COUNT, ...): an optional '-', then
// decimal digits without leading zeros ("0" alone is fine, "-0" is not),
// no spaces, no '+', at most 20 bytes, within int64. It reports false
// where Redis answers ErrNotInteger.
//
// ParseInt is on hot paths; it does not allocate.
func ParseInt(b []byte) (int64, bool) { return resp.ParseInt(b) }

// ParseIntArg is ParseInt returning ErrNotInteger on failure.
func ParseIntArg(b []byte) (int64, error) {
	v, ok := ParseInt(b)
	if !ok {
		return 0, ErrNotInteger
	}
	return v, nil
}

// AddInt returns value+incr, or ErrOverflow when the sum leaves int64, as
// INCR, INCRBY, DECR and DECRBY check it.
func AddInt(value, incr int64) (int64, error) {
	if (incr < 0 && value < 0 && incr < math.MinInt64-value) ||
		(incr > 0 && value > 0 && incr > math.MaxInt64-value) {
		return 0, ErrOverflow
	}
	return value + incr, nil
}

// ParseIncrBy parses the increment argument of INCRBY (decr false) or
// DECRBY (decr true) and returns the signed amount to add: ErrNotInteger
// for a bad number, and for DECRBY -9223372036854775808 ErrDecrOverflow.
// Redis parses it before looking at the key.
func ParseIncrBy(arg []byte, decr bool) (int64, error) {
	v, ok := ParseInt(arg)
	if !ok {
		return 0, ErrNotInteger
	}
	if !decr {
		return v, nil
	}
	if v == math.MinInt64 {
		return 0, ErrDecrOverflow
	}
	return -v, nil
}

// ParseSelect parses SELECT's index: ErrNotInteger for a bad number and
// the int range error outside [-2147483648, 2147483647]. The caller then
// answers ErrDBIndexOutOfRange for indexes it does not have (negative
// ones included).
func ParseSelect(arg []byte) (int, error) {
	v, ok := ParseInt(arg)
	if !ok {
		return 0, ErrNotInteger
	}
	if v < math.MinInt32 || v > math.MaxInt32 {
		return 0, ErrValueOutOfRange(math.MinInt32, math.MaxInt32)
	}
	return int(v), nil
}

// CheckStringLength reports ErrStringTooLong when a value of size bytes
// growing by add bytes would exceed max (proto-max-bulk-len, 512 MiB by
// default) or overflow, as APPEND (size = current length, add = appended
// length) and SETRANGE (size = offset, add = value length) check it.
func CheckStringLength(size, add, max int64) error {
	total := int64(uint64(size) + uint64(add))
	if total > max || total < size || total < add {
		return ErrStringTooLong
	}
	return nil
}

// ParseSetRangeOffset parses SETRANGE's offset: ErrNotInteger, or
// ErrOffsetOutOfRange when negative. Redis checks it before the key; then
// a missing key with an empty value answers 0, an existing one of another
// type WRONGTYPE, an empty value the current length, and only then
// CheckStringLength(offset, len(value), max) applies.
func ParseSetRangeOffset(arg []byte) (int64, error) {
	v, ok := ParseInt(arg)
	if !ok {
		return 0, ErrNotInteger
	}
	if v < 0 {
		return 0, ErrOffsetOutOfRange
	}
	return v, nil
}

// Substr resolves GETRANGE's start and end (inclusive, negative counting
// from the end) against a value of length n as Redis 7.0 does, returning
// the half-open byte range [from, to); from == to means an empty reply.
func Substr(start, end int64, n int) (from, to int) {
	if start < 0 && end < 0 && start > end {
		return 0, 0
	}
	l := int64(n)
	if start < 0 {
		start += l
	}
	if end < 0 {
		end += l
	}
	if start < 0 {
		start = 0
	}
	if end < 0 {
		end = 0
	}
	if end >= l {
		end = l - 1
	}
	if start > end || l == 0 {
		return 0, 0
	}
	return int(start), int(end + 1)
}
