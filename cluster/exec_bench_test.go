package cluster

import (
	"testing"
	"time"

	"corral/internal/clock"
	"corral/internal/command"
	"corral/internal/resp"
)

// benchmarkExec measures s.exec of args on a store prepared by setup
// commands, reusing one reply buffer as a connection does.
func benchmarkExec(b *testing.B, setup [][]string, args ...string) {
	s := newExecStore(b, clock.NewFake(time.UnixMilli(execEpochMs)), 0)
	now := time.UnixMilli(execEpochMs)
	for _, c := range setup {
		execReply(s, 2, now, c...)
	}
	av := argv(args...)
	spec, errText := command.Resolve(av)
	if spec == nil {
		b.Fatal(errText)
	}
	var w resp.Writer
	b.ReportAllocs()
	for b.Loop() {
		w.Reset(1 << 16)
		s.exec(&w, spec, av, now)
	}
	if len(w.Bytes()) == 0 || w.Bytes()[0] == '-' {
		b.Fatalf("reply %q", w.Bytes())
	}
}

// BenchmarkExecGetHit is GET of an existing 64-byte value; it must not
// allocate.
func BenchmarkExecGetHit(b *testing.B) {
	benchmarkExec(b, [][]string{{"SET", "key:1", string(make([]byte, 64))}}, "GET", "key:1")
}

// BenchmarkExecGetMiss is GET of a missing key.
func BenchmarkExecGetMiss(b *testing.B) { benchmarkExec(b, nil, "GET", "key:1") }

// BenchmarkExecSet overwrites one key with a 64-byte value.
func BenchmarkExecSet(b *testing.B) {
	benchmarkExec(b, nil, "SET", "key:1", string(make([]byte, 64)))
}

// BenchmarkExecSetEx overwrites one key with a TTL.
func BenchmarkExecSetEx(b *testing.B) {
	benchmarkExec(b, nil, "SET", "key:1", string(make([]byte, 64)), "EX", "100")
}

// BenchmarkExecIncr increments one counter.
func BenchmarkExecIncr(b *testing.B) { benchmarkExec(b, nil, "INCR", "counter") }

// TestExecGetHitDoesNotAllocate pins the zero-allocation GET hit path
// that BenchmarkExecGetHit reports.
func TestExecGetHitDoesNotAllocate(t *testing.T) {
	now := time.UnixMilli(execEpochMs)
	s := newExecStore(t, clock.NewFake(now), 0)
	execReply(s, 2, now, "SET", "key:1", "value")
	av := argv("GET", "key:1")
	spec := command.Lookup(av[0])
	var w resp.Writer
	if n := testing.AllocsPerRun(100, func() {
		w.Reset(1 << 16)
		s.exec(&w, spec, av, now)
	}); n != 0 {
		t.Fatalf("GET hit allocates %v times per run, want 0", n)
	}
}
