package command

import "math"

// SetArgs holds SET's parsed options.
type SetArgs struct {
	NX, XX, Get, KeepTTL bool
	// ExpireAtMs is the absolute expiry in Unix milliseconds, 0 for none.
	// An EXAT or PXAT in the past is kept as given (Redis sets the key and
	// lets it expire at once).
	ExpireAtMs int64
}

// GetExArgs holds GETEX's parsed options.
type GetExArgs struct {
	// Persist removes the key's expiry.
	Persist bool
	// ExpireAtMs is the new absolute expiry in Unix milliseconds when
	// HasExpire; it may lie in the past (EXAT, PXAT), in which case Redis
	// deletes the key after replying its value.
	ExpireAtMs int64
	HasExpire  bool
	// ExpireErr is an invalid EX/PX/EXAT/PXAT value (ErrNotInteger or
	// "invalid expire time in 'getex' command"). Redis checks the value
	// only after the key lookup: the caller replies null for a missing
	// key, WRONGTYPE for a non-string, and ExpireErr only after that.
	ExpireErr error
}

// Option bits, as Redis's OBJ_* flags in parseExtendedStringArgumentsOrReply.
const (
	optNX = 1 << iota
	optXX
	optGet
	optKeepTTL
	optPersist
	optEX
	optPX
	optEXAT
	optPXAT

	optExpire = optEX | optPX | optEXAT | optPXAT
)

// parseStringOpts reads SET (set true, options from args[3]) or GETEX
// (options from args[2]) options as Redis 7.0 does: each option is
// accepted only if no conflicting one came before, an expiry needs a
// following argument, and repeating the same expiry option is allowed
// (the last one wins). Anything else is ErrSyntax.
func parseStringOpts(args [][]byte, set bool) (flags int, expire []byte, err error) {
	j := 2
	if set {
		j = 3
	}
	for ; j < len(args); j++ {
		opt := cstr(args[j])
		hasNext := j < len(args)-1
		switch {
		case set && equalFold(opt, "nx") && flags&optXX == 0:
			flags |= optNX
		case set && equalFold(opt, "xx") && flags&optNX == 0:
			flags |= optXX
		case set && equalFold(opt, "get"):
			flags |= optGet
		case set && equalFold(opt, "keepttl") && flags&(optPersist|optExpire) == 0:
			flags |= optKeepTTL
		case !set && equalFold(opt, "persist") && flags&(optKeepTTL|optExpire) == 0:
			flags |= optPersist
		case hasNext && expireOpt(opt) != 0 && flags&(optKeepTTL|optPersist|optExpire&^expireOpt(opt)) == 0:
			flags |= expireOpt(opt)
			expire = args[j+1]
			j++
		default:
			return 0, nil, ErrSyntax
		}
	}
	return flags, expire, nil
}

// expireMs converts an expiry argument as getExpireMillisecondsOrReply
// does: ErrNotInteger, then "invalid expire time" for values <= 0, for
// seconds that overflow when multiplied, and for relative times whose sum
// with now overflows.
func expireMs(arg []byte, flags int, nowMs int64, name string) (int64, error) {
	ms, ok := ParseInt(arg)
	if !ok {
		return 0, ErrNotInteger
	}
	seconds := flags&(optEX|optEXAT) != 0
	if ms <= 0 || (seconds && ms > math.MaxInt64/1000) {
		return 0, ErrInvalidExpire(name)
	}
	if seconds {
		ms *= 1000
	}
	if flags&(optEX|optPX) != 0 {
		ms += nowMs // wraps on overflow, like Redis; caught below
	}
	if ms <= 0 {
		return 0, ErrInvalidExpire(name)
	}
	return ms, nil
}

// ParseSet parses SET key value [NX|XX] [GET] [EX s|PX ms|EXAT ts|PXAT
// ts|KEEPTTL] (args is the whole argv) with Redis 7.0's checks in Redis's
// order: ErrSyntax for any bad or conflicting option, then ErrNotInteger
// or "invalid expire time in 'set' command" for the expiry. GET with NX
// is allowed, as in 7.0. nowMs is the current Unix time in milliseconds,
// used for EX and PX. The caller checks WRONGTYPE for GET afterwards.
func ParseSet(args [][]byte, nowMs int64) (SetArgs, error) {
	flags, expire, err := parseStringOpts(args, true)
	if err != nil {
		return SetArgs{}, err
	}
	a := SetArgs{
		NX:      flags&optNX != 0,
		XX:      flags&optXX != 0,
		Get:     flags&optGet != 0,
		KeepTTL: flags&optKeepTTL != 0,
	}
	if expire != nil {
		if a.ExpireAtMs, err = expireMs(expire, flags, nowMs, "set"); err != nil {
			return SetArgs{}, err
		}
	}
	return a, nil
}

// ParseGetEx parses GETEX key [EX s|PX ms|EXAT ts|PXAT ts|PERSIST] (args
// is the whole argv). The error is ErrSyntax, which Redis reports before
// looking at the key; an invalid expiry value is deferred to
// GetExArgs.ExpireErr (see there).
func ParseGetEx(args [][]byte, nowMs int64) (GetExArgs, error) {
	flags, expire, err := parseStringOpts(args, false)
	if err != nil {
		return GetExArgs{}, err
	}
	a := GetExArgs{Persist: flags&optPersist != 0}
	if expire != nil {
		a.ExpireAtMs, a.ExpireErr = expireMs(expire, flags, nowMs, "getex")
		a.HasExpire = a.ExpireErr == nil
	}
	return a, nil
}

// ParseSetEx parses the expiry of SETEX key seconds value (unitMs 1000)
// or PSETEX key milliseconds value (unitMs 1) and returns the absolute
// expiry in Unix milliseconds: ErrNotInteger, or "invalid expire time in
// 'setex' command" ('psetex') for values <= 0 or overflowing ones.
func ParseSetEx(args [][]byte, nowMs int64, unitMs int64) (int64, error) {
	flags, name := optEX, "setex"
	if unitMs == 1 {
		flags, name = optPX, "psetex"
	}
	return expireMs(args[2], flags, nowMs, name)
}

// expireOpt maps EX, PX, EXAT and PXAT (any case) to their flag, anything
// else to 0.
func expireOpt(opt []byte) int {
	switch {
	case equalFold(opt, "ex"):
		return optEX
	case equalFold(opt, "px"):
		return optPX
	case equalFold(opt, "exat"):
		return optEXAT
	case equalFold(opt, "pxat"):
		return optPXAT
	}
	return 0
}
