package resp

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"testing"
)

// chunkReader hands out its data a few bytes at a time, the sizes cycling
// through sizes, as a slow network would.
type chunkReader struct {
	data  []byte
	sizes []int
	i     int
}

func (c *chunkReader) Read(p []byte) (int, error) {
	if len(c.data) == 0 {
		return 0, io.EOF
	}
	n := c.sizes[c.i%len(c.sizes)]
	c.i++
	n = min(n, len(p), len(c.data))
	copy(p, c.data[:n])
	c.data = c.data[n:]
	return n, nil
}

// parseStream parses every command of src and describes them and the error
// that ended the stream.
func parseStream(src io.Reader) (cmds []string, end string) {
	r := NewReader(src)
	r.MaxBulkLen = 1 << 20
	r.MaxQueryBuffer = 4 << 20
	for {
		args, err := r.ReadCommand()
		if err != nil {
			var pe *ProtocolError
			switch {
			case errors.As(err, &pe):
				return cmds, "protocol: " + pe.Msg
			case errors.Is(err, io.EOF):
				return cmds, "EOF"
			default:
				return cmds, err.Error()
			}
		}
		if len(args) == 0 {
			return cmds, "an empty command was returned"
		}
		cmds = append(cmds, fmt.Sprintf("%q", args))
	}
}

// FuzzReadCommand: whatever the bytes, the parser does not panic, never
// returns an empty command, and reads the same commands and ends with the
// same error whether the input arrives at once or a few bytes at a time
// (pipelining and partial reads must not change what a request means).
func FuzzReadCommand(f *testing.F) {
	for _, seed := range []string{
		"*2\r\n$3\r\nGET\r\n$1\r\nk\r\n",
		"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$5\r\nvalue\r\nPING\r\n",
		"SET k \"a b\" 'c'\r\nGET k\n",
		"*1\r\n$4\r\nPING\r\n*0\r\n*-1\r\n\r\n",
		"*2\r\n$-1\r\n",
		"*x\r\n",
		"$3\r\nGET\r\n",
		"SET k \"unbalanced\r\n",
		"*2\r\n$3\r\nGET\r\n$100\r\nshort\r\n",
	} {
		f.Add([]byte(seed), []byte{1, 2, 3})
	}
	f.Fuzz(func(t *testing.T, data, chunks []byte) {
		whole, wholeEnd := parseStream(bytes.NewReader(data))
		sizes := make([]int, 0, len(chunks))
		for _, c := range chunks {
			sizes = append(sizes, int(c%16)+1)
		}
		if len(sizes) == 0 {
			sizes = []int{1}
		}
		parts, partsEnd := parseStream(&chunkReader{data: data, sizes: sizes})
		if wholeEnd == "an empty command was returned" || partsEnd == "an empty command was returned" {
			t.Fatal("ReadCommand returned an empty command")
		}
		if fmt.Sprint(whole) != fmt.Sprint(parts) || wholeEnd != partsEnd {
			t.Fatalf("at once: %v, %s\nin chunks %v: %v, %s", whole, wholeEnd, sizes, parts, partsEnd)
		}
	})
}
