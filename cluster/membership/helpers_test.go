package membership

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"corral/internal/clock"
	"corral/internal/testkit"
)

// converge bounds how long a cluster test waits for gossip to settle.
const converge = 10 * time.Second

// testConfig returns a Config for a member id on 127.0.0.1 with a free port,
// the local profile and short join waits, logging into a fresh logBuf.
func testConfig(id string, seeds ...string) (Config, *logBuf) {
	cfg := DefaultConfig()
	cfg.NodeID = id
	cfg.Bind = "127.0.0.1:0"
	cfg.Seeds = seeds
	cfg.Profile = ProfileLocal
	cfg.JoinBackoff = Backoff{Base: 10 * time.Millisecond, Max: 100 * time.Millisecond}
	cfg.RejoinInterval = 200 * time.Millisecond
	cfg.LeaveTimeout = time.Second
	cfg.Meta.RESP = "127.0.0.1:7" + id
	cfg.Meta.Admin = "127.0.0.1:9" + id
	logs := &logBuf{root: &logRoot{}}
	cfg.Logger = slog.New(logs)
	return cfg, logs
}

// start creates a Membership from cfg and runs it until the test ends.
func start(t *testing.T, cfg Config) *Membership {
	t.Helper()
	m, err := New(cfg)
	if err != nil {
		t.Fatalf("New(%s): %v", cfg.NodeID, err)
	}
	testkit.RunUntilCleanup(t, "membership "+cfg.NodeID, m.Run)
	return m
}

// startNode is testConfig then start, for a member with default settings.
func startNode(t *testing.T, id string, seeds ...string) (*Membership, *logBuf) {
	t.Helper()
	cfg, logs := testConfig(id, seeds...)
	return start(t, cfg), logs
}

// waitJoined fails the test unless m joins within converge.
func waitJoined(t *testing.T, m *Membership) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), converge)
	defer cancel()
	if err := m.WaitJoined(ctx); err != nil {
		t.Fatalf("%s: WaitJoined: %v", m.Local().ID, err)
	}
}

// ids returns the IDs of m's members, sorted as Members returns them.
func ids(m *Membership) []string {
	var out []string
	for _, mem := range m.Members() {
		out = append(out, mem.ID)
	}
	return out
}

// waitView waits until every one of ms sees exactly the members want.
func waitView(t *testing.T, want []string, ms ...*Membership) {
	t.Helper()
	for _, m := range ms {
		testkit.Eventually(t, func() bool { return slices.Equal(ids(m), want) }, converge,
			"%s sees %v, want %v", m.Local().ID, ids(m), want)
	}
}

// logBuf is a slog.Handler that keeps every record, for tests to search.
// It is safe for concurrent use and never touches testing.T, so memberlist
// goroutines may log into it after the test ended. Build one as
// &logBuf{root: &logRoot{}}.
type logBuf struct {
	attrs []slog.Attr // from WithAttrs, shared by the records
	root  *logRoot
}

// logRoot holds the records of a logBuf and of the handlers derived from it.
type logRoot struct {
	mu    sync.Mutex // guards lines
	lines []string
}

// Enabled accepts every level.
func (b *logBuf) Enabled(context.Context, slog.Level) bool { return true }

// Handle records r as "LEVEL msg k=v ...".
func (b *logBuf) Handle(_ context.Context, r slog.Record) error {
	var sb strings.Builder
	fmt.Fprintf(&sb, "%s %s", r.Level, r.Message)
	for _, a := range b.attrs {
		fmt.Fprintf(&sb, " %s=%v", a.Key, a.Value)
	}
	r.Attrs(func(a slog.Attr) bool {
		fmt.Fprintf(&sb, " %s=%v", a.Key, a.Value)
		return true
	})
	root := b.rootOf()
	root.mu.Lock()
	root.lines = append(root.lines, sb.String())
	root.mu.Unlock()
	return nil
}

// WithAttrs returns a handler sharing b's records.
func (b *logBuf) WithAttrs(attrs []slog.Attr) slog.Handler {
	return &logBuf{attrs: append(slices.Clip(b.attrs), attrs...), root: b.rootOf()}
}

// WithGroup ignores groups, which the package does not use.
func (b *logBuf) WithGroup(string) slog.Handler { return b }

// rootOf returns b's shared records.
func (b *logBuf) rootOf() *logRoot { return b.root }

// count returns how many records contain every one of parts.
func (b *logBuf) count(parts ...string) int {
	root := b.rootOf()
	root.mu.Lock()
	defer root.mu.Unlock()
	n := 0
	for _, l := range root.lines {
		if containsAll(l, parts) {
			n++
		}
	}
	return n
}

// find returns the first record containing every one of parts, or "".
func (b *logBuf) find(parts ...string) string {
	root := b.rootOf()
	root.mu.Lock()
	defer root.mu.Unlock()
	for _, l := range root.lines {
		if containsAll(l, parts) {
			return l
		}
	}
	return ""
}

// containsAll reports whether s contains every one of parts.
func containsAll(s string, parts []string) bool {
	for _, p := range parts {
		if !strings.Contains(s, p) {
			return false
		}
	}
	return true
}

// fakeClock is a clock.Fake whose After channels fire when Advance reaches
// them, and which reports each After call on asked.
type fakeClock struct {
	*clock.Fake
	asked chan time.Duration // every d passed to After, buffered

	mu      sync.Mutex // guards waiters
	waiters []fakeWaiter
}

// fakeWaiter is one pending After.
type fakeWaiter struct {
	at time.Time
	c  chan time.Time
}

// newFakeClock returns a fakeClock at an arbitrary fixed time.
func newFakeClock() *fakeClock {
	return &fakeClock{Fake: clock.NewFake(time.Unix(1_700_000_000, 0)), asked: make(chan time.Duration, 1000)}
}

// After implements AfterClock.
func (f *fakeClock) After(d time.Duration) <-chan time.Time {
	c := make(chan time.Time, 1)
	f.mu.Lock()
	now := f.Now()
	if d <= 0 {
		c <- now
	} else {
		f.waiters = append(f.waiters, fakeWaiter{at: now.Add(d), c: c})
	}
	f.mu.Unlock()
	f.asked <- d
	return c
}

// Advance moves the clock forward by d and fires the Afters it reached.
func (f *fakeClock) Advance(d time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.Fake.Advance(d)
	now := f.Now()
	kept := f.waiters[:0]
	for _, w := range f.waiters {
		if w.at.After(now) {
			kept = append(kept, w)
		} else {
			w.c <- now
		}
	}
	f.waiters = kept
}

// nextAsked returns the next duration passed to After, failing the test if
// none comes within converge.
func (f *fakeClock) nextAsked(t *testing.T) time.Duration {
	t.Helper()
	select {
	case d := <-f.asked:
		return d
	case <-time.After(converge):
		t.Fatal("no wait on the fake clock")
		return 0
	}
}
