package compat_test

import (
	"strings"
	"testing"

	"corral/internal/testkit"
)

// authPass is the requirepass of the servers TestAuthScript starts.
const authPass = "pw"

// authScript runs against servers that require a password. It starts
// every session unauthenticated and speaks RESP2 until a step says
// otherwise, so it runs once, not once per protocol.
var authScript = []session{
	{"auth", []step{
		cmd("PING"),
		cmd("GET", "k"),
		cmd("ECHO", "x"),
		cmd("SELECT", "0"),
		cmd("CLIENT", "SETNAME", "x"),
		cmd("CLIENT", "ID"),
		cmd("COMMAND", "COUNT"),
		cmd("INFO"),
		cmd("TIME"),
		cmd("FLUSHALL"),
		cmd("NOSUCH", "x"),
		cmd("GET"),
		cmd("CLIENT", "NOSUCH"),
		cmd("HELLO"),
		cmd("HELLO", "3"),
		cmd("HELLO", "2", "SETNAME", "x"),
		cmd("HELLO", "4"),
		cmd("HELLO", "3", "AUTH", "default", "wrong"),
		cmd("HELLO", "3", "AUTH", "bob", authPass),
		cmd("HELLO", "3", "AUTH", "default", "wrong", "SETNAME", "x"),
		cmd("HELLO", "3", "SETNAME", "x", "AUTH", "default", "wrong"),
		cmd("CLIENT", "GETNAME"),
		cmd("AUTH", "wrong"),
		cmd("AUTH", "default", "wrong"),
		cmd("AUTH", "bob", authPass),
		cmd("AUTH"),
		cmd("AUTH", "a", "b", "c"),
		cmd("GET", "k"),
		cmd("AUTH", authPass),
		cmd("GET", "k"),
		cmd("AUTH", "wrong"),
		cmd("GET", "k"),
		cmd("AUTH", "default", authPass),
		cmd("CLIENT", "SETNAME", "named"),
		cmd("RESET"),
		cmd("GET", "k"),
		cmd("CLIENT", "GETNAME"),
		cmd("HELLO", "3", "AUTH", "default", authPass, "SETNAME", "n"),
		cmd("CLIENT", "GETNAME"),
		cmd("GET", "k"),
		cmd("HELLO"),
		cmd("HELLO", "2", "AUTH", "default", "wrong"),
		cmd("GET", "k"),
		cmd("RESET"),
		cmd("HELLO", "3", "auth", "default", authPass),
		cmd("MSET", "k1", "1", "k2", "2", "k3", "3", "k4", "4", "k5", "5", "k6", "6"),
		cmd("MGET", "k1", "k2", "k3", "k4", "k5", "k6", "k7", "k8", "k9", "k10", "k11"),
	}},
	{"unauth-pipeline", []step{
		rawStep(multibulk([]string{"GET", "k1"}, []string{"AUTH", authPass}, []string{"GET", "k1"}), 3),
	}},
	{"unauth-inline", []step{
		rawStep("GET k1\r\nAUTH "+authPass+"\r\nGET k1\r\n", 3),
	}},
	{"unauth-quit", []step{
		closing(multibulk([]string{"QUIT"}), 1),
	}},
	{"unauth-too-many-args", []step{
		cmd("PING"),
		closing(multibulk([]string{"MGET", "1", "2", "3", "4", "5", "6", "7", "8", "9", "10"}), 1),
	}},
	{"unauth-ten-args", []step{
		cmd("MGET", "1", "2", "3", "4", "5", "6", "7", "8", "9"),
	}},
	{"unauth-long-bulk", []step{
		closing(multibulk([]string{"AUTH", strings.Repeat("p", 16385)}), 1),
	}},
	{"unauth-bulk-at-limit", []step{
		cmd("AUTH", strings.Repeat("p", 16384)),
	}},
	{"unauth-inline-many-args", []step{
		rawStep("MGET 1 2 3 4 5 6 7 8 9 10 11 12\r\n", 1),
	}},
}

// TestAuthScript runs authScript against redis-server and each corral
// target, all with requirepass set.
func TestAuthScript(t *testing.T) {
	checkLists(t)
	for _, tk := range targetKinds {
		t.Run(tk.name, func(t *testing.T) {
			t.Parallel()
			ref := testkit.StartRedis(t, "--databases", "1")
			tg := tk.start(t, access{pass: authPass})
			// testkit's start-up check PINGs without a password, so the
			// password is set once redis-server is up.
			if got := testkit.Dial(t, ref).Do("CONFIG", "SET", "requirepass", authPass); got != "+OK\r\n" {
				t.Fatalf("CONFIG SET requirepass: %q", got)
			}
			runSessions(t, ref, tg, 2, authScript)
		})
	}
}
