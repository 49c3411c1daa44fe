package testkit

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// DefaultTimeout bounds each RawConn read and write unless changed with
// SetTimeout.
const DefaultTimeout = 5 * time.Second

// maxBulk bounds the length a RawConn accepts for one bulk string, so that a
// garbled length fails the test instead of allocating gigabytes.
const maxBulk = 512 << 20

// RawConn is a raw TCP client for protocol tests: it writes bytes exactly as
// given and returns replies as the exact bytes the server sent. Every method
// fails the test (t.Fatalf) on an I/O error, a timeout or a malformed reply,
// so it must be used from the test's goroutine. It is not safe for
// concurrent use.
type RawConn struct {
	t       testing.TB
	addr    string
	conn    net.Conn
	r       *bufio.Reader
	timeout time.Duration
	once    sync.Once // guards closing conn
}

// Dial connects to addr with a raw TCP client and registers a t.Cleanup
// that closes it.
func Dial(t testing.TB, addr string) *RawConn {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, DefaultTimeout)
	if err != nil {
		t.Fatalf("testkit: dial %s: %v", addr, err)
	}
	c := &RawConn{t: t, addr: addr, conn: conn, r: bufio.NewReader(conn), timeout: DefaultTimeout}
	t.Cleanup(c.Close)
	return c
}

// SetTimeout sets the bound on each later Send, ReadReply and Do (default
// DefaultTimeout).
func (c *RawConn) SetTimeout(d time.Duration) { c.timeout = d }

// Send writes raw to the connection as is: inline commands, partial or
// malformed input, several pipelined commands.
func (c *RawConn) Send(raw string) {
	c.t.Helper()
	_ = c.conn.SetWriteDeadline(time.Now().Add(c.timeout))
	if _, err := io.WriteString(c.conn, raw); err != nil {
		c.t.Fatalf("testkit: write to %s: %v", c.addr, err)
	}
}

// Do writes args as one multibulk command and returns the raw bytes of the
// one complete reply that follows.
func (c *RawConn) Do(args ...string) string {
	c.t.Helper()
	c.Send(Command(args...))
	return c.ReadReply()
}

// Command encodes args as a RESP multibulk command.
func Command(args ...string) string {
	var b strings.Builder
	b.WriteString("*" + strconv.Itoa(len(args)) + "\r\n")
	for _, a := range args {
		b.WriteString("$" + strconv.Itoa(len(a)) + "\r\n" + a + "\r\n")
	}
	return b.String()
}

// ReadReply reads one complete reply of any RESP2 or RESP3 type (+ - : $ *
// _ , # ! = ( % ~ > |, and RESP3 streamed strings and aggregates) and returns
// its raw bytes. An attribute (|) is returned together with the reply it
// annotates. The whole reply must arrive within the timeout.
func (c *RawConn) ReadReply() string {
	c.t.Helper()
	_ = c.conn.SetReadDeadline(time.Now().Add(c.timeout))
	raw, err := readReply(c.r, nil)
	if err != nil {
		c.t.Fatalf("testkit: read reply from %s: %v (read so far %q)", c.addr, err, raw)
	}
	return string(raw)
}

// ExpectClosed asserts that the server closes the connection within timeout:
// the next read must report end of file (or a reset) without any further
// byte arriving first.
func (c *RawConn) ExpectClosed(timeout time.Duration) {
	c.t.Helper()
	if n := c.r.Buffered(); n > 0 {
		extra, _ := c.r.Peek(n)
		c.t.Fatalf("testkit: expected %s to close the connection, but %q is unread", c.addr, extra)
	}
	_ = c.conn.SetReadDeadline(time.Now().Add(timeout))
	buf := make([]byte, 4096)
	n, err := c.r.Read(buf)
	switch {
	case n > 0:
		c.t.Fatalf("testkit: expected %s to close the connection, got %q", c.addr, buf[:n])
	case errors.Is(err, io.EOF), errors.Is(err, syscall.ECONNRESET):
	case errors.Is(err, os.ErrDeadlineExceeded):
		c.t.Fatalf("testkit: %s did not close the connection within %v", c.addr, timeout)
	default:
		c.t.Fatalf("testkit: expected %s to close the connection, read failed: %v", c.addr, err)
	}
}

