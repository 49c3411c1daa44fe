package resp

import (
	"errors"
	"io"
	"strconv"
	"strings"
	"testing"
	"testing/iotest"
)

// readAll reads every command from src until an error, returning the
// commands (joined by spaces per argument with | between args) and the error.
func readAll(t *testing.T, rd *Reader) ([]string, error) {
	t.Helper()
	var cmds []string
	for {
		args, err := rd.ReadCommand()
		if err != nil {
			return cmds, err
		}
		parts := make([]string, len(args))
		for i, a := range args {
			parts[i] = string(a)
		}
		cmds = append(cmds, strings.Join(parts, "|"))
	}
}

func TestReadCommand(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []string
		err  string // protocol error message, "" for clean EOF
	}{
		{"multibulk", "*2\r\n$3\r\nGET\r\n$1\r\nk\r\n", []string{"GET|k"}, ""},
		{"pipeline", "*1\r\n$4\r\nPING\r\n*2\r\n$4\r\nECHO\r\n$2\r\nhi\r\n", []string{"PING", "ECHO|hi"}, ""},
		{"binary safe", "*2\r\n$3\r\nSET\r\n$4\r\na\r\nb\r\n", []string{"SET|a\r\nb"}, ""},
		{"empty bulk", "*2\r\n$4\r\nECHO\r\n$0\r\n\r\n", []string{"ECHO|"}, ""},
		{"zero and negative multibulk skipped", "*0\r\n*-1\r\n*1\r\n$4\r\nPING\r\n", []string{"PING"}, ""},
		{"bulk trailer unchecked like redis", "*1\r\n$4\r\nPINGxx", []string{"PING"}, ""},
		{"inline", "PING\r\n", []string{"PING"}, ""},
		{"inline lf only", "ECHO  a   b\n", []string{"ECHO|a|b"}, ""},
		{"inline blank lines skipped", "\r\n\n  \r\nPING\r\n", []string{"PING"}, ""},
		{"inline double quotes", `SET "a b" "x\ny\x41\"\\"` + "\r\n", []string{"SET|a b|x\nyA\"\\"}, ""},
		{"inline single quotes", `SET 'a b' 'it\'s'` + "\r\n", []string{"SET|a b|it's"}, ""},
		{"inline quote mid token", `SET a"b c"d` + "\r\n", nil, "unbalanced quotes in request"},
		{"inline glued quote", `ECHO x"y z"` + "\r\n", []string{"ECHO|xy z"}, ""},
		{"inline empty quoted", `ECHO ""` + "\r\n", []string{"ECHO|"}, ""},
		{"unbalanced double", "ECHO \"abc\r\n", nil, "unbalanced quotes in request"},
		{"unbalanced single", "ECHO 'abc\r\n", nil, "unbalanced quotes in request"},
		{"quote then text", "ECHO \"a\"b\r\n", nil, "unbalanced quotes in request"},
		{"invalid multibulk", "*abc\r\n", nil, "invalid multibulk length"},
		{"multibulk too large", "*2147483648\r\n", nil, "invalid multibulk length"},
		{"multibulk leading plus", "*+1\r\n", nil, "invalid multibulk length"},
		{"invalid bulk", "*1\r\n$x\r\n", nil, "invalid bulk length"},
		{"negative bulk", "*1\r\n$-1\r\n", nil, "invalid bulk length"},
		{"expected dollar", "*1\r\n:1\r\n", nil, "expected '$', got ':'"},
		{"expected dollar high byte raw", "*1\r\n\xff\r\n", nil, "expected '$', got '\xff'"},
		{"inline NUL line never ends", "PING\x00\r\nPING\r\n", nil, ""},
		{"multibulk NUL header never ends", "*1\x00\r\n$4\r\nPING\r\n", nil, ""},
		{"bulk NUL header never ends", "*1\r\n$4\x00\r\nPING\r\n", nil, ""},
		{"NUL inside a bulk is data", "*1\r\n$4\r\nPI\x00G\r\nPING\r\n", []string{"PI\x00G", "PING"}, ""},
		{"commands before error run", "PING\r\n*1\r\nfoo\r\n", []string{"PING"}, "expected '$', got 'f'"},
		{"partial at eof", "*2\r\n$3\r\nGET\r\n", nil, ""},
	}
	for _, tt := range tests {
		for _, chunked := range []bool{false, true} {
			name := tt.name
			var src io.Reader = strings.NewReader(tt.in)
			if chunked {
				name += "/bytewise"
				src = iotest.OneByteReader(src)
			}
			t.Run(name, func(t *testing.T) {
				got, err := readAll(t, NewReader(src))
				if strings.Join(got, " ; ") != strings.Join(tt.want, " ; ") {
					t.Errorf("commands = %q, want %q", got, tt.want)
				}
				var pe *ProtocolError
				switch {
				case tt.err == "" && err != io.EOF:
					t.Errorf("err = %v, want io.EOF", err)
				case tt.err != "" && (!errors.As(err, &pe) || pe.Msg != tt.err):
					t.Errorf("err = %v, want protocol error %q", err, tt.err)
				}
			})
		}
	}
}

