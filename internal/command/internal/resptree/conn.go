package resptree

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"time"
)

// Conn is a minimal synchronous RESP client that keeps the raw bytes of
// every reply. It is meant for the generator and for tests talking to a
// redis-server on 127.0.0.1.
type Conn struct {
	nc  net.Conn
	rec recorder
	r   *bufio.Reader
}

// recorder copies every byte read from the socket into buf.
type recorder struct {
	src io.Reader
	buf bytes.Buffer
}

func (r *recorder) Read(p []byte) (int, error) {
	n, err := r.src.Read(p)
	r.buf.Write(p[:n])
	return n, err
}

// Dial connects to addr with the given timeout for the dial and for each
// later request.
func Dial(addr string, timeout time.Duration) (*Conn, error) {
	nc, err := net.DialTimeout("tcp", addr, timeout)
	if err != nil {
		return nil, err
	}
	c := &Conn{nc: nc}
	c.rec.src = nc
	c.r = bufio.NewReader(&c.rec)
	return c, nil
}

// Close closes the connection.
func (c *Conn) Close() error { return c.nc.Close() }

// Do sends args and returns the parsed reply and its exact bytes. A Redis
// error reply is returned as a Value of kind '-', not as an error.
func (c *Conn) Do(args ...string) (Value, []byte, error) {
	return c.DoRaw(AppendCommand(nil, args...))
}

// DoRaw sends pre-encoded bytes (for example an inline command or a
// command with binary arguments) holding exactly one command and returns
// the reply like Do.
func (c *Conn) DoRaw(req []byte) (Value, []byte, error) {
	if err := c.nc.SetDeadline(time.Now().Add(10 * time.Second)); err != nil {
		return Value{}, nil, err
	}
	if _, err := c.nc.Write(req); err != nil {
		return Value{}, nil, err
	}
	c.rec.buf.Reset()
	v, err := Read(c.r)
	if err != nil {
		return Value{}, nil, err
	}
	if c.r.Buffered() != 0 {
		return Value{}, nil, fmt.Errorf("%w: unexpected data after reply", ErrProtocol)
	}
	raw := append([]byte(nil), c.rec.buf.Bytes()...)
	return v, raw, nil
}
