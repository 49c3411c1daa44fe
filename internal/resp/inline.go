package resp

// splitArgs splits an inline command line the way Redis's sdssplitargs
// does: blanks separate arguments; "double quotes" understand \n \r \t \b \a
// \xHH and \<any>; 'single quotes' understand \'; a closing quote must be
// followed by a blank or the end of the line; a NUL byte ends the line. It
// reports false for unbalanced quotes. The returned slices alias r.inline.
func (r *Reader) splitArgs(line []byte) ([][]byte, bool) {
	r.inline = r.inline[:0]
	r.offs = r.offs[:0]
	i := 0
	at := func(j int) byte { // the C string view: NUL past the end
		if j < len(line) {
			return line[j]
		}
		return 0
	}
	for {
		for at(i) != 0 && isSpace(at(i)) {
			i++
		}
		if at(i) == 0 {
			break
		}
		start := len(r.inline)
		inq, insq := false, false
		for done := false; !done; {
			c := at(i)
			switch {
			case inq:
				switch {
				case c == '\\' && at(i+1) == 'x' && isHex(at(i+2)) && isHex(at(i+3)):
					r.inline = append(r.inline, unhex(at(i+2))<<4|unhex(at(i+3)))
					i += 3
				case c == '\\' && at(i+1) != 0:
					i++
					r.inline = append(r.inline, unescape(at(i)))
				case c == '"':
					if n := at(i + 1); n != 0 && !isSpace(n) {
						return nil, false
					}
					done = true
				case c == 0:
					return nil, false
				default:
					r.inline = append(r.inline, c)
				}
			case insq:
				switch {
				case c == '\\' && at(i+1) == '\'':
					i++
					r.inline = append(r.inline, '\'')
				case c == '\'':
					if n := at(i + 1); n != 0 && !isSpace(n) {
						return nil, false
					}
					done = true
				case c == 0:
					return nil, false
				default:
					r.inline = append(r.inline, c)
				}
			default:
				switch c {
				case ' ', '\n', '\r', '\t', 0:
					done = true
				case '"':
					inq = true
				case '\'':
					insq = true
				default:
					r.inline = append(r.inline, c)
				}
			}
			if at(i) != 0 {
				i++
			}
		}
		r.offs = append(r.offs, start, len(r.inline))
	}
	r.args = r.args[:0]
	for j := 0; j < len(r.offs); j += 2 {
		r.args = append(r.args, r.inline[r.offs[j]:r.offs[j+1]:r.offs[j+1]])
	}
	return r.args, true
}

// isSpace is C's isspace in the "C" locale.
func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r'
}

func isHex(c byte) bool {
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')
}

func unhex(c byte) byte {
	switch {
	case c >= '0' && c <= '9':
		return c - '0'
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10
	default:
		return c - 'A' + 10
	}
}

func unescape(c byte) byte {
	switch c {
	case 'n':
		return '\n'
	case 'r':
		return '\r'
	case 't':
		return '\t'
	case 'b':
		return '\b'
	case 'a':
		return '\a'
	}
	return c
}
