package resp

import (
	"bytes"
	"errors"
	"io"
	"math"
)

// Limits and sizes taken from Redis 7.0 (server.h and config.c).
const (
	// DefaultMaxBulkLen is Redis's proto-max-bulk-len default, 512mb.
	DefaultMaxBulkLen = 512 << 20
	// DefaultMaxQueryBuffer is Redis's client-query-buffer-limit default, 1gb.
	DefaultMaxQueryBuffer = 1 << 30
	// UnauthMaxArgs and UnauthMaxBulkLen bound the requests of a client
	// that must still authenticate (Redis 6.2.6+, CVE-2021-32675): at most
	// this many arguments, each at most this many bytes.
	UnauthMaxArgs    = 10
	UnauthMaxBulkLen = 16384
	// InlineMaxSize is PROTO_INLINE_MAX_SIZE: the longest inline command, or
	// header line of a multibulk command, accepted before its line ends.
	InlineMaxSize = 64 << 10

	initialBufSize = 16 << 10
	maxIdleBufSize = 256 << 10
)

// ProtocolError is a malformed request. Its Reply is what Redis answers
// before it closes the connection ("ERR Protocol error: ...").
type ProtocolError struct {
	Msg string // e.g. "invalid multibulk length"
}

// Error returns "resp: protocol error: " and the message.
func (e *ProtocolError) Error() string { return "resp: protocol error: " + e.Msg }

// Reply returns the error text to send to the client, without the leading
// '-': "ERR Protocol error: <msg>".
func (e *ProtocolError) Reply() string { return "ERR Protocol error: " + e.Msg }

// ErrQueryBufferLimit means the client's buffered, unprocessed input grew
// past Reader.MaxQueryBuffer. Redis closes such a client without a reply.
var ErrQueryBufferLimit = errors.New("resp: query buffer limit reached")

var (
	errMultibulkLen = &ProtocolError{"invalid multibulk length"}
	errBulkLen      = &ProtocolError{"invalid bulk length"}
	errBigMultibulk = &ProtocolError{"too big mbulk count string"}
	errBigBulkCount = &ProtocolError{"too big bulk count string"}
	errBigInline    = &ProtocolError{"too big inline request"}
	errUnbalanced   = &ProtocolError{"unbalanced quotes in request"}
	errUnauthMulti  = &ProtocolError{"unauthenticated multibulk length"}
	errUnauthBulk   = &ProtocolError{"unauthenticated bulk length"}
	errNeedMore     = errors.New("need more")
	errEmptyCommand = errors.New("empty command")
)

// Reader reads client commands from a stream. It parses the multibulk and
// inline forms exactly as Redis 7.0's processMultibulkBuffer and
// processInlineBuffer do, including their error texts and limits, and keeps
// partial commands across reads without re-parsing them.
//
// A Reader is not safe for concurrent use. The argument slices returned by
// ReadCommand alias its internal buffer and stay valid only until the next
// call: callers copy what they keep.
type Reader struct {
	src io.Reader
	buf []byte
	r   int // start of unconsumed data
	w   int // end of data read so far

	// State of the command being parsed; offsets are indexes into buf.
	pos     int   // next byte to parse
	nargs   int   // arguments the current multibulk announced; 0 between commands
	bulkLen int   // length of the pending bulk, -1 while its header is unread
	offs    []int // start and end of each argument parsed so far
	args    [][]byte
	inline  []byte // unescaped inline arguments

	// MaxBulkLen bounds one argument (proto-max-bulk-len); a longer one is
	// an "invalid bulk length" protocol error. Default DefaultMaxBulkLen.
	MaxBulkLen int64
	// MaxQueryBuffer bounds the buffered, unprocessed input
	// (client-query-buffer-limit). Default DefaultMaxQueryBuffer.
	MaxQueryBuffer int64
	// AuthRequired, while true, applies Redis's limits for clients that
	// have not authenticated yet: a multibulk of more than UnauthMaxArgs
	// arguments or a bulk longer than UnauthMaxBulkLen is a protocol error.
	// Servers update it between commands.
	AuthRequired bool
	// BeforeRead, when set, runs before every read from the source, that is
	// whenever the reader may block: servers flush pending replies here, so a
	// pipeline gets one write per batch.
	BeforeRead func() error
}

// NewReader returns a Reader over src with Redis's default limits.
func NewReader(src io.Reader) *Reader {
	return &Reader{
		src:            src,
		buf:            make([]byte, initialBufSize),
		bulkLen:        -1,
		MaxBulkLen:     DefaultMaxBulkLen,
		MaxQueryBuffer: DefaultMaxQueryBuffer,
	}
}

// SetSource makes the reader read from src from now on, keeping what it
// has buffered.
func (r *Reader) SetSource(src io.Reader) { r.src = src }

// Buffered returns the number of bytes read but not yet consumed by a
// returned command.
func (r *Reader) Buffered() int { return r.w - r.r }

// ReadCommand returns the next command's arguments, args[0] being its name.
// Empty commands (blank inline lines, "*0", "*-1") are skipped as Redis
// skips them. Errors are *ProtocolError (reply, then close),
// ErrQueryBufferLimit (close), or the source's read error (io.EOF).
func (r *Reader) ReadCommand() ([][]byte, error) {
	for {
		args, err := r.parse()
		switch err {
		case nil:
			return args, nil
		case errEmptyCommand:
			continue
		case errNeedMore:
			if err := r.fill(); err != nil {
				return nil, err
			}
		default:
			return nil, err
		}
	}
}

