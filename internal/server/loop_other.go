//go:build !linux

package server

import "errors"

// Event loops need epoll: elsewhere every client has its goroutine and
// Config.IOLoops is ignored.
const loopsSupported = false

type ioLoop struct{ done chan struct{} }

type loopMsg struct{}

var errLoopStopped = errors.ErrUnsupported

type loopMsgKind uint8

const (
	msgInterrupt loopMsgKind = iota
	msgKill
	msgStop
)

func newLoop(*Server) (*ioLoop, error)          { return nil, errors.ErrUnsupported }
func (lp *ioLoop) run()                         {}
func (lp *ioLoop) stop([]loopMsg)               {}
func (lp *ioLoop) attach(*Conn) error           { return errors.ErrUnsupported }
func (lp *ioLoop) post(*Conn, loopMsgKind) bool { return false }

func (s *Server) balance([]*ioLoop, <-chan struct{}) {}
