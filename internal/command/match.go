package command

// Match reports whether s matches the glob pattern as Redis 7.0's
// stringmatchlen does (KEYS, SCAN MATCH, COMMAND LIST FILTERBY PATTERN):
// '*' any run of bytes, '?' one byte, "[abc]", "[^abc]" and "[a-z]"
// classes (reversed ranges swap; an unclosed '[' runs to the end of the
// pattern), and '\' quoting the next byte. nocase folds ASCII letters.
// Like Redis, it compares bytes as C's signed char in ranges, and it gives
// up on the longer matches of an earlier '*' once the rest of the pattern
// failed everywhere, so pathological patterns stay fast.
//
// Match is on SCAN's per-key path: it does not allocate.
func Match(pattern, s []byte, nocase bool) bool {
	skip := false
	return matchImpl(pattern, s, nocase, &skip)
}

func matchImpl(p, s []byte, nocase bool, skipLonger *bool) bool {
	for len(p) > 0 && len(s) > 0 {
		advance := true
		switch p[0] {
		case '*':
			for len(p) > 1 && p[1] == '*' {
				p = p[1:]
			}
			if len(p) == 1 {
				return true
			}
			for len(s) > 0 {
				if matchImpl(p[1:], s, nocase, skipLonger) {
					return true
				}
				if *skipLonger {
					return false
				}
				s = s[1:]
			}
			*skipLonger = true
			return false
		case '?':
			s = s[1:]
		case '[':
			p = p[1:]
			not := len(p) > 0 && p[0] == '^'
			if not {
				p = p[1:]
			}
			match := false
			for {
				if len(p) == 0 {
					// Unclosed class: it ends with the pattern.
					advance = false
					break
				}
				if p[0] == '\\' && len(p) >= 2 {
					p = p[1:]
					if p[0] == s[0] {
						match = true
					}
				} else if p[0] == ']' {
					break
				} else if len(p) >= 3 && p[1] == '-' {
					start, end, c := int(int8(p[0])), int(int8(p[2])), int(int8(s[0]))
					if start > end {
						start, end = end, start
					}
					if nocase {
						start, end, c = lower(start), lower(end), lower(c)
					}
					p = p[2:]
					if c >= start && c <= end {
						match = true
					}
				} else if nocase {
					if lower(int(int8(p[0]))) == lower(int(int8(s[0]))) {
						match = true
					}
				} else if p[0] == s[0] {
					match = true
				}
				p = p[1:]
			}
			if not {
				match = !match
			}
			if !match {
				return false
			}
			s = s[1:]
		case '\\':
			if len(p) >= 2 {
				p = p[1:]
			}
			fallthrough
		default:
			if nocase {
				if lower(int(int8(p[0]))) != lower(int(int8(s[0]))) {
					return false
				}
			} else if p[0] != s[0] {
				return false
			}
			s = s[1:]
		}
		if advance {
			p = p[1:]
		}
		if len(s) == 0 {
			for len(p) > 0 && p[0] == '*' {
				p = p[1:]
			}
			break
		}
	}
	return len(p) == 0 && len(s) == 0
}

// lower is C's tolower in the C locale, on a signed char value.
func lower(c int) int {
	if c >= 'A' && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}