func TestReadCommandLimits(t *testing.T) {
	t.Run("bulk over max", func(t *testing.T) {
		rd := NewReader(strings.NewReader("*1\r\n$11\r\nhello world\r\n"))
		rd.MaxBulkLen = 10
		_, err := rd.ReadCommand()
		var pe *ProtocolError
		if !errors.As(err, &pe) || pe.Reply() != "ERR Protocol error: invalid bulk length" {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("bulk at max", func(t *testing.T) {
		rd := NewReader(strings.NewReader("*1\r\n$10\r\nhelloworld\r\n"))
		rd.MaxBulkLen = 10
		if args, err := rd.ReadCommand(); err != nil || string(args[0]) != "helloworld" {
			t.Fatalf("args %q err %v", args, err)
		}
	})
	for _, tt := range []struct{ name, in, err string }{
		{"inline too big", strings.Repeat("a", InlineMaxSize+1), "too big inline request"},
		{"mbulk count too big", "*" + strings.Repeat("1", InlineMaxSize+1), "too big mbulk count string"},
		{"bulk count too big", "*1\r\n$" + strings.Repeat("1", InlineMaxSize+1), "too big bulk count string"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewReader(strings.NewReader(tt.in)).ReadCommand()
			var pe *ProtocolError
			if !errors.As(err, &pe) || pe.Msg != tt.err {
				t.Fatalf("err = %v, want %q", err, tt.err)
			}
		})
	}
	for _, tt := range []struct {
		name, in     string
		authRequired bool
		err          string // "" when the command must be read
	}{
		{"unauthenticated 10 args", "*10\r\n" + strings.Repeat("$1\r\nx\r\n", 10), true, ""},
		{"unauthenticated 11 args", "*11\r\n", true, "unauthenticated multibulk length"},
		{"authenticated 11 args", "*11\r\n" + strings.Repeat("$1\r\nx\r\n", 11), false, ""},
		{"unauthenticated bulk at limit", "*1\r\n$16384\r\n" + strings.Repeat("x", 16384) + "\r\n", true, ""},
		{"unauthenticated bulk over limit", "*1\r\n$16385\r\n", true, "unauthenticated bulk length"},
		{"unauthenticated invalid bulk checked first", "*1\r\n$-5\r\n", true, "invalid bulk length"},
		{"authenticated bulk over limit", "*1\r\n$16385\r\n" + strings.Repeat("x", 16385) + "\r\n", false, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			rd := NewReader(strings.NewReader(tt.in))
			rd.AuthRequired = tt.authRequired
			_, err := rd.ReadCommand()
			var pe *ProtocolError
			switch {
			case tt.err == "" && err != nil:
				t.Fatalf("err = %v, want the command", err)
			case tt.err != "" && (!errors.As(err, &pe) || pe.Msg != tt.err):
				t.Fatalf("err = %v, want %q", err, tt.err)
			}
		})
	}
	t.Run("query buffer limit", func(t *testing.T) {
		rd := NewReader(strings.NewReader("*1\r\n$100000\r\n" + strings.Repeat("x", 50000)))
		rd.MaxQueryBuffer = 40000
		if _, err := rd.ReadCommand(); err != ErrQueryBufferLimit {
			t.Fatalf("err = %v, want ErrQueryBufferLimit", err)
		}
	})
}

func TestReadCommandLargeValueAndShrink(t *testing.T) {
	big := strings.Repeat("v", 3<<20)
	in := "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$" + strconv.Itoa(len(big)) + "\r\n" + big + "\r\n*1\r\n$4\r\nPING\r\n"
	rd := NewReader(iotest.HalfReader(strings.NewReader(in)))
	args, err := rd.ReadCommand()
	if err != nil || len(args) != 3 || string(args[2]) != big {
		t.Fatalf("large SET not read intact: err %v", err)
	}
	args, err = rd.ReadCommand()
	if err != nil || string(args[0]) != "PING" {
		t.Fatalf("after large value: %q %v", args, err)
	}
	if _, err := rd.ReadCommand(); err != io.EOF {
		t.Fatalf("err = %v, want EOF", err)
	}
	if cap(rd.buf) > maxIdleBufSize {
		t.Fatalf("buffer kept %d bytes after the large command", cap(rd.buf))
	}
}

// countingReader counts the Read calls made on it.
type countingReader struct {
	io.Reader
	reads int
}

func (c *countingReader) Read(p []byte) (int, error) {
	c.reads++
	return c.Reader.Read(p)
}

// TestReadCommandGrowsGeometrically guards against growing the buffer just
// past the data read, which copies the whole buffer once per read: the
// number of reads of a large command must stay logarithmic in its size.
func TestReadCommandGrowsGeometrically(t *testing.T) {
	manyArgs := "*20001\r\n$4\r\nMSET\r\n" + strings.Repeat("$8\r\nkey:0001\r\n", 20000)
	for _, tt := range []struct {
		name, in string
		args     int
	}{
		{"many small arguments", manyArgs, 20001},
		{"long inline line", "ECHO " + strings.Repeat("x", InlineMaxSize-100) + "\r\n", 2},
		{"large last argument", "*2\r\n$4\r\nECHO\r\n$1000000\r\n" + strings.Repeat("v", 1000000) + "\r\n", 2},
	} {
		t.Run(tt.name, func(t *testing.T) {
			src := &countingReader{Reader: strings.NewReader(tt.in)}
			rd := NewReader(src)
			args, err := rd.ReadCommand()
			if err != nil || len(args) != tt.args {
				t.Fatalf("got %d args, err %v; want %d args", len(args), err, tt.args)
			}
			if src.reads > 16 {
				t.Fatalf("%d reads for a %d-byte command; want at most 16", src.reads, len(tt.in))
			}
		})
	}
}

func TestBeforeReadFlushesOncePerBatch(t *testing.T) {
	pipeline := strings.Repeat("*1\r\n$4\r\nPING\r\n", 16)
	rd := NewReader(strings.NewReader(pipeline))
	calls, cmds := 0, 0
	rd.BeforeRead = func() error { calls++; return nil }
	for {
		if _, err := rd.ReadCommand(); err != nil {
			break
		}
		cmds++
	}
	if cmds != 16 || calls != 2 { // one read for the batch, one that hits EOF
		t.Fatalf("cmds %d, BeforeRead calls %d; want 16 and 2", cmds, calls)
	}
}

func BenchmarkReadCommandPipeline(b *testing.B) {
	cmd := "*2\r\n$3\r\nGET\r\n$10\r\nkey:000042\r\n"
	batch := []byte(strings.Repeat(cmd, 16))
	src := &loopReader{data: batch}
	rd := NewReader(src)
	b.ReportAllocs()
	b.SetBytes(int64(len(cmd)))
	for b.Loop() {
		if _, err := rd.ReadCommand(); err != nil {
			b.Fatal(err)
		}
	}
}

// loopReader returns data forever, one copy per Read.
type loopReader struct{ data []byte }

func (l *loopReader) Read(p []byte) (int, error) { return copy(p, l.data), nil }
