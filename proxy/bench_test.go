package proxy

import (
	"bufio"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"corral/internal/testkit"
)

// BenchmarkGETHit measures the L1-hit GET path end to end over loopback
// TCP, one op per GET: the RESP server, the L1 lookup and the reply. allocs/op counts the
// whole process (client side included: none here, the client reuses its
// buffers).
//
//	go test -run '^$' -bench GETHit -benchmem ./proxy/
func BenchmarkGETHit(b *testing.B) {
	for _, depth := range []int{1, 16} {
		b.Run("P"+strconv.Itoa(depth), func(b *testing.B) { benchmarkGETHit(b, depth) })
	}
}

func benchmarkGETHit(b *testing.B, depth int) {
	up := testkit.StartRedis(b)
	admin := testkit.Dial(b, up)
	const keys = 1000
	val := strings.Repeat("v", 100)
	for i := range keys {
		admin.Do("SET", "key:"+strconv.Itoa(i), val)
	}
	p := startProxy(b, up, func(c *Config) { c.L1MaxAge = time.Hour })
	nc, err := net.Dial("tcp", p.Addr())
	if err != nil {
		b.Fatal(err)
	}
	defer nc.Close()
	rd := bufio.NewReaderSize(nc, 64<<10)
	// One pipeline batch per depth keys; replies are all 100-byte bulks.
	var batches [][]byte
	for i := 0; i < keys; i += depth {
		var sb strings.Builder
		for j := i; j < i+depth && j < keys; j++ {
			k := "key:" + strconv.Itoa(j)
			sb.WriteString("*2\r\n$3\r\nGET\r\n$" + strconv.Itoa(len(k)) + "\r\n" + k + "\r\n")
		}
		batches = append(batches, []byte(sb.String()))
	}
	replyLen := len("$100\r\n") + 100 + 2
	buf := make([]byte, replyLen*depth)
	roundTrip := func(batch []byte, n int) {
		if _, err := nc.Write(batch); err != nil {
			b.Fatal(err)
		}
		if _, err := readFull(rd, buf[:replyLen*n]); err != nil {
			b.Fatal(err)
		}
	}
	for i, batch := range batches { // warm the L1
		roundTrip(batch, min(depth, keys-i*depth))
	}
	b.ReportAllocs()
	b.ResetTimer()
	sent := 0
	for i := 0; sent < b.N; i++ {
		bi := i % len(batches)
		n := min(depth, keys-bi*depth)
		roundTrip(batches[bi], n)
		sent += n
	}
}

func readFull(r *bufio.Reader, p []byte) (int, error) {
	n := 0
	for n < len(p) {
		m, err := r.Read(p[n:])
		n += m
		if err != nil {
			return n, err
		}
	}
	return n, nil
}
