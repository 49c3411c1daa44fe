//go:build linux

package server

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

const loopsSupported = true

// An ioLoop serves plaintext clients without a goroutine each: it owns
// their sockets (duplicated out of Go's poller, so the runtime never wakes
// for them), waits for them with one edge-triggered epoll set, and runs
// their requests itself. Commands the Handler answers at once run on the
// loop; the first that may wait moves its client to a goroutine, which
// runs it and the client's other buffered requests and hands the client
// back. Only the loop reads or writes a client's socket.
//
// A client is owned by one side at a time: the loop, or while Conn.busy
// the goroutine running its commands. The hand-over is the go statement
// one way and the loop's queue the other.
type ioLoop struct {
	srv    *Server
	epfd   int
	epf    *os.File        // epfd, watched by Go's poller
	epr    syscall.RawConn // waits on epf
	wakefd int             // eventfd: the queue has messages

	mu     sync.Mutex // guards queue, closed
	queue  []loopMsg
	closed bool // the loop has stopped: post drops messages

	conns  map[int32]*Conn // owned by the loop goroutine
	events []unix.EpollEvent
	// ready are clients that used up their turn with requests left;
	// readyNext is the other buffer of the two ready alternates between.
	ready, readyNext []*Conn
	pollFn           func(uintptr) bool // lp.poll, made once: passing a method value allocates
	polled           int
	pollErr          error
	now              time.Time // the time of the current round of events
	done             chan struct{}

	// Read by the balancer.
	blocked  atomic.Int64 // nanoseconds spent parked, parks that ended
	parkedAt atomic.Int64 // when the park going on began (unix ns), or 0
	clients  atomic.Int32 // len(conns)
}

type loopMsgKind uint8

const (
	msgAdd       loopMsgKind = iota // a new client
	msgBack                         // a goroutine is done with the client
	msgInterrupt                    // the server is shutting down
	msgKill                         // close the client now
	msgStop                         // close every client and end the loop
	msgShed                         // move n clients to other loops
)

type loopMsg struct {
	c    *Conn
	kind loopMsgKind
	// msgShed: move up to n clients to the loops in to, in turn.
	n  int
	to []*ioLoop
}

// sweepEvery is how often a loop looks for idle clients and clients over
// their soft output limit, when either limit is set.
const sweepEvery = 100 * time.Millisecond

// errWouldBlock is what a loop client's source returns when reading would
// wait: the loop then waits for the socket with epoll.
var errWouldBlock = errors.New("server: read would block")

func newLoop(s *Server) (*ioLoop, error) {
	epfd, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("server: io loop: epoll: %w", err)
	}
	wakefd, err := unix.Eventfd(0, unix.EFD_NONBLOCK|unix.EFD_CLOEXEC)
	if err != nil {
		unix.Close(epfd)
		return nil, fmt.Errorf("server: io loop: eventfd: %w", err)
	}
	ev := unix.EpollEvent{Events: unix.EPOLLIN, Fd: int32(wakefd)}
	if err := unix.EpollCtl(epfd, unix.EPOLL_CTL_ADD, wakefd, &ev); err != nil {
		unix.Close(epfd)
		unix.Close(wakefd)
		return nil, fmt.Errorf("server: io loop: epoll_ctl: %w", err)
	}
	// An idle loop parks in Go's poller, which watches the epoll set
	// itself: a loop blocked in epoll_wait would keep its thread and, for
	// a while, its P from the goroutines running other commands.
	if err := unix.SetNonblock(epfd, true); err != nil {
		unix.Close(epfd)
		unix.Close(wakefd)
		return nil, fmt.Errorf("server: io loop: %w", err)
	}
	epf := os.NewFile(uintptr(epfd), "epoll")
	epr, err := epf.SyscallConn()
	if err != nil {
		epf.Close()
		unix.Close(wakefd)
		return nil, fmt.Errorf("server: io loop: %w", err)
	}
	lp := &ioLoop{
		srv:    s,
		epfd:   epfd,
		epf:    epf,
		epr:    epr,
		wakefd: wakefd,
		conns:  make(map[int32]*Conn),
		events: make([]unix.EpollEvent, 256),
		done:   make(chan struct{}),
	}
	lp.pollFn = lp.poll
	return lp, nil
}

