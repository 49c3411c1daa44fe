// Package testkit holds helpers shared by corral's tests: waiting on
// conditions without sleeping, free ports, real redis-server processes and a
// raw RESP client for protocol tests.
//
// It is imported only from _test.go files. Helpers that take a testing.TB
// report failures through it (t.Fatalf, t.Skip) and must therefore be called
// from the goroutine running the test, as the testing package requires.
package testkit

import (
	"fmt"
	"testing"
	"time"
)

// Backoff bounds for Eventually's polling.
const (
	pollStart = time.Millisecond
	pollMax   = 50 * time.Millisecond
)

// Eventually polls cond until it returns true, failing the test with
// t.Fatalf once timeout has passed. Polls start 1ms apart and back off to
// 50ms. msgAndArgs, when given, is a format string and its arguments
// describing what was awaited; it is formatted on failure only.
func Eventually(t testing.TB, cond func() bool, timeout time.Duration, msgAndArgs ...any) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	wait := pollStart
	for {
		if cond() {
			return
		}
		left := time.Until(deadline)
		if left <= 0 {
			t.Fatalf("testkit: condition not met within %v: %s", timeout, message(msgAndArgs))
			return
		}
		timer := time.NewTimer(min(wait, left))
		<-timer.C
		wait = min(2*wait, pollMax)
	}
}

// message formats msgAndArgs as Eventually documents.
func message(msgAndArgs []any) string {
	switch {
	case len(msgAndArgs) == 0:
		return "(no message)"
	case len(msgAndArgs) == 1:
		return fmt.Sprint(msgAndArgs[0])
	}
	if format, ok := msgAndArgs[0].(string); ok {
		return fmt.Sprintf(format, msgAndArgs[1:]...)
	}
	return fmt.Sprint(msgAndArgs...)
}
