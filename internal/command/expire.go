package command

import "math"

// ExpireCond is the set of EXPIRE conditions given (Redis 7.0's NX, XX,
// GT, LT). XX may combine with GT or LT; the zero value sets the expiry
// unconditionally.
type ExpireCond uint8

// Expiry conditions.
const (
	// ExpireNX sets the expiry only when the key has none.
	ExpireNX ExpireCond = 1 << iota
	// ExpireXX sets it only when the key has one.
	ExpireXX
	// ExpireGT sets it only when later than the current one; a key
	// without expiry counts as infinite, so GT never applies to it.
	ExpireGT
	// ExpireLT sets it only when earlier than the current one; a key
	// without expiry counts as infinite, so LT always applies to it.
	ExpireLT
)

// Allows reports whether EXPIRE with conditions c may set the expiry of
// an existing key to atMs, given whether the key has an expiry and its
// current absolute expiry currentMs. When it does not, Redis replies 0.
func (c ExpireCond) Allows(hasExpiry bool, currentMs, atMs int64) bool {
	if c&ExpireNX != 0 && hasExpiry {
		return false
	}
	if c&ExpireXX != 0 && !hasExpiry {
		return false
	}
	if c&ExpireGT != 0 && (!hasExpiry || atMs <= currentMs) {
		return false
	}
	if c&ExpireLT != 0 && hasExpiry && atMs >= currentMs {
		return false
	}
	return true
}

// ParseExpire parses EXPIRE (unitMs 1000), PEXPIRE (unitMs 1), EXPIREAT
// (1000, absolute) and PEXPIREAT (1, absolute): args is the whole argv,
// key, time, then NX|XX|GT|LT options. It returns the absolute expiry in
// Unix milliseconds (it may be in the past, even negative: Redis then
// deletes the key and replies 1) and the conditions. Errors come in
// Redis's order: "ERR Unsupported option <opt>", the NX/GT/LT conflicts,
// ErrNotInteger, then "invalid expire time in '<cmd>' command" when the
// unit conversion or the addition of now overflows. Redis checks all of
// them before looking at the key.
func ParseExpire(args [][]byte, nowMs int64, unitMs int64, absolute bool) (atMs int64, cond ExpireCond, err error) {
	for _, opt := range args[3:] {
		o := cstr(opt)
		switch {
		case equalFold(o, "nx"):
			cond |= ExpireNX
		case equalFold(o, "xx"):
			cond |= ExpireXX
		case equalFold(o, "gt"):
			cond |= ExpireGT
		case equalFold(o, "lt"):
			cond |= ExpireLT
		default:
			return 0, 0, ErrUnsupportedOption(opt)
		}
	}
	if cond&ExpireNX != 0 && cond&(ExpireXX|ExpireGT|ExpireLT) != 0 {
		return 0, 0, ErrExpireNXAndOthers
	}
	if cond&ExpireGT != 0 && cond&ExpireLT != 0 {
		return 0, 0, ErrExpireGTAndLT
	}
	when, ok := ParseInt(args[2])
	if !ok {
		return 0, 0, ErrNotInteger
	}
	if unitMs != 1 {
		if when > math.MaxInt64/unitMs || when < math.MinInt64/unitMs {
			return 0, 0, ErrInvalidExpire(lowerName(args[0]))
		}
		when *= unitMs
	}
	var base int64
	if !absolute {
		base = nowMs
	}
	if when > math.MaxInt64-base {
		return 0, 0, ErrInvalidExpire(lowerName(args[0]))
	}
	return when + base, cond, nil
}

// lowerName returns a command name as Redis's fullname: lower case.
func lowerName(b []byte) string {
	out := make([]byte, len(b))
	for i, c := range b {
		if c-'A' < 26 {
			c += 'a' - 'A'
		}
		out[i] = c
	}
	return string(out)
}