// post queues a message for the loop and wakes it. It reports false when
// the loop has stopped.
func (lp *ioLoop) post(c *Conn, kind loopMsgKind) bool {
	return lp.postMsg(loopMsg{c: c, kind: kind})
}

// postMsg is post for a message with arguments.
func (lp *ioLoop) postMsg(m loopMsg) bool {
	lp.mu.Lock()
	defer lp.mu.Unlock()
	if lp.closed {
		return false
	}
	lp.queueLocked(m)
	return true
}

// queueLocked queues m and wakes the loop; lp.mu is held.
func (lp *ioLoop) queueLocked(m loopMsg) {
	lp.queue = append(lp.queue, m)
	if len(lp.queue) == 1 {
		one := [8]byte{1}
		rawWrite(lp.wakefd, one[:]) // EAGAIN: the counter is already non-zero
	}
}

// detach takes the socket of nc out of Go's poller: it duplicates the
// descriptor, which stays non-blocking, and closes nc.
func detach(nc net.Conn) (int, error) {
	sc, ok := nc.(syscall.Conn)
	if !ok {
		return -1, errors.New("not a socket")
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return -1, err
	}
	fd := -1
	cerr := rc.Control(func(s uintptr) {
		fd, err = unix.FcntlInt(s, unix.F_DUPFD_CLOEXEC, 0)
	})
	nc.Close()
	if cerr != nil {
		return -1, cerr
	}
	return fd, err
}

// attach makes the loop c's owner: it takes c's socket out of Go's poller
// and queues c for the loop. The server calls it while registering c,
// under its lock, so that a shutdown's interrupt comes after. errLoopStopped
// leaves c as it was, for a goroutine to serve.
func (lp *ioLoop) attach(c *Conn) error {
	lp.mu.Lock()
	defer lp.mu.Unlock()
	if lp.closed {
		return errLoopStopped
	}
	fd, err := detach(c.nc)
	if err != nil {
		return err
	}
	c.nc, c.lp, c.fd = nil, lp, fd
	c.rd.SetSource(fdSource{c})
	c.rd.BeforeRead = nil
	lp.queueLocked(loopMsg{c: c, kind: msgAdd})
	return nil
}

// errLoopStopped is attach's error for a loop that has stopped.
var errLoopStopped = errors.New("io loop stopped")

// run serves the loop's clients until a msgStop.
func (lp *ioLoop) run() {
	defer close(lp.done)
	sweeps := lp.srv.cfg.IdleTimeout > 0 || (lp.srv.cfg.OutputSoftLimit > 0 && lp.srv.cfg.OutputSoftTime > 0)
	lastSweep := time.Now()
	for {
		n, err := lp.wait(sweeps, len(lp.ready) > 0)
		if err != nil {
			lp.srv.log.Error("io loop: epoll_wait failed; closing its clients", "err", err)
			lp.stop(nil)
			return
		}
		lp.now = time.Now()
		for _, ev := range lp.events[:max(n, 0)] {
			if ev.Fd == int32(lp.wakefd) {
				if !lp.drainQueue() {
					return
				}
				continue
			}
			c := lp.conns[ev.Fd]
			if c == nil {
				continue
			}
			if ev.Events&(unix.EPOLLIN|unix.EPOLLHUP|unix.EPOLLERR|unix.EPOLLRDHUP) != 0 {
				c.canRead = true
			}
			if ev.Events&(unix.EPOLLHUP|unix.EPOLLERR|unix.EPOLLRDHUP) != 0 {
				// No event follows the end of input: read until it.
				c.peerClosed = true
			}
			if c.busy {
				continue
			}
			if c.woff < c.W.Len() {
				// Replies were waiting for room: once they are out, the
				// buffered requests behind them run, read or not.
				if ev.Events&(unix.EPOLLOUT|unix.EPOLLHUP|unix.EPOLLERR) != 0 && lp.flush(c) {
					lp.serve(c)
				}
				continue
			}
			if c.canRead {
				lp.serve(c)
			}
		}
		if len(lp.ready) > 0 {
			lp.serveReady()
		}
		if sweeps && lp.now.Sub(lastSweep) >= sweepEvery {
			lastSweep = lp.now
			lp.sweep()
		}
	}
}

