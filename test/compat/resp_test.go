package compat_test

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// value is one parsed RESP2 or RESP3 reply that keeps every wire detail,
// so a reply can be edited (subcommands reordered, an id masked) and
// written back byte for byte.
type value struct {
	kind  byte   // the type byte: + - : $ * _ , # ( = % ~ > !
	head  string // the header line after the type byte, without CRLF
	str   string // payload of bulk, verbatim and blob error replies
	elems []value
}

// parseValue parses exactly one reply.
func parseValue(raw string) (value, error) {
	r := bufio.NewReader(strings.NewReader(raw))
	v, err := readValue(r)
	if err != nil {
		return v, err
	}
	if r.Buffered() != 0 {
		return v, errors.New("resp: trailing bytes after the reply")
	}
	return v, nil
}

func readValue(r *bufio.Reader) (value, error) {
	line, err := r.ReadString('\n')
	if err != nil {
		return value{}, err
	}
	if len(line) < 3 || !strings.HasSuffix(line, "\r\n") {
		return value{}, fmt.Errorf("resp: malformed line %q", line)
	}
	v := value{kind: line[0], head: line[1 : len(line)-2]}
	switch v.kind {
	case '+', '-', ':', '_', ',', '#', '(':
		return v, nil
	case '$', '=', '!':
		n, err := strconv.Atoi(v.head)
		if err != nil {
			return v, fmt.Errorf("resp: bad length %q", v.head)
		}
		if n < 0 {
			return v, nil
		}
		buf := make([]byte, n+2)
		if _, err := io.ReadFull(r, buf); err != nil {
			return v, err
		}
		v.str = string(buf[:n])
		return v, nil
	case '*', '~', '>', '%':
		n, err := strconv.Atoi(v.head)
		if err != nil {
			return v, fmt.Errorf("resp: bad count %q", v.head)
		}
		if v.kind == '%' {
			n *= 2
		}
		for range max(n, 0) {
			e, err := readValue(r)
			if err != nil {
				return v, err
			}
			v.elems = append(v.elems, e)
		}
		return v, nil
	}
	return v, fmt.Errorf("resp: unknown type %q", v.kind)
}

// bytes encodes v back into RESP, recomputing aggregate counts.
func (v value) bytes() string {
	var b strings.Builder
	v.write(&b)
	return b.String()
}

func (v value) write(b *strings.Builder) {
	switch v.kind {
	case '$', '=', '!':
		b.WriteByte(v.kind)
		if v.head == "-1" {
			b.WriteString("-1\r\n")
			return
		}
		b.WriteString(strconv.Itoa(len(v.str)) + "\r\n" + v.str + "\r\n")
	case '*', '~', '>', '%':
		n := len(v.elems)
		if v.kind == '%' {
			n /= 2
		}
		if v.head == "-1" {
			n = -1
		}
		b.WriteByte(v.kind)
		b.WriteString(strconv.Itoa(n) + "\r\n")
		for _, e := range v.elems {
			e.write(b)
		}
	default:
		b.WriteByte(v.kind)
		b.WriteString(v.head + "\r\n")
	}
}

// text returns the string content of a simple, bulk, verbatim or integer
// reply.
func (v value) text() string {
	switch v.kind {
	case '$', '!':
		return v.str
	case '=':
		if len(v.str) >= 4 {
			return v.str[4:]
		}
		return v.str
	}
	return v.head
}

// lookup finds key in a map (RESP3) or flat key-value array (RESP2) and
// returns the index of its value.
func (v value) lookup(key string) (int, bool) {
	for i := 0; i+1 < len(v.elems); i += 2 {
		if v.elems[i].text() == key {
			return i + 1, true
		}
	}
	return 0, false
}
