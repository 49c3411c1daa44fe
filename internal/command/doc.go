// Package command is corral's table of the Redis commands it serves: names,
// arities, flags and key positions as redis-server 7.0 reports them, the
// exact COMMAND INFO and COMMAND DOCS replies, Redis's error texts, and the
// argument parsers (SET and GETEX options, expiry forms, SCAN options,
// integers and floats) that both roles share.
//
// A server calls Resolve on each command (Lookup, Sub and the arity check,
// with Redis's unknown-command, unknown-subcommand and arity texts) and
// switches on Spec.ID. Parsers take the whole argv and return Error values
// whose text is exactly what redis-server 7.0.15 replies, checked in the
// same order as Redis checks them. Lookup, Resolve, ParseInt and Match are
// on hot paths and do not allocate.
//
// The table lives in zz_generated.go, written by the generator in ./gen
// from a live redis-server 7.0.15 (run "go generate ./internal/command"
// with redis-server on PATH). The live tests (live_*_test.go) start a
// private redis-server and compare every reply, error text and parser
// decision with it; they skip when redis-server is not installed.
package command