// wait returns the number of events in lp.events, polling the epoll set
// and, while it has none and no client is ready, parking in Go's poller
// until it has (or, with sweeps, for at most sweepEvery).
func (lp *ioLoop) wait(sweeps, ready bool) (int, error) {
	// Busy: the events are there already, or clients are waiting for
	// their next turn (edge-triggered epoll does not report them again).
	if lp.poll(uintptr(lp.epfd)) || ready {
		return lp.polled, lp.pollErr
	}
	if sweeps {
		lp.epf.SetReadDeadline(time.Now().Add(sweepEvery))
	}
	t0 := time.Now()
	lp.parkedAt.Store(t0.UnixNano())
	err := lp.epr.Read(lp.pollFn)
	lp.parkedAt.Store(0)
	lp.blocked.Add(int64(time.Since(t0)))
	switch {
	case errors.Is(err, os.ErrDeadlineExceeded):
		return 0, nil
	case err != nil:
		return 0, err
	}
	return lp.polled, lp.pollErr
}

// poll takes the ready events without waiting, into lp.events, lp.polled
// and lp.pollErr, and reports whether there were any (or an error).
func (lp *ioLoop) poll(fd uintptr) bool {
	n, errno := rawPoll(int(fd), lp.events)
	switch errno {
	case 0:
		lp.polled, lp.pollErr = n, nil
	case unix.EINTR:
		lp.polled, lp.pollErr = 0, nil
	default:
		lp.polled, lp.pollErr = 0, errno
	}
	return lp.polled != 0 || lp.pollErr != nil
}

// drainQueue handles the queued messages; false means the loop stopped.
func (lp *ioLoop) drainQueue() bool {
	var b [8]byte
	rawRead(lp.wakefd, b[:])
	lp.mu.Lock()
	q := lp.queue
	lp.queue = nil
	lp.mu.Unlock()
	for i, m := range q {
		c := m.c
		switch m.kind {
		case msgStop:
			lp.stop(q[i+1:])
			return false
		case msgShed:
			lp.shed(m.n, m.to)
			continue
		case msgAdd:
			lp.add(c)
			continue
		}
		if lp.conns[int32(c.fd)] != c {
			// Closed here, or moved to another loop since the message
			// was sent: the owner, if there is one, gets it.
			lp.srv.mu.Lock()
			owner := c.lp
			lp.srv.mu.Unlock()
			if owner != lp {
				owner.post(c, m.kind)
			}
			continue
		}
		switch m.kind {
		case msgBack:
			c.busy = false
			if t := c.moveTo; t != nil && !c.dropNow {
				c.moveTo = nil
				lp.move(c, t)
				continue
			}
			lp.resume(c)
		case msgInterrupt:
			if !c.busy {
				lp.resume(c)
			}
		case msgKill:
			lp.drop(c)
		}
	}
	return true
}

// add takes a client, new or moved here by another loop, into the epoll
// set and serves what it has sent.
func (lp *ioLoop) add(c *Conn) {
	lp.conns[int32(c.fd)] = c
	lp.clients.Add(1)
	c.queued = false // in the ready list of the loop it came from, if anywhere
	if c.lastIO.IsZero() {
		c.lastIO = lp.now
	}
	ev := unix.EpollEvent{Events: unix.EPOLLIN | unix.EPOLLOUT | unix.EPOLLRDHUP | unix.EPOLLET, Fd: int32(c.fd)}
	if err := unix.EpollCtl(lp.epfd, unix.EPOLL_CTL_ADD, c.fd, &ev); err != nil {
		lp.srv.log.Warn("io loop: epoll_ctl failed; closing client", "client", c.addr, "err", err)
		lp.drop(c)
		return
	}
	c.canRead = true
	lp.resume(c)
}

