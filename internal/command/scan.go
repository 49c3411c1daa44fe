package command

import "math"

// ScanArgs holds SCAN's parsed arguments.
type ScanArgs struct {
	// Cursor is the cursor as strtoul reads it (so "-1" is 2^64-1).
	Cursor uint64
	// Match is the MATCH pattern, nil when absent or "*" (Redis then
	// skips matching).
	Match []byte
	// Count is the COUNT hint, 10 by default.
	Count int
	// Type is the TYPE filter as given, nil when absent. Redis compares
	// it with each key's type name ignoring case (up to a NUL byte); an
	// unknown name matches nothing.
	Type []byte
}

// ParseScan parses SCAN cursor [MATCH pattern] [COUNT count] [TYPE type]
// (args is the whole argv) as Redis 7.0: ErrInvalidCursor first, then,
// option by option, ErrNotInteger for a bad COUNT, ErrSyntax for COUNT < 1,
// for unknown options and for an option missing its value. Later
// options override earlier ones.
func ParseScan(args [][]byte) (ScanArgs, error) {
	cur, ok := parseCursor(args[1])
	if !ok {
		return ScanArgs{}, ErrInvalidCursor
	}
	a := ScanArgs{Cursor: cur, Count: 10}
	for i := 2; i < len(args); i += 2 {
		opt := cstr(args[i])
		hasValue := i+1 < len(args)
		switch {
		case equalFold(opt, "count") && hasValue:
			n, ok := ParseInt(args[i+1])
			if !ok {
				return ScanArgs{}, ErrNotInteger
			}
			if n < 1 {
				return ScanArgs{}, ErrSyntax
			}
			a.Count = int(n)
		case equalFold(opt, "match") && hasValue:
			a.Match = args[i+1]
			if len(a.Match) == 1 && a.Match[0] == '*' {
				a.Match = nil
			}
		case equalFold(opt, "type") && hasValue:
			a.Type = args[i+1]
		default:
			return ScanArgs{}, ErrSyntax
		}
	}
	return a, nil
}

// parseCursor reads a cursor as parseScanCursorOrReply does: strtoul in
// base 10 on the C string (so "", "+5", "-1" and "7\x00junk" are valid
// and "-1" wraps), rejecting a leading space, trailing bytes and
// overflow.
func parseCursor(b []byte) (uint64, bool) {
	s := cstr(b)
	if len(s) > 0 && isCSpace(s[0]) {
		return 0, false
	}
	i, neg := 0, false
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		neg = s[i] == '-'
		i++
	}
	if i == len(s) || !isDigit(s[i]) {
		// No digits: strtoul converts nothing and points at the start,
		// which is only the end for the empty string.
		return 0, len(s) == 0
	}
	var v uint64
	overflow := false
	for ; i < len(s) && isDigit(s[i]); i++ {
		d := uint64(s[i] - '0')
		if v > (math.MaxUint64-d)/10 {
			overflow = true
		}
		v = v*10 + d
	}
	if overflow || i != len(s) {
		return 0, false
	}
	if neg {
		v = -v
	}
	return v, true
}
