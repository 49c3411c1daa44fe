//go:build soak

// Package soak is corral's soak test: minutes of mixed load through a
// proxy to a three-node store cluster (RF 2, read-through to an origin
// simulator), all in this process on loopback, while a seeded fault
// schedule kills and restarts store nodes, cuts one node off from the
// others, and makes the origin slow and then failing. At the end it checks
// that no acknowledged write was lost, that goroutines and heap came back
// to the level they had after warmup, and reports requests, errors by kind
// and the error rate.
//
// It is behind the soak build tag, so make test never runs it:
//
//	make soak                      # SOAK=3m by default
//	make soak SOAK=10m SOAK_SEED=42
//
// which runs
//
//	CORRAL_SOAK_DURATION=3m go test -tags soak -count=1 -v -run '^TestSoak$' ./test/soak/
//
//	CORRAL_SOAK_DURATION  how long the load runs (default 3m, at least 30s)
//	CORRAL_SOAK_SEED      seeds the fault schedule and the load (default: from the clock; printed)
//	CORRAL_SOAK_REPORT    a file to write the report to as well (optional)
//	CORRAL_SOAK_PROFILE   a file to write a goroutine dump to if goroutines leak (optional)
package soak
