package server

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"sync"
	"testing"
	"time"

	"corral/internal/command"
	"corral/internal/testkit"
)

// loopHandler answers GET k with "v:k" at once (on the loop) and runs SET
// through Exec (on a goroutine), so a pipeline mixing them crosses between
// the two.
type loopHandler struct{}

func (loopHandler) Exec(c *Conn, spec *command.Spec, args [][]byte) {
	if spec.ID == command.Get {
		c.W.Bulk(append([]byte("v:"), args[1]...))
		return
	}
	c.W.OK()
}

func (h loopHandler) ExecInline(c *Conn, spec *command.Spec, args [][]byte) bool {
	if spec.ID != command.Get {
		return false
	}
	h.Exec(c, spec, args)
	return true
}

func (loopHandler) InfoSections() []InfoSection { return nil }

// TestClientsMoveBetweenLoops moves clients to a second loop and back, as
// the balancer does, while they keep sending pipelines: no reply is lost,
// duplicated or out of order, and every client ends on the first loop.
func TestClientsMoveBetweenLoops(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Addr = "127.0.0.1:0"
	cfg.IOLoops = 2
	s, err := New(cfg, loopHandler{})
	if err != nil {
		t.Fatal(err)
	}
	s.noBalance = true
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	if err := s.Listen(); err != nil {
		t.Fatal(err)
	}
	go func() { done <- s.Run(ctx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	}()

	const clients = 8
	stop := make(chan struct{})
	errs := make(chan error, clients)
	var wg sync.WaitGroup
	for i := range clients {
		wg.Go(func() { errs <- pipelines(s.Addr(), i, stop) })
	}
	var loops []*ioLoop
	testkit.Eventually(t, func() bool {
		s.mu.Lock()
		defer s.mu.Unlock()
		loops = s.loops
		return len(loops) == 2
	}, 5*time.Second, "the loops started")
	count := func(i int) int { return int(loops[i].clients.Load()) }
	testkit.Eventually(t, func() bool { return count(0) == clients }, 5*time.Second, "%d clients on the first loop", clients)

	s.setActive(loops, 1, 2)
	testkit.Eventually(t, func() bool { return count(0) == clients/2 && count(1) == clients/2 }, 5*time.Second,
		"clients split between the loops")
	s.setActive(loops, 2, 1)
	testkit.Eventually(t, func() bool { return count(0) == clients && count(1) == 0 }, 5*time.Second,
		"clients back on the first loop")
	close(stop)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
}

// pipelines sends client i's pipelines of GETs and a SET until stop is
// closed, checking every reply.
func pipelines(addr string, i int, stop <-chan struct{}) error {
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		return err
	}
	defer nc.Close()
	r := bufio.NewReader(nc)
	for round := 0; ; round++ {
		select {
		case <-stop:
			return nil
		default:
		}
		var req []byte
		var want []string
		for j := range 4 {
			key := fmt.Sprintf("c%d:r%d:%d", i, round, j)
			req = fmt.Appendf(req, "*2\r\n$3\r\nGET\r\n$%d\r\n%s\r\n", len(key), key)
			want = append(want, fmt.Sprintf("$%d\r\nv:%s\r\n", len(key)+2, key))
			if j == 1 {
				req = append(req, "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n"...)
				want = append(want, "+OK\r\n")
			}
		}
		nc.SetDeadline(time.Now().Add(5 * time.Second))
		if _, err := nc.Write(req); err != nil {
			return err
		}
		for _, w := range want {
			got := make([]byte, len(w))
			if _, err := io.ReadFull(r, got); err != nil {
				return fmt.Errorf("client %d round %d: %w", i, round, err)
			}
			if string(got) != w {
				return fmt.Errorf("client %d round %d: reply %q, want %q", i, round, got, w)
			}
		}
	}
}

// gateHandler is loopHandler whose inline GET of "gate" holds its loop
// until gate is closed, after entered.
type gateHandler struct {
	loopHandler
	entered, gate chan struct{}
}

func (h gateHandler) ExecInline(c *Conn, spec *command.Spec, args [][]byte) bool {
	if spec.ID == command.Get && string(args[1]) == "gate" {
		close(h.entered)
		<-h.gate
	}
	return h.loopHandler.ExecInline(c, spec, args)
}

// TestStoppedLoopClosesClientsMovingIn stops a loop while another moves a
// client to it: the stopping loop must close that client too, not drop it
// with its queue (its socket left open, its slot taken, Run's wait
// group short of a Done).
func TestStoppedLoopClosesClientsMovingIn(t *testing.T) {
	h := gateHandler{entered: make(chan struct{}), gate: make(chan struct{})}
	cfg := DefaultConfig()
	cfg.Addr = "127.0.0.1:0"
	cfg.IOLoops = 2
	s, err := New(cfg, h)
	if err != nil {
		t.Fatal(err)
	}
	s.noBalance = true
	if err := s.Listen(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	}()
	var loops []*ioLoop
	testkit.Eventually(t, func() bool {
		s.mu.Lock()
		defer s.mu.Unlock()
		loops = s.loops
		s.activeLoops = len(loops) // new clients alternate between the two
		return len(loops) == 2
	}, 5*time.Second, "the loops started")
	dial := func() net.Conn {
		nc, err := net.Dial("tcp", s.Addr())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { nc.Close() })
		return nc
	}
	a := dial()
	testkit.Eventually(t, func() bool { return loops[0].clients.Load() == 1 }, 5*time.Second, "a on the first loop")
	b := dial()
	testkit.Eventually(t, func() bool { return loops[1].clients.Load() == 1 }, 5*time.Second, "b on the second loop")

	if _, err := a.Write([]byte("GET gate\r\n")); err != nil {
		t.Fatal(err)
	}
	<-h.entered // the first loop is held in a's command
	loops[0].post(nil, msgStop)
	loops[1].postMsg(loopMsg{kind: msgShed, n: -1, to: loops[:1]})
	testkit.Eventually(t, func() bool { return loops[1].clients.Load() == 0 }, 5*time.Second, "b handed to the first loop")
	close(h.gate)
	<-loops[0].done
	loops[1].post(nil, msgStop)
	<-loops[1].done

	testkit.Eventually(t, func() bool { return s.Clients() == 0 }, 5*time.Second, "both clients closed with the loops")
	b.SetReadDeadline(time.Now().Add(5 * time.Second))
	if n, err := b.Read(make([]byte, 1)); err != io.EOF {
		t.Fatalf("b read %d bytes, %v; want the connection closed (EOF)", n, err)
	}
}

func TestLoopIdleCountsTheParkGoingOn(t *testing.T) {
	var lp ioLoop
	t0 := time.Unix(1000, 0)
	lp.blocked.Store(int64(3 * time.Second))
	if got := lp.idle(t0); got != int64(3*time.Second) {
		t.Fatalf("not parked: idle %v, want 3s", time.Duration(got))
	}
	lp.parkedAt.Store(t0.UnixNano())
	if got := lp.idle(t0.Add(250 * time.Millisecond)); got != int64(3250*time.Millisecond) {
		t.Fatalf("parked for 250ms: idle %v, want 3.25s", time.Duration(got))
	}
}
