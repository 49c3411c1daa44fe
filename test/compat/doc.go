// Package compat holds corral's compatibility acceptance tests: a real
// redis-server 7.0.15 and corral answer the same scripted command sequence
// and the replies must be byte-identical.
//
// TestScript runs script (script_test.go, some 775 steps in 33 sessions)
// against three corral targets, each next to a reference redis-server of
// its own: the store alone, the proxy in front of a store, and the proxy in
// front of a second redis-server. It runs once over RESP2 and once over
// RESP3 (HELLO 3 first on every connection). TestAuthScript runs
// authScript (auth_test.go) with requirepass set everywhere.
// TestCommandTable compares COMMAND INFO and COMMAND DOCS of every command
// corral lists. TestGoRedis and TestRedisCLI drive the proxy with go-redis
// v9 and with redis-cli, the interactive prompt included (through
// script(1), from Debian's essential bsdutils package).
//
// A step is named "session: command line" (see stepNames). Replies that
// inherently differ between two servers (client ids, TIME, INFO, remaining
// TTLs, ...) are compared by a rule of their own: varies in varies_test.go
// lists those steps by name. A difference from Redis in code the suite
// does not own goes into knownMismatches, by target, protocol and step
// name; such a step still runs, is logged while it differs, and fails the
// suite once it matches so that its entry is removed with the fix.
//
// The package has no non-test code. The tests skip when redis-server or
// redis-cli is not on PATH, and fail instead when the environment variable
// CI is "true".
package compat
