//go:build linux

package server

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// The event loops' system calls on non-blocking descriptors go straight to
// the kernel, without the runtime's entersyscall and exitsyscall. None of
// them can block, so the loop's P need not be released for them; when it
// is, sysmon hands a P stuck in a system call for over 20us to another
// thread, and a loop writing to clients whose writes each wake a reader on
// a busy machine does exactly that: at pipeline 1, strace counted some
// 4,000 nanosleeps a second of sysmon polling the loop and futex wake-ups
// of the threads it started, for 7,600 writes.

// rawRead is read(2) on a non-blocking descriptor.
func rawRead(fd int, p []byte) (int, unix.Errno) { return rawIO(unix.SYS_READ, fd, p) }

// rawWrite is write(2) on a non-blocking descriptor.
func rawWrite(fd int, p []byte) (int, unix.Errno) { return rawIO(unix.SYS_WRITE, fd, p) }

func rawIO(trap uintptr, fd int, p []byte) (int, unix.Errno) {
	if len(p) == 0 {
		return 0, 0
	}
	n, _, e := unix.RawSyscall(trap, uintptr(fd), uintptr(unsafe.Pointer(&p[0])), uintptr(len(p)))
	if e != 0 {
		return 0, e
	}
	return int(n), 0
}

// rawPoll is epoll_pwait(2) that does not wait: timeout 0, no signal mask.
func rawPoll(epfd int, events []unix.EpollEvent) (int, unix.Errno) {
	n, _, e := unix.RawSyscall6(unix.SYS_EPOLL_PWAIT, uintptr(epfd), uintptr(unsafe.Pointer(&events[0])), uintptr(len(events)), 0, 0, 0)
	if e != 0 {
		return 0, e
	}
	return int(n), 0
}