// parse advances over buffered input. It returns errNeedMore when the
// current command is incomplete; the parse state is kept for the next call.
func (r *Reader) parse() ([][]byte, error) {
	if r.nargs == 0 {
		r.pos = r.r
		if r.pos == r.w {
			return nil, errNeedMore
		}
		if r.buf[r.pos] != '*' {
			return r.parseInline()
		}
		n, err := r.header(errBigMultibulk)
		if err != nil {
			return nil, err
		}
		ll, ok := ParseInt(r.buf[r.pos+1 : r.pos+n])
		switch {
		case !ok || ll > math.MaxInt32:
			return nil, errMultibulkLen
		case ll > UnauthMaxArgs && r.AuthRequired:
			return nil, errUnauthMulti
		}
		r.pos += n + 2
		if ll <= 0 {
			r.r = r.pos
			return nil, errEmptyCommand
		}
		r.nargs = int(ll)
		r.offs = r.offs[:0]
		r.bulkLen = -1
	}
	for len(r.offs)/2 < r.nargs {
		if r.bulkLen < 0 {
			n, err := r.header(errBigBulkCount)
			if err != nil {
				return nil, err
			}
			if c := r.buf[r.pos]; c != '$' {
				// The byte as is, like Redis's %c: not UTF-8 encoded.
				return nil, &ProtocolError{"expected '$', got '" + string([]byte{c}) + "'"}
			}
			ll, ok := ParseInt(r.buf[r.pos+1 : r.pos+n])
			switch {
			case !ok || ll < 0 || ll > r.MaxBulkLen:
				return nil, errBulkLen
			case ll > UnauthMaxBulkLen && r.AuthRequired:
				return nil, errUnauthBulk
			}
			r.pos += n + 2
			r.bulkLen = int(ll)
		}
		if r.w-r.pos < r.bulkLen+2 {
			return nil, errNeedMore
		}
		// Like Redis, skip the two bytes after the payload unchecked.
		r.offs = append(r.offs, r.pos, r.pos+r.bulkLen)
		r.pos += r.bulkLen + 2
		r.bulkLen = -1
	}
	r.args = r.args[:0]
	for i := 0; i < len(r.offs); i += 2 {
		r.args = append(r.args, r.buf[r.offs[i]:r.offs[i+1]:r.offs[i+1]])
	}
	r.r = r.pos
	r.nargs = 0
	return r.args, nil
}

// lineEnd returns the offset from r.pos of the first c, searching as
// Redis's strchr does: a NUL byte ends the search, so a line with a NUL
// before its end never ends (-1).
func (r *Reader) lineEnd(c byte) int {
	n := bytes.IndexByte(r.buf[r.pos:r.w], c)
	if n > 0 && bytes.IndexByte(r.buf[r.pos:r.pos+n], 0) >= 0 {
		return -1
	}
	return n
}

// header finds the "\r" ending the line that starts at r.pos and returns its
// offset from r.pos. Like Redis it only requires one more byte after the
// '\r' (assumed to be '\n'). tooBig is returned once the line runs past
// InlineMaxSize without ending.
func (r *Reader) header(tooBig error) (int, error) {
	n := r.lineEnd('\r')
	if n < 0 {
		if r.w-r.pos > InlineMaxSize {
			return 0, tooBig
		}
		return 0, errNeedMore
	}
	if r.pos+n+1 >= r.w {
		return 0, errNeedMore
	}
	return n, nil
}

func (r *Reader) parseInline() ([][]byte, error) {
	n := r.lineEnd('\n')
	if n < 0 {
		if r.w-r.pos > InlineMaxSize {
			return nil, errBigInline
		}
		return nil, errNeedMore
	}
	line := r.buf[r.pos : r.pos+n]
	if n > 0 && line[n-1] == '\r' {
		line = line[:n-1]
	}
	args, ok := r.splitArgs(line)
	if !ok {
		return nil, errUnbalanced
	}
	r.r = r.pos + n + 1
	if len(args) == 0 {
		return nil, errEmptyCommand
	}
	return args, nil
}

// fill reads more input, compacting and growing the buffer as the pending
// command requires.
func (r *Reader) fill() error {
	switch {
	case r.r == r.w && cap(r.buf) > maxIdleBufSize:
		r.buf = make([]byte, initialBufSize)
		r.shift(r.r)
	case r.r > 0:
		copy(r.buf, r.buf[r.r:r.w])
		r.shift(r.r)
	}
	if r.w == len(r.buf) {
		// Grow by doubling, with the data actually received, never straight
		// to an announced length, so a header alone cannot reserve memory.
		// Doubling keeps the copying linear in the command's size however
		// the input is split (growing to just past the data read would copy
		// the buffer once per read). Only the last argument of a command,
		// whose end is the command's end, caps the growth there.
		size := 2 * len(r.buf)
		if r.nargs > 0 && r.bulkLen >= 0 && len(r.offs)/2 == r.nargs-1 {
			if end := r.pos + r.bulkLen + 2; end > len(r.buf) && end < size {
				size = end
			}
		}
		nb := make([]byte, size)
		copy(nb, r.buf[:r.w])
		r.buf = nb
	}
	if r.BeforeRead != nil {
		if err := r.BeforeRead(); err != nil {
			return err
		}
	}
	n, err := r.src.Read(r.buf[r.w:])
	r.w += n
	if int64(r.w-r.r) > r.MaxQueryBuffer {
		return ErrQueryBufferLimit
	}
	if n > 0 {
		return nil
	}
	if err == nil {
		err = io.ErrNoProgress
	}
	return err
}

// shift moves every offset down by d after the buffer was compacted.
func (r *Reader) shift(d int) {
	r.r -= d
	r.w -= d
	r.pos -= d
	for i := range r.offs {
		r.offs[i] -= d
	}
}
