package cluster

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"time"
)

// snapshotFile is the snapshot's name in the data directory.
const snapshotFile = "corral.snap"

func (s *Store) snapshotPath() string { return filepath.Join(s.cfg.DataDir, snapshotFile) }

// loadSnapshot fills the engine from the data directory's snapshot, if
// there is a usable one. Nothing about a snapshot stops the store from
// starting: a missing one is normal, a damaged one is reported and set
// aside, one older than the tombstone TTL is skipped.
func (s *Store) loadSnapshot() error {
	if err := os.MkdirAll(s.cfg.DataDir, 0o755); err != nil {
		return err
	}
	path := s.snapshotPath()
	start := time.Now()
	fi, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		s.log.Info("no snapshot to load; starting empty", "path", path)
		return nil
	}
	if err != nil {
		s.log.Warn("snapshot unreadable; starting empty", "path", path, "err", err)
		return nil
	}
	if age := s.clock.Now().Sub(fi.ModTime()); age > s.cfg.Engine.TombstoneTTL {
		s.log.Warn("snapshot older than the tombstone TTL skipped: deletes it missed are forgotten, loading it could bring deleted keys back",
			"path", path, "age", age.Round(time.Second), "tombstone_ttl", s.cfg.Engine.TombstoneTTL)
		return nil
	}
	info, err := s.eng.LoadSnapshot(path)
	if err != nil {
		aside := path + ".bad"
		rerr := os.Rename(path, aside)
		s.log.Warn("snapshot corrupt or truncated; skipped it, the node refills from its replicas", "path", path, "err", err, "moved_to", aside, "move_err", rerr)
		return nil
	}
	s.log.Info("snapshot loaded", "path", path, "records", info.Records,
		"age", s.clock.Now().Sub(time.UnixMilli(info.TakenAtMs)).Round(time.Millisecond), "took", time.Since(start).Round(time.Millisecond))
	return nil
}

// saveSnapshot writes the snapshot and logs the outcome.
func (s *Store) saveSnapshot(why string) {
	start := time.Now()
	n, err := s.eng.SaveSnapshot(s.snapshotPath())
	if err != nil {
		s.log.Error("writing snapshot", "why", why, "err", err)
		return
	}
	s.log.Info("snapshot written", "why", why, "records", n, "took", time.Since(start).Round(time.Millisecond))
}

// snapshotLoop writes the snapshot every SnapshotInterval until ctx is done.
func (s *Store) snapshotLoop(ctx context.Context) error {
	t := time.NewTicker(s.cfg.SnapshotInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
			s.saveSnapshot("periodic")
		}
	}
}

// Snapshot writes the snapshot now (a no-op without a data directory).
func (s *Store) Snapshot() {
	if s.cfg.DataDir != "" {
		s.saveSnapshot("requested")
	}
}
