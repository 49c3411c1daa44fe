package cluster

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// syncBuffer is a log sink safe for concurrent writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// runStoreIn starts a store alone with data directory dir and returns a
// client and a stop function that shuts it down gracefully.
func runStoreIn(t *testing.T, dir string, logs *syncBuffer) (*redis.Client, func()) {
	t.Helper()
	cfg := DefaultConfig()
	cfg.Server.Addr = "127.0.0.1:0"
	cfg.DataDir = dir
	cfg.Logger = slog.New(slog.NewTextHandler(logs, nil))
	st, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Listen(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- st.Run(ctx) }()
	c := redis.NewClient(&redis.Options{Addr: st.Addr(), MaxRetries: -1})
	return c, func() {
		c.Close()
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	}
}

// TestWarmRestart: a store with 100k keys shut down and started again with
// its data directory answers DBSIZE 100000 as soon as it serves; a
// truncated snapshot is skipped with a log line and set aside.
func TestWarmRestart(t *testing.T) {
	dir := t.TempDir()
	var logs syncBuffer
	c, stop := runStoreIn(t, dir, &logs)
	ctx := context.Background()
	const n = 100_000
	pipe := c.Pipeline()
	for i := range n {
		pipe.Set(ctx, fmt.Sprintf("key:%d", i), "value", time.Hour)
		if i%5000 == 4999 {
			if _, err := pipe.Exec(ctx); err != nil {
				t.Fatal(err)
			}
		}
	}
	stop()

	c, stop = runStoreIn(t, dir, &logs)
	if got, err := c.DBSize(ctx).Result(); err != nil || got != n {
		t.Fatalf("DBSIZE after a warm restart = %d, %v; want %d", got, err, n)
	}
	if ttl, err := c.TTL(ctx, "key:7").Result(); err != nil || ttl <= 0 || ttl > time.Hour {
		t.Errorf("TTL after the restart = %v, %v; want the hour it had", ttl, err)
	}
	stop()

	path := filepath.Join(dir, snapshotFile)
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b[:len(b)/2], 0o644); err != nil {
		t.Fatal(err)
	}
	c, stop = runStoreIn(t, dir, &logs)
	defer stop()
	if got, err := c.DBSize(ctx).Result(); err != nil || got != 0 {
		t.Fatalf("DBSIZE after a truncated snapshot = %d, %v; want 0 (skipped)", got, err)
	}
	if !strings.Contains(logs.String(), "snapshot corrupt or truncated; skipped it") {
		t.Errorf("no log line about the truncated snapshot:\n%s", logs.String())
	}
	if _, err := os.Stat(path + ".bad"); err != nil {
		t.Errorf("the truncated snapshot was not set aside: %v", err)
	}
}
