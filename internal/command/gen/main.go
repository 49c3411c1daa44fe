// Command gen writes internal/command/zz_generated.go, corral's command
// table, from a live redis-server 7.0.15: the ID constants, each command's
// arity, flags and key positions, and the exact COMMAND INFO and COMMAND
// DOCS replies (RESP2 and RESP3) with containers (CLIENT, COMMAND) cut
// down to the subcommands corral serves. CLIENT SETINFO, which 7.0 lacks,
// is added by hand in Redis 7.2's form (see setinfo.go).
//
// Re-run it after changing the command list in commands.go, from the
// module root, with redis-server 7.0.15 on PATH:
//
//	go generate ./internal/command
//
// which runs "go run ./gen -out zz_generated.go" in internal/command and
// starts a private redis-server on a free 127.0.0.1 port. To use a server
// that is already running instead:
//
//	go run ./internal/command/gen -addr 127.0.0.1:6379 -out internal/command/zz_generated.go
//
// The generator refuses any other Redis version unless -any-version is set,
// because the replies must match 7.0.15 byte for byte.
package main

import (
	"flag"
	"fmt"
	"go/format"
	"os"
	"time"

	"corral/internal/command/internal/resptree"
)

const wantVersion = "7.0.15"

func main() {
	addr := flag.String("addr", "", "redis-server address; empty starts redis-server from PATH on a free port")
	out := flag.String("out", "zz_generated.go", "output file")
	anyVersion := flag.Bool("any-version", false, "accept a redis-server other than "+wantVersion)
	flag.Parse()
	if err := run(*addr, *out, *anyVersion); err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
}

func run(addr, out string, anyVersion bool) error {
	if addr == "" {
		srv, err := resptree.StartServer()
		if err != nil {
			return err
		}
		defer srv.Stop()
		addr = srv.Addr
	}
	c, err := resptree.Dial(addr, 5*time.Second)
	if err != nil {
		return err
	}
	defer c.Close()
	version, err := resptree.VersionOf(c)
	if err != nil {
		return err
	}
	if version != wantVersion && !anyVersion {
		return fmt.Errorf("redis-server at %s is %s, want %s (or pass -any-version)", addr, version, wantVersion)
	}
	specs, help, err := fetch(c)
	if err != nil {
		return err
	}
	src, err := render(specs, help, version)
	if err != nil {
		return err
	}
	formatted, err := format.Source(src)
	if err != nil {
		return fmt.Errorf("gofmt generated code: %w", err)
	}
	return os.WriteFile(out, formatted, 0o644)
}