// shed moves up to n (n < 0: all) of the loop's clients to the loops in
// to, in turn: the balancer spreads clients when it starts loops and
// gathers them when it gives some up. A client whose commands run on a
// goroutine moves when it comes back.
func (lp *ioLoop) shed(n int, to []*ioLoop) {
	i := 0
	for _, c := range lp.conns {
		if i == n {
			return
		}
		target := to[i%len(to)]
		i++
		if c.busy {
			c.moveTo = target
			continue
		}
		lp.move(c, target)
	}
}

// move hands the client to the loop target.
func (lp *ioLoop) move(c *Conn, target *ioLoop) {
	unix.EpollCtl(lp.epfd, unix.EPOLL_CTL_DEL, c.fd, nil)
	delete(lp.conns, int32(c.fd))
	lp.clients.Add(-1)
	lp.srv.mu.Lock()
	c.lp = target
	moved := target.post(c, msgAdd)
	if !moved { // the loops are stopping
		c.lp = lp
	}
	lp.srv.mu.Unlock()
	if !moved {
		lp.conns[int32(c.fd)] = c
		lp.clients.Add(1)
		lp.drop(c)
	}
}

// resume continues a client the loop got back: its replies go out, its
// buffered requests run, and, when the server is shutting down, it closes
// once it has nothing left to run.
func (lp *ioLoop) resume(c *Conn) {
	if c.dropNow {
		lp.drop(c)
		return
	}
	if c.woff < c.W.Len() || c.closeAfter {
		if !lp.flush(c) {
			return
		}
	}
	lp.serve(c)
}

// stop closes every client and the loop's descriptors. pending are
// messages taken from the queue but not handled: a client still being
// added or moved here belongs to no loop yet and is closed too.
func (lp *ioLoop) stop(pending []loopMsg) {
	lp.mu.Lock()
	lp.closed = true
	pending = append(pending, lp.queue...)
	lp.queue = nil
	lp.mu.Unlock()
	for _, m := range pending {
		if m.kind == msgAdd {
			lp.conns[int32(m.c.fd)] = m.c
			lp.clients.Add(1)
		}
	}
	for _, c := range lp.conns {
		lp.drop(c)
	}
	unix.Close(lp.wakefd)
	lp.epf.Close()
}

// serve runs the client's requests on the loop until reading would block,
// a command must wait (the client goes to a goroutine) or the replies must
// go out first.
func (lp *ioLoop) serve(c *Conn) {
	defer func() {
		if r := recover(); r != nil {
			lp.srv.log.Error("panic serving client; connection closed", "client", c.addr,
				"panic", r, "stack", string(debug.Stack()))
			lp.srv.metrics.panics.Inc()
			lp.drop(c)
		}
	}()
	for n := 1; ; n++ {
		if lp.srv.closing.Load() {
			c.canRead = false
		}
		c.rd.AuthRequired = c.user == nil
		args, err := c.rd.ReadCommand()
		if err == errWouldBlock {
			if lp.srv.closing.Load() {
				c.closeAfter = true
			}
			lp.flush(c)
			return
		}
		if err != nil {
			c.finish(err)
			c.closeAfter = true
			lp.flush(c)
			return
		}
		if isSecurityAttack(args[0]) {
			lp.srv.log.Warn("possible security attack: HTTP or similar request on the RESP port; connection closed", "client", c.addr)
			lp.drop(c)
			return
		}
		if !c.dispatch(args, true) {
			c.busy = true
			go c.runDetached(args)
			return
		}
		switch c.after() {
		case stepDrop:
			lp.drop(c)
			return
		case stepClose:
			lp.flush(c)
			return
		case stepFlush:
			if !lp.flush(c) {
				return
			}
		}
		if n == serveBudget {
			// Fair turns: the others go first, then this client goes on.
			if lp.flush(c) && !c.queued {
				c.queued = true
				lp.ready = append(lp.ready, c)
			}
			return
		}
	}
}

