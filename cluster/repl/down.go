package repl

import (
	"sync"
	"time"
)

// A peer that fails a call is treated as down for a short, growing while:
// writes hint it at once instead of each waiting out Timeout, which matters
// in the seconds before the membership declares a dead node dead (a dead
// pod's address drops packets, so every dial would hang). Hint delivery
// keeps probing it once per flush; the first success clears the mark.
const (
	downMin = 250 * time.Millisecond
	downMax = 5 * time.Second
)

// peerHealth tracks peers that failed recently.
type peerHealth struct {
	mu      sync.Mutex
	until   map[string]time.Time
	backoff map[string]time.Duration
}

func newPeerHealth() *peerHealth {
	return &peerHealth{until: map[string]time.Time{}, backoff: map[string]time.Duration{}}
}

// down reports whether peer failed recently enough to be skipped at now.
func (h *peerHealth) down(peer string, now time.Time) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	u, ok := h.until[peer]
	return ok && now.Before(u)
}

// failed marks peer down from now for a backoff that doubles with each
// consecutive failure, between downMin and downMax.
func (h *peerHealth) failed(peer string, now time.Time) {
	h.mu.Lock()
	defer h.mu.Unlock()
	b := min(max(2*h.backoff[peer], downMin), downMax)
	h.backoff[peer] = b
	h.until[peer] = now.Add(b)
}

// ok clears peer's mark.
func (h *peerHealth) ok(peer string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	delete(h.until, peer)
	delete(h.backoff, peer)
}

// PeerDown reports whether peer failed a call recently and is being
// skipped (its writes hinted) for now; callers that can choose among
// owners try such a peer last.
func (r *Replicator) PeerDown(peer string) bool { return r.health.down(peer, r.clock.Now()) }
