// Command corral is the one binary of the corral caching tier: the proxy
// and store roles, an all-in-one development server, and the load tester.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// version is stamped at build time: -ldflags "-X main.version=v1.2.3".
var version = "dev"

const topUsage = `corral: a stampede-proof caching tier that speaks the Redis protocol.

Usage: corral <command> [flags]

Commands:
  proxy     client-facing RESP proxy with an L1 cache, in front of a store or any Redis
  store     a store node: partitioned in-memory data with TTLs
  dev       a proxy and an embedded store in one process, for development
  bench     load tests: stampede, recovery, zipf and ablation scenarios, and an origin simulator
  version   print the version

Run 'corral <command> --help' for the command's flags.
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	stop()
	os.Exit(exitCode(err, os.Stderr))
}

// exitCode reports err and maps it to the process status: 0 for success
// and --help, 2 for a bad command line, 1 for anything else.
func exitCode(err error, stderr io.Writer) int {
	var ue *usageError
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
		return 0
	case errors.As(err, &ue):
		fmt.Fprintln(stderr, ue.msg)
		return 2
	default:
		fmt.Fprintln(stderr, "corral:", err)
		return 1
	}
}

// run executes one corral command until it finishes or ctx is done.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, topUsage)
		return usagef("corral: missing command")
	}
	switch cmd, rest := args[0], args[1:]; cmd {
	case "proxy":
		return runProxy(ctx, rest, getenv, stderr)
	case "store":
		return runStore(ctx, rest, getenv, stderr)
	case "dev":
		return runDev(ctx, rest, getenv, stdout, stderr)
	case "bench":
		return runBench(ctx, rest, getenv, stdout, stderr)
	case "version", "--version", "-version":
		fmt.Fprintln(stdout, "corral", version)
		return nil
	case "help", "--help", "-help", "-h":
		fmt.Fprint(stdout, topUsage)
		return nil
	default:
		fmt.Fprint(stderr, topUsage)
		return usagef("corral: unknown command %q", cmd)
	}
}
