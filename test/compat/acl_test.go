package compat_test

import (
	"strings"
	"testing"

	"corral/internal/acl"
	"corral/internal/testkit"
)

// aclUsers is the users file of TestACLScript. redis-server gets the same
// users through ACL SETUSER. The default user is off, so every session
// starts unauthenticated. alice's hash is SHA-256("secret").
var aclUsers = []string{
	"user alice on #2bb80d537b1da3e38bd30361aa855686bde0eacd7162fef6a25fe97bf527a25b ~cache:* +@read -@dangerous",
	"user bob off >pw ~* +@all",
	"user writer on >w ~k* +@write",
	"user sub on >s ~* +client|id +get +@connection -ping",
	"user nokeys on nopass +@all",
	"user default off",
}

// aclScript runs against servers with aclUsers; each session starts
// unauthenticated, in RESP2.
var aclScript = []session{
	{"unauthenticated", []step{
		cmd("GET", "k"),
		cmd("PING"),
		cmd("AUTH", "x"),
		cmd("AUTH", "default", "x"),
		cmd("AUTH", "nobody", "x"),
		cmd("AUTH", "bob", "pw"),
		cmd("AUTH", "alice", "wrong"),
		cmd("HELLO", "3"),
		cmd("HELLO", "3", "AUTH", "bob", "pw"),
		cmd("GET"),
		cmd("NOSUCH"),
	}},
	{"read-only-user", []step{
		cmd("AUTH", "alice", "secret"),
		cmd("GET", "cache:1"),
		cmd("GET", "other"),
		cmd("SET", "cache:1", "x"),
		cmd("SET"),
		cmd("NOSUCH", "x"),
		cmd("MGET", "cache:1", "other"),
		cmd("MGET", "cache:1", "cache:2"),
		cmd("EXISTS", "cache:1", "other"),
		cmd("EXISTS", "cache:1"),
		cmd("TTL", "other"),
		cmd("STRLEN", "cache:1"),
		cmd("GETRANGE", "cache:1", "0", "1"),
		cmd("DBSIZE"),
		cmd("PING"),
		cmd("ECHO", "x"),
		cmd("CLIENT", "ID"),
		cmd("CLIENT", "LIST"),
		cmd("INFO"),
		cmd("COMMAND", "COUNT"),
		cmd("FLUSHALL"),
		cmd("DEL", "cache:1"),
		cmd("AUTH", "bob", "pw"),
		cmd("GET", "cache:1"),
		cmd("HELLO", "3", "AUTH", "alice", "secret"),
		cmd("GET", "other"),
		closing(multibulk([]string{"QUIT"}), 1),
	}},
	{"write-only-user", []step{
		cmd("HELLO", "2", "AUTH", "writer", "w", "SETNAME", "wr"),
		cmd("SET", "k1", "v"),
		cmd("SET", "x", "v"),
		cmd("GET", "k1"),
		cmd("MSET", "k1", "1", "k2", "2"),
		cmd("MSET", "k1", "1", "x", "2"),
		cmd("INCR", "k3"),
		cmd("APPEND", "k1", "z"),
		cmd("DEL", "k1", "k2"),
		cmd("EXPIRE", "k3", "100"),
		cmd("TTL", "k3"),
		cmd("CLIENT", "GETNAME"),
		cmd("RESET"),
		cmd("GET", "k1"),
		cmd("SET", "k1", "v"),
	}},
	{"subcommand-user", []step{
		cmd("AUTH", "sub", "s"),
		cmd("CLIENT", "ID"),
		cmd("CLIENT", "GETNAME"),
		cmd("CLIENT", "LIST"),
		cmd("PING"),
		cmd("ECHO", "x"),
		cmd("GET", "k"),
		cmd("SET", "k", "v"),
		cmd("COMMAND", "COUNT"),
	}},
	{"no-key-patterns", []step{
		cmd("AUTH", "nokeys", "anything"),
		cmd("PING"),
		cmd("DBSIZE"),
		cmd("GET", "k"),
		cmd("SET", "k", "v"),
		cmd("MGET", "a", "b"),
	}},
	{"inline-and-pipeline", []step{
		rawStep("AUTH alice secret\r\nGET cache:9\r\nSET cache:9 v\r\nGET k9\r\n", 4),
		rawStep(multibulk([]string{"AUTH", "writer", "w"}, []string{"SET", "k9", "v"}, []string{"GET", "k9"}), 3),
	}},
}

// TestACLScript runs aclScript against redis-server, given the users by
// ACL SETUSER, and each corral target, given the same users as a users
// file: NOAUTH, WRONGPASS and both NOPERM texts must match byte for byte.
func TestACLScript(t *testing.T) {
	checkLists(t)
	file, err := acl.Parse(strings.NewReader(strings.Join(aclUsers, "\n")), "users.acl")
	if err != nil {
		t.Fatal(err)
	}
	for _, tk := range targetKinds {
		t.Run(tk.name, func(t *testing.T) {
			t.Parallel()
			ref := testkit.StartRedis(t, "--databases", "1")
			setup := testkit.Dial(t, ref)
			for _, line := range aclUsers {
				// A users file, like Redis's ACL file, defines each user
				// from scratch: "reset" first.
				f := strings.Fields(line)
				args := append([]string{"ACL", "SETUSER", f[1], "reset"}, f[2:]...)
				if got := setup.Do(args...); got != "+OK\r\n" {
					t.Fatalf("%s: %q", strings.Join(args, " "), got)
				}
			}
			setup.Close()
			tg := tk.start(t, access{users: file})
			runSessions(t, ref, tg, 2, aclScript)
		})
	}
}
