package resp

import (
	"math"
	"strconv"
	"strings"
)

// Writer appends RESP replies to an in-memory buffer. Proto selects the
// encoding (2 or 3) of the types that differ between the protocols: nulls,
// maps, sets, doubles, booleans and verbatim strings.
//
// A Writer is not safe for concurrent use; each connection owns one.
type Writer struct {
	buf   []byte
	Proto int // 2 (default when 0) or 3
}

// Bytes returns the buffered replies. The slice is valid until the next
// write or Reset.
func (w *Writer) Bytes() []byte { return w.buf }

// Len returns the number of buffered bytes.
func (w *Writer) Len() int { return len(w.buf) }

// Reset empties the buffer, keeping its capacity unless it grew beyond max
// bytes (so one huge reply does not pin memory for the connection's life).
func (w *Writer) Reset(max int) {
	if cap(w.buf) > max {
		w.buf = nil
		return
	}
	w.buf = w.buf[:0]
}

// Truncate drops everything written after n bytes; callers use it to
// discard a partially written reply.
func (w *Writer) Truncate(n int) { w.buf = w.buf[:n] }

// Is3 reports whether the connection speaks RESP3.
func (w *Writer) Is3() bool { return w.Proto == 3 }

// Raw appends b as is; it must already be valid RESP.
func (w *Writer) Raw(b []byte) { w.buf = append(w.buf, b...) }

// RawString appends s as is; it must already be valid RESP.
func (w *Writer) RawString(s string) { w.buf = append(w.buf, s...) }

// OK appends +OK.
func (w *Writer) OK() { w.buf = append(w.buf, "+OK\r\n"...) }

// Status appends a simple string. s must not contain CR or LF.
func (w *Writer) Status(s string) {
	w.buf = append(w.buf, '+')
	w.buf = append(w.buf, s...)
	w.buf = append(w.buf, '\r', '\n')
}

// Error appends an error reply. msg is the whole text after the '-', for
// example "ERR syntax error" or "WRONGTYPE Operation against ...". As Redis
// does, CR and LF inside msg are replaced by spaces so the reply stays one
// line; a msg without an upper-case code gets none added (callers pass
// complete texts).
func (w *Writer) Error(msg string) {
	w.buf = append(w.buf, '-')
	if strings.ContainsAny(msg, "\r\n") {
		msg = strings.Map(func(r rune) rune {
			if r == '\r' || r == '\n' {
				return ' '
			}
			return r
		}, msg)
	}
	w.buf = append(w.buf, msg...)
	w.buf = append(w.buf, '\r', '\n')
}

// Int appends an integer reply.
func (w *Writer) Int(n int64) {
	w.buf = append(w.buf, ':')
	w.buf = strconv.AppendInt(w.buf, n, 10)
	w.buf = append(w.buf, '\r', '\n')
}

// Bulk appends a bulk string. A nil b is written as an empty string, not a
// null; use Null for that.
func (w *Writer) Bulk(b []byte) {
	w.buf = append(w.buf, '$')
	w.buf = strconv.AppendInt(w.buf, int64(len(b)), 10)
	w.buf = append(w.buf, '\r', '\n')
	w.buf = append(w.buf, b...)
	w.buf = append(w.buf, '\r', '\n')
}

// BulkString appends s as a bulk string.
func (w *Writer) BulkString(s string) {
	w.buf = append(w.buf, '$')
	w.buf = strconv.AppendInt(w.buf, int64(len(s)), 10)
	w.buf = append(w.buf, '\r', '\n')
	w.buf = append(w.buf, s...)
	w.buf = append(w.buf, '\r', '\n')
}

// BulkInt appends n formatted in decimal as a bulk string.
func (w *Writer) BulkInt(n int64) {
	var tmp [20]byte
	w.Bulk(strconv.AppendInt(tmp[:0], n, 10))
}

// Null appends a null bulk string: $-1 in RESP2, _ in RESP3.
func (w *Writer) Null() {
	if w.Proto == 3 {
		w.buf = append(w.buf, "_\r\n"...)
		return
	}
	w.buf = append(w.buf, "$-1\r\n"...)
}

// NullArray appends a null array: *-1 in RESP2, _ in RESP3.
func (w *Writer) NullArray() {
	if w.Proto == 3 {
		w.buf = append(w.buf, "_\r\n"...)
		return
	}
	w.buf = append(w.buf, "*-1\r\n"...)
}

// Array appends an array header for n elements, which the caller then
// appends.
func (w *Writer) Array(n int) { w.header('*', n) }

// Map appends a map header for n key/value pairs: %n in RESP3, an array of
// 2n elements in RESP2.
func (w *Writer) Map(n int) {
	if w.Proto == 3 {
		w.header('%', n)
		return
	}
	w.header('*', 2*n)
}

// Set appends a set header: ~n in RESP3, an array in RESP2.
func (w *Writer) Set(n int) {
	if w.Proto == 3 {
		w.header('~', n)
		return
	}
	w.header('*', n)
}

// Push appends a push header: >n in RESP3, an array in RESP2.
func (w *Writer) Push(n int) {
	if w.Proto == 3 {
		w.header('>', n)
		return
	}
	w.header('*', n)
}

// Bool appends a boolean: #t/#f in RESP3, :1/:0 in RESP2.
func (w *Writer) Bool(b bool) {
	switch {
	case w.Proto == 3 && b:
		w.buf = append(w.buf, "#t\r\n"...)
	case w.Proto == 3:
		w.buf = append(w.buf, "#f\r\n"...)
	case b:
		w.buf = append(w.buf, ":1\r\n"...)
	default:
		w.buf = append(w.buf, ":0\r\n"...)
	}
}

// Double appends a double: ,f in RESP3, a bulk string in RESP2, formatted
// as Redis's addReplyDouble does (%.17g, inf, -inf, nan).
func (w *Writer) Double(f float64) {
	var tmp [32]byte
	var s []byte
	switch {
	case math.IsInf(f, 1):
		s = append(tmp[:0], "inf"...)
	case math.IsInf(f, -1):
		s = append(tmp[:0], "-inf"...)
	case math.IsNaN(f):
		s = append(tmp[:0], "nan"...)
	default:
		s = strconv.AppendFloat(tmp[:0], f, 'g', 17, 64)
	}
	if w.Proto == 3 {
		w.buf = append(w.buf, ',')
		w.buf = append(w.buf, s...)
		w.buf = append(w.buf, '\r', '\n')
		return
	}
	w.Bulk(s)
}

// Verbatim appends a verbatim string of the given three-letter format
// ("txt" or "mkd"): =len\r\nfmt:s in RESP3, a plain bulk string in RESP2.
func (w *Writer) Verbatim(format, s string) {
	if w.Proto != 3 {
		w.BulkString(s)
		return
	}
	w.buf = append(w.buf, '=')
	w.buf = strconv.AppendInt(w.buf, int64(len(s)+4), 10)
	w.buf = append(w.buf, '\r', '\n')
	w.buf = append(w.buf, format...)
	w.buf = append(w.buf, ':')
	w.buf = append(w.buf, s...)
	w.buf = append(w.buf, '\r', '\n')
}

func (w *Writer) header(c byte, n int) {
	w.buf = append(w.buf, c)
	w.buf = strconv.AppendInt(w.buf, int64(n), 10)
	w.buf = append(w.buf, '\r', '\n')
}
