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
