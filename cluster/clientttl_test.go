package cluster

import (
	"testing"
	"time"

	"corral/internal/clock"
)

func TestClientTTLJitter(t *testing.T) {
	now := time.UnixMilli(execEpochMs)
	tests := []struct {
		name   string
		jitter bool
		cmd    []string
		want   string // PTTL k afterwards
	}{
		{"SET EX exact by default", false, []string{"SET", "k", "v", "EX", "100"}, ":100000\r\n"},
		{"SET EX spread", true, []string{"SET", "k", "v", "EX", "100"}, ":109000\r\n"},
		{"SETEX spread", true, []string{"SETEX", "k", "100", "v"}, ":109000\r\n"},
		{"PSETEX spread", true, []string{"PSETEX", "k", "100000", "v"}, ":109000\r\n"},
		{"EXPIRE spread", true, []string{"EXPIRE", "k", "100"}, ":109000\r\n"},
		{"GETEX spread", true, []string{"GETEX", "k", "EX", "100"}, ":109000\r\n"},
		{"past deadline still deletes", true, []string{"EXPIRE", "k", "-1"}, ":-2\r\n"},
		{"no TTL stays none", true, []string{"SET", "k", "v"}, ":-1\r\n"},
		{"deadline too far to spread stays exact", true, []string{"EXPIRE", "k", "10000000000"}, ":10000000000000\r\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := DefaultConfig()
			cfg.Server.Addr = "127.0.0.1:0"
			cfg.Clock = clock.NewFake(now)
			cfg.Engine.Partitions = 8
			cfg.JitterClientTTL = tt.jitter
			cfg.Defenses.Jitter = 0.1
			cfg.Rand = func() float64 { return 0.9 }
			s, err := New(cfg)
			if err != nil {
				t.Fatal(err)
			}
			execReply(s, 2, now, "SET", "k", "v")
			execReply(s, 2, now, tt.cmd...)
			if got := execReply(s, 2, now, "PTTL", "k"); got != tt.want {
				t.Fatalf("after %v: PTTL = %q, want %q", tt.cmd, got, tt.want)
			}
		})
	}
}