// serveBudget is how many commands of one client a loop runs in a turn.
const serveBudget = 256

// serveReady gives the clients that used up their turn another.
func (lp *ioLoop) serveReady() {
	ready := lp.ready
	lp.ready = lp.readyNext[:0]
	for _, c := range ready {
		if lp.conns[int32(c.fd)] != c {
			continue // closed or moved since
		}
		c.queued = false
		if !c.busy && c.woff == c.W.Len() {
			lp.serve(c)
		}
	}
	clear(ready)
	lp.readyNext = ready[:0]
}

// flush writes the pending replies without waiting. It reports whether
// the client may go on: all were written and it is still open.
func (lp *ioLoop) flush(c *Conn) bool {
	if c.timing != nil {
		c.settle(lp.srv.clock.Now())
	}
	b := c.W.Bytes()
	for c.woff < len(b) {
		n, err := rawWrite(c.fd, b[c.woff:])
		if n > 0 {
			c.woff += n
			c.lastIO = lp.now
		}
		if err == unix.EINTR {
			continue
		}
		if err == unix.EAGAIN {
			break
		}
		if err != 0 {
			lp.srv.log.Debug("client connection failed", "client", c.addr, "err", err)
			lp.drop(c)
			return false
		}
	}
	if pending := int64(len(b) - c.woff); pending > 0 {
		cfg := &lp.srv.cfg
		if cfg.OutputSoftLimit > 0 && pending > cfg.OutputSoftLimit {
			if c.softSince.IsZero() {
				c.softSince = lp.now
			}
		} else {
			c.softSince = time.Time{}
		}
		return false // EPOLLOUT resumes it
	}
	c.W.Reset(maxIdleWriteBuf)
	c.woff = 0
	c.softSince = time.Time{}
	if c.closeAfter {
		lp.drop(c)
		return false
	}
	return true
}

// sweep closes the clients idle for longer than IdleTimeout, as the
// goroutine-per-client mode's socket deadlines do, and those above their
// soft output limit for OutputSoftTime.
func (lp *ioLoop) sweep() {
	cfg := &lp.srv.cfg
	for _, c := range lp.conns {
		if c.busy {
			continue
		}
		switch {
		case cfg.OutputSoftTime > 0 && !c.softSince.IsZero() && lp.now.Sub(c.softSince) >= cfg.OutputSoftTime:
			c.finish(errOutputLimit)
			lp.drop(c)
		case cfg.IdleTimeout > 0 && lp.now.Sub(c.lastIO) >= cfg.IdleTimeout:
			lp.srv.metrics.rejected.WithLabelValues("idle_timeout").Inc()
			lp.srv.log.Debug("closing idle client", "client", c.addr)
			lp.drop(c)
		}
	}
}

// drop closes the client's socket and unregisters it.
func (lp *ioLoop) drop(c *Conn) {
	if c.dead {
		return
	}
	c.dead = true
	delete(lp.conns, int32(c.fd))
	lp.clients.Add(-1)
	if !c.busy && c.timing != nil {
		c.settle(lp.srv.clock.Now())
	}
	lp.srv.unregister(c)
	unix.Close(c.fd) // closing removes it from the epoll set
	lp.srv.wg.Done()
}

// runDetached runs, on its own goroutine, the command the loop could not
// run at once and then the client's other complete buffered requests,
// and gives the client back to the loop.
func (c *Conn) runDetached(args [][]byte) {
	defer func() {
		if r := recover(); r != nil {
			c.srv.log.Error("panic serving client; connection closed", "client", c.addr,
				"panic", r, "stack", string(debug.Stack()))
			c.srv.metrics.panics.Inc()
			c.dropNow = true
		}
		c.lp.post(c, msgBack)
	}()
	c.dispatch(args, false)
	for {
		switch c.after() {
		case stepDrop:
			c.dropNow = true
			return
		case stepClose, stepFlush:
			return
		}
		c.rd.AuthRequired = c.user == nil
		args, err := c.rd.ReadCommand()
		if err == errWouldBlock {
			return
		}
		if err != nil {
			c.finish(err)
			c.closeAfter = true
			return
		}
		if isSecurityAttack(args[0]) {
			c.srv.log.Warn("possible security attack: HTTP or similar request on the RESP port; connection closed", "client", c.addr)
			c.dropNow = true
			return
		}
		c.dispatch(args, false)
	}
}

