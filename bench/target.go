package bench

import (
	"context"
	"strings"
)

// Target is a corral role the Launcher started.
type Target struct {
	// Addr is the RESP address clients connect to (the proxy's, for dev).
	Addr string
	// Admin is the admin HTTP address ("" when disabled).
	Admin string
	// Stop shuts the role down and waits for it; it returns what the role
	// returned.
	Stop func() error
}

// Launcher starts a corral role in-process until Target.Stop or ctx is
// done. args are a corral command line without the program name, as
// `corral dev --listen 127.0.0.1:0 --admin 127.0.0.1:0 --origin URL ...`
// or `corral store ...` takes them. It returns once the role is serving.
type Launcher func(ctx context.Context, args []string) (Target, error)

// loopback are the flags that put a launched role on ephemeral loopback
// ports, quiet, with room for every bench client.
var loopback = []string{"--listen", "127.0.0.1:0", "--admin", "127.0.0.1:0", "--log-level", "error", "--log-format", "text", "--maxclients", "100000"}

// devArgs returns the `corral dev` command line of a run.
func devArgs(originURL string, defenses, extra []string) []string {
	args := append([]string{"dev"}, loopback...)
	args = append(args, "--origin", originURL)
	args = append(args, defenses...)
	return append(args, extra...)
}

// storeArgs returns the `corral store` command line of a plain store: a
// one-node cluster, with gossip on a loopback ephemeral port when gossip
// is set (a corral without the --gossip flag takes the line without it).
func storeArgs(gossip bool) []string {
	args := append([]string{"store"}, loopback...)
	if gossip {
		args = append(args, "--gossip", "127.0.0.1:0")
	}
	return args
}

// flagNotDefined reports whether err is a command line that named a flag
// the role does not have.
func flagNotDefined(err error) bool {
	return err != nil && strings.Contains(err.Error(), "flag provided but not defined")
}
