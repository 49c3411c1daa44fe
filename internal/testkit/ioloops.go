package testkit

import (
	"os"
	"strconv"
	"testing"
)

// IOLoopsEnv names the environment variable that makes the servers tests
// start run their plaintext clients on that many event loops
// (server.Config.IOLoops) instead of a goroutine each: `make test` runs the
// server, proxy and compatibility tests once each way.
const IOLoopsEnv = "CORRAL_TEST_IO_LOOPS"

// IOLoops returns the event loops IOLoopsEnv asks for, 0 when unset; a
// value that is not a small count fails the test.
func IOLoops(t testing.TB) int {
	v := os.Getenv(IOLoopsEnv)
	if v == "" {
		return 0
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 || n > 64 {
		t.Fatalf("%s=%q: want a count of event loops, 0 to 64", IOLoopsEnv, v)
	}
	return n
}
