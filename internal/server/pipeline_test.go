package server_test

import (
	"bytes"
	"io"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"corral/internal/command"
	"corral/internal/server"
	"corral/internal/testkit"
)

// TestPipeline sends many commands in one write and checks that every
// reply arrives, complete and in order, including replies far larger than
// the server's mid-batch flush threshold (64KB).
func TestPipeline(t *testing.T) {
	ts := startServer(t, newRecordingHandler(), nil)
	for _, tt := range []struct {
		name      string
		commands  int
		valueSize int
	}{
		{"1000 SETs and 1000 GETs", 1000, 8},
		{"100 replies of 10KB", 100, 10 << 10},
		{"5 replies of 200KB", 5, 200 << 10},
		{"4 replies of 3MB", 4, 3 << 20},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := testkit.Dial(t, ts.addr)
			value := func(i int) string {
				prefix := strconv.Itoa(i) + ":"
				return prefix + strings.Repeat("v", tt.valueSize-len(prefix))
			}
			// Each key holds its own value, so the replies' order shows in
			// their contents. Small values are set in the same write as the
			// GETs; large ones first, one by one, so that neither side's
			// socket buffers need to hold megabytes of unread requests.
			pipelineSets := tt.commands*tt.valueSize <= 64<<10
			var in strings.Builder
			for i := range tt.commands {
				key := "k" + strconv.Itoa(i)
				if pipelineSets {
					in.WriteString(testkit.Command("SET", key, value(i)))
				} else if got := c.Do("SET", key, value(i)); got != "+OK\r\n" {
					t.Fatalf("SET = %q", got)
				}
				in.WriteString(testkit.Command("GET", key))
			}
			in.WriteString("PING\r\n")
			c.Send(in.String())
			for i := range tt.commands {
				if pipelineSets {
					if got := c.ReadReply(); got != "+OK\r\n" {
						t.Fatalf("reply %d to SET = %.40q", i, got)
					}
				}
				want := "$" + strconv.Itoa(tt.valueSize) + "\r\n" + value(i) + "\r\n"
				if got := c.ReadReply(); got != want {
					t.Fatalf("reply %d to GET = %.40q (%d bytes), want %.40q (%d bytes)", i, got, len(got), want, len(want))
				}
			}
			if got := c.ReadReply(); got != "+PONG\r\n" {
				t.Fatalf("last reply = %q, want +PONG", got)
			}
		})
	}
}

// benchHandler answers GET from a read-only map, allocating nothing.
type benchHandler struct{ data map[string][]byte }

func (h benchHandler) Exec(c *server.Conn, spec *command.Spec, args [][]byte) {
	if spec.ID != command.Get {
		c.W.Error("ERR only GET")
		return
	}
	v, ok := h.data[string(args[1])]
	if !ok {
		c.W.Null()
		return
	}
	c.W.Bulk(v)
}

// ExecInline answers every GET at once, on an event loop when the server
// runs them.
func (h benchHandler) ExecInline(c *server.Conn, spec *command.Spec, args [][]byte) bool {
	h.Exec(c, spec, args)
	return true
}

func (benchHandler) InfoSections() []server.InfoSection { return nil }

// BenchmarkServerGETPipeline1 and BenchmarkServerGETPipeline16 measure a
// batch of GETs over loopback TCP, from the client's write to the last
// reply byte. The client allocates nothing, so allocs/op is the server's:
// its steady state must be 0.
func BenchmarkServerGETPipeline1(b *testing.B)  { benchmarkGETPipeline(b, 1) }
func BenchmarkServerGETPipeline16(b *testing.B) { benchmarkGETPipeline(b, 16) }

func benchmarkGETPipeline(b *testing.B, depth int) {
	round := getPipeline(b, depth)
	for range 100 { // warm up: buffers and per-command metrics
		round()
	}
	b.ReportAllocs()
	for b.Loop() {
		round()
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*depth), "ns/cmd")
}

// TestServerGETPipelineAllocs holds the server's request path to the
// benchmark's promise: no allocation per batch in the steady state.
func TestServerGETPipelineAllocs(t *testing.T) {
	round := getPipeline(t, 16)
	for range 100 {
		round()
	}
	if n := testing.AllocsPerRun(500, round); n != 0 {
		t.Fatalf("%v allocations per pipeline of 16 GETs, want 0", n)
	}
}

// getPipeline starts a server with a benchHandler and returns a function
// that sends depth GETs in one write and reads their replies, allocating
// nothing itself.
func getPipeline(tb testing.TB, depth int) func() {
	h := benchHandler{data: make(map[string][]byte)}
	var req, want []byte
	for i := range depth {
		key := "key:" + strconv.Itoa(100000+i)
		h.data[key] = bytes.Repeat([]byte{'v'}, 64)
		req = append(req, testkit.Command("GET", key)...)
		want = append(want, "$64\r\n"+strings.Repeat("v", 64)+"\r\n"...)
	}
	ts := startServer(tb, h, nil)
	nc, err := net.DialTimeout("tcp", ts.addr, waitTimeout)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { nc.Close() })
	_ = nc.SetDeadline(time.Now().Add(time.Hour))
	got := make([]byte, len(want))
	return func() {
		if _, err := nc.Write(req); err != nil {
			tb.Fatal(err)
		}
		if _, err := io.ReadFull(nc, got); err != nil {
			tb.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			tb.Fatalf("replies %q, want %q", got, want)
		}
	}
}