// Close closes the connection. It may be called more than once.
func (c *RawConn) Close() {
	c.once.Do(func() { _ = c.conn.Close() })
}

// readReply appends one complete raw reply read from r to dst.
func readReply(r *bufio.Reader, dst []byte) ([]byte, error) {
	line, err := readLine(r)
	dst = append(dst, line...)
	if err != nil {
		return dst, err
	}
	head := string(line[1 : len(line)-2])
	switch line[0] {
	case '+', '-', ':', '_', ',', '#', '(':
		return dst, nil
	case '$', '!', '=':
		if head == "?" {
			return readStreamedString(r, dst)
		}
		n, err := length(head, line[0] == '$')
		if err != nil || n < 0 {
			return dst, err
		}
		return readBulk(r, dst, n)
	case '*', '~', '>', '%', '|':
		per := 1
		if line[0] == '%' || line[0] == '|' {
			per = 2
		}
		if head == "?" {
			dst, err = readStreamedAggregate(r, dst)
		} else {
			var n int
			n, err = length(head, line[0] == '*')
			for i := 0; err == nil && i < n*per; i++ {
				dst, err = readReply(r, dst)
			}
		}
		if err == nil && line[0] == '|' {
			dst, err = readReply(r, dst) // the reply the attribute annotates
		}
		return dst, err
	}
	return dst, fmt.Errorf("unknown reply type %q", line[0])
}

// readLine reads one line including its CRLF and checks its shape.
func readLine(r *bufio.Reader) ([]byte, error) {
	line, err := r.ReadSlice('\n')
	if errors.Is(err, bufio.ErrBufferFull) {
		rest, err2 := r.ReadString('\n')
		line, err = append(append([]byte(nil), line...), rest...), err2
	} else {
		line = append([]byte(nil), line...)
	}
	if err != nil {
		return line, err
	}
	if len(line) < 3 || line[len(line)-2] != '\r' {
		return line, fmt.Errorf("malformed line %q", line)
	}
	return line, nil
}

// length parses the count or length in a reply header. -1 (null) is
// accepted only when nullable.
func length(head string, nullable bool) (int, error) {
	n, err := strconv.Atoi(head)
	switch {
	case err != nil:
		return 0, fmt.Errorf("bad length %q", head)
	case n == -1 && nullable:
		return -1, nil
	case n < 0 || n > maxBulk:
		return 0, fmt.Errorf("length %d out of range", n)
	}
	return n, nil
}

// readBulk reads n bytes of payload and the CRLF after them.
func readBulk(r *bufio.Reader, dst []byte, n int) ([]byte, error) {
	start := len(dst)
	dst = append(dst, make([]byte, n+2)...)
	if _, err := io.ReadFull(r, dst[start:]); err != nil {
		return dst[:start], err
	}
	if string(dst[len(dst)-2:]) != "\r\n" {
		return dst, fmt.Errorf("bulk of %d bytes not followed by CRLF", n)
	}
	return dst, nil
}

// readStreamedString reads the ;len chunks of a streamed string up to the
// terminating ;0.
func readStreamedString(r *bufio.Reader, dst []byte) ([]byte, error) {
	for {
		line, err := readLine(r)
		dst = append(dst, line...)
		if err != nil {
			return dst, err
		}
		if line[0] != ';' {
			return dst, fmt.Errorf("expected a ;chunk in a streamed string, got %q", line)
		}
		n, err := length(string(line[1:len(line)-2]), false)
		if err != nil || n == 0 {
			return dst, err
		}
		if dst, err = readBulk(r, dst, n); err != nil {
			return dst, err
		}
	}
}

// readStreamedAggregate reads the elements of a streamed aggregate up to the
// terminating ".".
func readStreamedAggregate(r *bufio.Reader, dst []byte) ([]byte, error) {
	for {
		b, err := r.Peek(1)
		if err != nil {
			return dst, err
		}
		if b[0] == '.' {
			line, err := readLine(r)
			dst = append(dst, line...)
			if err == nil && string(line) != ".\r\n" {
				err = fmt.Errorf("malformed end of aggregate %q", line)
			}
			return dst, err
		}
		if dst, err = readReply(r, dst); err != nil {
			return dst, err
		}
	}
}
