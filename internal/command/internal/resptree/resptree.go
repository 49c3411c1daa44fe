// Package resptree parses RESP2 and RESP3 replies into a tree that keeps
// every wire detail (the type byte, the exact text of integers and doubles,
// null forms), so that a reply can be filtered and written back byte for
// byte. The command table generator and the tests that compare corral's
// replies with a live redis-server share it; it is not for the hot path.
package resptree

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
)

// Value is one RESP value. Kind is the type byte ('+', '-', ':', '$', '*',
// '%', '~', '>', '|', '_', ',', '#', '(', '=', '!'). Str holds the text of
// simple types and the payload of bulk types; Null marks "$-1" and "*-1";
// Elems holds aggregate members, a map's keys and values alternating.
type Value struct {
	Kind  byte
	Str   []byte
	Null  bool
	Elems []Value
}

// ErrProtocol reports a malformed reply.
var ErrProtocol = errors.New("resptree: protocol error")

// Read parses one value from r.
func Read(r *bufio.Reader) (Value, error) {
	line, err := r.ReadSlice('\n')
	if err != nil {
		return Value{}, err
	}
	if len(line) < 3 || line[len(line)-2] != '\r' {
		return Value{}, fmt.Errorf("%w: bad line %q", ErrProtocol, line)
	}
	kind, text := line[0], append([]byte(nil), line[1:len(line)-2]...)
	v := Value{Kind: kind}
	switch kind {
	case '+', '-', ':', ',', '#', '(', '_':
		v.Str = text
		return v, nil
	case '$', '=', '!':
		n, err := strconv.Atoi(string(text))
		if err != nil {
			return Value{}, fmt.Errorf("%w: bad length %q", ErrProtocol, text)
		}
		if n < 0 {
			v.Null = true
			return v, nil
		}
		buf := make([]byte, n+2)
		if _, err := io.ReadFull(r, buf); err != nil {
			return Value{}, err
		}
		v.Str = buf[:n]
		return v, nil
	case '*', '%', '~', '>', '|':
		n, err := strconv.Atoi(string(text))
		if err != nil {
			return Value{}, fmt.Errorf("%w: bad length %q", ErrProtocol, text)
		}
		if n < 0 {
			v.Null = true
			return v, nil
		}
		if kind == '%' || kind == '|' {
			n *= 2
		}
		v.Elems = make([]Value, 0, n)
		for i := 0; i < n; i++ {
			e, err := Read(r)
			if err != nil {
				return Value{}, err
			}
			v.Elems = append(v.Elems, e)
		}
		return v, nil
	}
	return Value{}, fmt.Errorf("%w: unknown type %q", ErrProtocol, kind)
}

// Parse parses exactly one value from b.
func Parse(b []byte) (Value, error) {
	r := bufio.NewReader(bytes.NewReader(b))
	v, err := Read(r)
	if err != nil {
		return Value{}, err
	}
	if r.Buffered() != 0 {
		return Value{}, fmt.Errorf("%w: %d trailing bytes", ErrProtocol, r.Buffered())
	}
	return v, nil
}

// Append appends v's wire form to dst.
func (v Value) Append(dst []byte) []byte {
	dst = append(dst, v.Kind)
	switch {
	case v.Null:
		return append(dst, "-1\r\n"...)
	case v.Kind == '$' || v.Kind == '=' || v.Kind == '!':
		dst = strconv.AppendInt(dst, int64(len(v.Str)), 10)
		dst = append(dst, '\r', '\n')
		dst = append(dst, v.Str...)
		return append(dst, '\r', '\n')
	case v.IsAggregate():
		n := len(v.Elems)
		if v.Kind == '%' || v.Kind == '|' {
			n /= 2
		}
		dst = strconv.AppendInt(dst, int64(n), 10)
		dst = append(dst, '\r', '\n')
		for _, e := range v.Elems {
			dst = e.Append(dst)
		}
		return dst
	}
	dst = append(dst, v.Str...)
	return append(dst, '\r', '\n')
}

// Bytes returns v's wire form.
func (v Value) Bytes() []byte { return v.Append(nil) }

// IsAggregate reports whether v holds elements.
func (v Value) IsAggregate() bool {
	switch v.Kind {
	case '*', '%', '~', '>', '|':
		return true
	}
	return false
}

// Text returns the text of a simple or bulk string value.
func (v Value) Text() string { return string(v.Str) }

// Lookup returns the value stored under key in a map, or in a RESP2 array
// of alternating keys and values, and whether it was found.
func (v Value) Lookup(key string) (Value, int, bool) {
	for i := 0; i+1 < len(v.Elems); i += 2 {
		if string(v.Elems[i].Str) == key {
			return v.Elems[i+1], i + 1, true
		}
	}
	return Value{}, -1, false
}

// ToRESP2 converts a RESP3 value to what redis-server sends a RESP2 client:
// maps become flat arrays, sets and pushes arrays, doubles bulk strings,
// booleans integers and verbatim strings bulk strings. Only the types
// COMMAND INFO and COMMAND DOCS use are needed; nulls must be converted by
// the caller, since RESP2 has two of them.
func ToRESP2(v Value) Value {
	out := Value{Kind: v.Kind, Str: v.Str, Null: v.Null}
	switch v.Kind {
	case '%', '~', '>':
		out.Kind = '*'
	case ',':
		out.Kind = '$'
	case '#':
		out.Kind = ':'
		if string(v.Str) == "t" {
			out.Str = []byte("1")
		} else {
			out.Str = []byte("0")
		}
	case '=':
		out.Kind = '$'
		if len(v.Str) >= 4 {
			out.Str = v.Str[4:]
		}
	}
	if v.IsAggregate() {
		out.Elems = make([]Value, len(v.Elems))
		for i, e := range v.Elems {
			out.Elems[i] = ToRESP2(e)
		}
	}
	return out
}

// AppendCommand appends args as a RESP multibulk command to dst.
func AppendCommand(dst []byte, args ...string) []byte {
	dst = append(dst, '*')
	dst = strconv.AppendInt(dst, int64(len(args)), 10)
	dst = append(dst, '\r', '\n')
	for _, a := range args {
		dst = append(dst, '$')
		dst = strconv.AppendInt(dst, int64(len(a)), 10)
		dst = append(dst, '\r', '\n')
		dst = append(dst, a...)
		dst = append(dst, '\r', '\n')
	}
	return dst
}
