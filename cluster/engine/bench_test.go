package engine

import (
	"strconv"
	"sync/atomic"
	"testing"
)

// benchEngine returns a default-sized Engine holding n keys "key:<i>" with
// 64-byte values, and the keys.
func benchEngine(b *testing.B, n int) (*Engine, [][]byte) {
	b.Helper()
	e, _ := newTestEngine(b, func(c *Config) { c.Partitions = 4096 })
	keys := make([][]byte, n)
	val := make([]byte, 64)
	for i := range keys {
		keys[i] = []byte("key:" + strconv.Itoa(i))
		e.Update(keys[i], t0, func(Record, bool) (Record, Op) { return Record{Value: val}, OpPut })
	}
	return e, keys
}

func benchmarkGet(b *testing.B, n int) {
	e, keys := benchEngine(b, n)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if _, ok := e.Get(keys[i%n], t0); !ok {
			b.Fatal("miss")
		}
		i++
	}
}

func BenchmarkGet1K(b *testing.B)   { benchmarkGet(b, 1_000) }
func BenchmarkGet100K(b *testing.B) { benchmarkGet(b, 100_000) }
func BenchmarkGet1M(b *testing.B)   { benchmarkGet(b, 1_000_000) }

func BenchmarkGetMiss(b *testing.B) {
	e, _ := benchEngine(b, 1000)
	key := []byte("absent")
	b.ReportAllocs()
	for b.Loop() {
		e.Get(key, t0)
	}
}

func BenchmarkGetParallel(b *testing.B) {
	const n = 100_000
	e, keys := benchEngine(b, n)
	var seed atomic.Uint64
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		i := int(seed.Add(7919))
		for pb.Next() {
			e.Get(keys[i%n], t0)
			i++
		}
	})
}

// BenchmarkUpdate overwrites existing keys, as SET does; the value slice is
// shared, so allocations are the engine's own.
func BenchmarkUpdate(b *testing.B) {
	const n = 100_000
	e, keys := benchEngine(b, n)
	val := make([]byte, 64)
	fn := func(Record, bool) (Record, Op) { return Record{Value: val, ExpireAt: t0 + 60_000}, OpPut }
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		e.Update(keys[i%n], t0, fn)
		i++
	}
}

// BenchmarkUpdateIncr reads and rewrites a counter, as INCR does.
func BenchmarkUpdateIncr(b *testing.B) {
	e, _ := benchEngine(b, 0)
	key := []byte("counter")
	fn := func(cur Record, _ bool) (Record, Op) {
		n, _ := strconv.ParseInt(string(cur.Value), 10, 64)
		return Record{Value: strconv.AppendInt(nil, n+1, 10)}, OpPut
	}
	b.ReportAllocs()
	for b.Loop() {
		e.Update(key, t0, fn)
	}
}

func BenchmarkUpdateParallel(b *testing.B) {
	const n = 100_000
	e, keys := benchEngine(b, n)
	val := make([]byte, 64)
	fn := func(Record, bool) (Record, Op) { return Record{Value: val}, OpPut }
	var seed atomic.Uint64
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		i := int(seed.Add(7919))
		for pb.Next() {
			e.Update(keys[i%n], t0, fn)
			i++
		}
	})
}

func BenchmarkMerge(b *testing.B) {
	const n = 100_000
	e, keys := benchEngine(b, n)
	val := make([]byte, 64)
	v := e.hlc.Now()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		v++
		e.Merge(keys[i%n], Record{Value: val, Version: v})
		i++
	}
}

func BenchmarkExpireTick(b *testing.B) {
	// Steady state: 100k keys with deadlines, none due. A tick must cost
	// a scan of 4096 atomics, no locks.
	e, keys := benchEngine(b, 0)
	for i := range 100_000 {
		k := []byte("key:" + strconv.Itoa(i))
		keys = append(keys, k)
		set(e, string(k), "v", t0+3_600_000, t0)
	}
	b.ReportAllocs()
	for b.Loop() {
		e.ExpireTick(t0)
	}
}
