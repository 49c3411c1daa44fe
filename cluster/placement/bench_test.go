package placement

import (
	"strconv"
	"testing"
)

func benchmarkNew(b *testing.B, n int) {
	nodes := ids(n)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := New(DefaultPartitions, DefaultRF, nodes); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkNew3(b *testing.B)   { benchmarkNew(b, 3) }
func BenchmarkNew20(b *testing.B)  { benchmarkNew(b, 20) }
func BenchmarkNew100(b *testing.B) { benchmarkNew(b, 100) }

func BenchmarkOwnersOf(b *testing.B) {
	tb, err := New(DefaultPartitions, DefaultRF, ids(20))
	if err != nil {
		b.Fatal(err)
	}
	keys := make([][]byte, 1024)
	for i := range keys {
		keys[i] = []byte("key:" + strconv.Itoa(i))
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if len(tb.OwnersOf(keys[i%len(keys)])) != DefaultRF {
			b.Fatal("wrong owner count")
		}
		i++
	}
}