// fdSource reads a loop client's socket for its resp.Reader, at most once
// per readiness event unless a read fills the buffer: a short read has
// taken everything there was, and the edge-triggered epoll set reports
// anything that comes after it; but once the peer has shut its side down
// no event comes after that, so it reads on to the end of the input. It
// never reads while a goroutine runs the client's commands.
type fdSource struct{ c *Conn }

func (s fdSource) Read(p []byte) (int, error) {
	c := s.c
	if c.busy || !c.canRead {
		return 0, errWouldBlock
	}
	for {
		n, err := rawRead(c.fd, p)
		switch {
		case n > 0:
			if n < len(p) && !c.peerClosed {
				c.canRead = false
			}
			c.lastIO = c.lp.now
			return n, nil
		case err == 0:
			return 0, io.EOF
		case err == unix.EINTR:
			continue
		case err == unix.EAGAIN:
			c.canRead = false
			return 0, errWouldBlock
		default:
			return 0, err
		}
	}
}

// balance runs the balancer over the event loops every balanceEvery until
// stop is closed.
func (s *Server) balance(loops []*ioLoop, stop <-chan struct{}) {
	b := &balancer{max: len(loops), active: 1}
	t := time.NewTicker(balanceEvery)
	defer t.Stop()
	prev := make([]int64, len(loops))
	last := time.Now()
	busy := make([]float64, 0, len(loops))
	for {
		select {
		case <-stop:
			return
		case <-t.C:
		}
		now := time.Now()
		elapsed := float64(now.Sub(last))
		last = now
		busy = busy[:0]
		for i, lp := range loops {
			blocked := lp.idle(now)
			if i < b.active {
				busy = append(busy, min(max(1-float64(blocked-prev[i])/elapsed, 0), 1))
			}
			prev[i] = blocked
		}
		active := b.active
		if next := b.step(busy); next != active {
			s.setActive(loops, active, next)
			s.log.Info("io loops taking clients", "loops", next, "was", active, "busy", busy)
		}
		// Clients left on loops given up (their commands were running on
		// goroutines then) move when they can.
		for _, lp := range loops[b.active:] {
			if lp.clients.Load() > 0 {
				lp.postMsg(loopMsg{kind: msgShed, n: -1, to: loops[:b.active]})
			}
		}
	}
}

// idle returns how long the loop has been parked in all, up to now,
// counting a park still going on.
func (lp *ioLoop) idle(now time.Time) int64 {
	since := lp.parkedAt.Load()
	blocked := lp.blocked.Load()
	if since != 0 {
		blocked += max(now.UnixNano()-since, 0)
	}
	return blocked
}

// setActive makes the first next loops the ones taking clients: new
// clients go to them, and clients move so that each has its share.
func (s *Server) setActive(loops []*ioLoop, prev, next int) {
	s.mu.Lock()
	s.activeLoops = next
	s.mu.Unlock()
	s.metrics.ioLoops.Set(float64(next))
	if next < prev {
		for _, lp := range loops[next:prev] {
			lp.postMsg(loopMsg{kind: msgShed, n: -1, to: loops[:next]})
		}
		return
	}
	total := 0
	for _, lp := range loops[:prev] {
		total += int(lp.clients.Load())
	}
	share := total / next
	for _, lp := range loops[:prev] {
		if extra := int(lp.clients.Load()) - share; extra > 0 {
			lp.postMsg(loopMsg{kind: msgShed, n: extra, to: loops[prev:next]})
		}
	}
}
