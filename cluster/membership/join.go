package membership

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"

	"corral/xfetch"
)

// Run joins the cluster and keeps this member in it until ctx is done.
//
// It first resolves the seeds and joins through every address that is not
// this member, retrying with jittered exponential backoff (JoinBackoff) and
// logging each failed attempt, until one of them answered. When Seeds is
// empty, or every seed address is this member, it forms a one-node cluster
// instead; a seed that resolves to nothing counts as not answering. Joined
// and WaitJoined report the outcome.
//
// Once joined, every RejoinInterval it resolves the seeds again and joins
// each seed address that is not a live member, so that separated halves of
// the cluster merge again.
//
// When ctx is done it leaves (Leave with LeaveTimeout) and returns nil; it
// also returns nil, at once, after Leave or Kill. A join attempt under way
// finishes first, which memberlist bounds by its TCP timeout (10s with the
// LAN profile) per seed address. Run may be called once.
func (m *Membership) Run(ctx context.Context) error {
	if !m.ran.CompareAndSwap(false, true) {
		return ErrAlreadyRun
	}
	select {
	case <-m.stopped:
		return ErrStopped
	default:
	}
	if err := m.join(ctx); err == nil {
		close(m.joined)
		m.rejoinLoop(ctx)
	}
	select {
	case <-m.stopped:
		return nil // Leave or Kill
	default:
	}
	if err := m.Leave(m.cfg.LeaveTimeout); err != nil {
		m.log.Warn("goodbye not confirmed", "err", err)
	}
	return nil
}

// join retries joining through the seeds until a seed other than this member
// answered or there is none, returning nil, or until ctx is done or the
// Membership stopped, returning why.
func (m *Membership) join(ctx context.Context) error {
	if len(m.cfg.Seeds) == 0 {
		m.log.Info("no seeds: forming a one-node cluster")
		return nil
	}
	b := m.cfg.JoinBackoff
	for attempt := 0; ; attempt++ {
		addrs, err := m.resolveSeeds(ctx)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		others := m.notSelf(addrs)
		switch {
		case len(addrs) > 0 && len(others) == 0:
			m.log.Info("every seed is this member: forming a one-node cluster", "seeds", m.cfg.Seeds)
			return nil
		case len(others) == 0:
			if err == nil {
				err = errors.New("seeds resolved to no address")
			}
		default:
			n, jerr := m.ml.Join(others)
			if n > 0 {
				members := m.size()
				if members <= 1 {
					// Only addresses of this member answered, under names
					// notSelf could not tell.
					m.log.Info("only this member answered: forming a one-node cluster", "addresses", others)
				} else {
					m.log.Info("joined", "contacted", n, "members", members)
				}
				return nil
			}
			err = errors.Join(err, jerr)
		}
		wait := xfetch.Backoff(attempt, b.Base, b.Max, m.rand())
		m.log.Warn("join attempt failed", "attempt", attempt+1, "seeds", m.cfg.Seeds,
			"addresses", others, "err", oneLine(err), "retry_in", wait)
		if err := m.sleep(ctx, wait); err != nil {
			return err
		}
	}
}

// rejoinLoop runs rejoin every RejoinInterval until ctx is done or the
// Membership stopped.
func (m *Membership) rejoinLoop(ctx context.Context) {
	for m.sleep(ctx, m.cfg.RejoinInterval) == nil {
		m.rejoin(ctx)
	}
}

// rejoin joins every seed address that is neither this member nor a live
// one. After a network partition heals, each half has declared the other
// dead and memberlist alone would not probe it again; this brings them back
// together.
func (m *Membership) rejoin(ctx context.Context) {
	if len(m.cfg.Seeds) == 0 {
		return
	}
	addrs, err := m.resolveSeeds(ctx)
	if err != nil {
		m.log.Debug("rejoin: resolving seeds", "err", oneLine(err))
	}
	live := make(map[string]bool)
	for _, mem := range m.Members() {
		live[mem.Gossip] = true
	}
	var missing []string
	for _, a := range m.notSelf(addrs) {
		if !live[a] {
			missing = append(missing, a)
		}
	}
	if len(missing) == 0 || ctx.Err() != nil {
		return
	}
	before := m.size()
	n, err := m.ml.Join(missing)
	if n == 0 {
		m.log.Debug("rejoin: no missing seed answered", "addresses", missing, "err", oneLine(err))
		return
	}
	if after := m.size(); after != before {
		m.log.Info("rejoined seeds that were not members", "addresses", missing, "contacted", n,
			"members_before", before, "members", after)
	}
}

// size returns the number of members in the view.
func (m *Membership) size() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.view)
}

// resolveSeeds returns the "ip:port" addresses of every seed, in seed
// order without duplicates. Host names go through the Resolver every time;
// a name that fails to resolve is reported in the error while the others
// are still returned.
func (m *Membership) resolveSeeds(ctx context.Context) ([]string, error) {
	var (
		addrs []string
		errs  []error
		seen  = make(map[string]bool)
	)
	for _, s := range m.cfg.Seeds {
		host, port, err := splitSeed(s)
		if err != nil { // Validate rejected it already
			errs = append(errs, fmt.Errorf("seed %q: %w", s, err))
			continue
		}
		ips := []string{host}
		if net.ParseIP(host) == nil {
			if ips, err = m.resolve(ctx, host); err != nil {
				errs = append(errs, fmt.Errorf("resolve %s: %w", host, err))
				continue
			}
		}
		for _, ip := range ips {
			parsed := net.ParseIP(ip)
			if parsed == nil {
				errs = append(errs, fmt.Errorf("resolve %s: %q is not an IP address", host, ip))
				continue
			}
			a := net.JoinHostPort(parsed.String(), strconv.Itoa(port))
			if !seen[a] {
				seen[a] = true
				addrs = append(addrs, a)
			}
		}
	}
	return addrs, errors.Join(errs...)
}

// notSelf returns the addresses in addrs that do not reach this member.
func (m *Membership) notSelf(addrs []string) []string {
	var out []string
	for _, a := range addrs {
		if !m.self[a] {
			out = append(out, a)
		}
	}
	return out
}

// oneLine renders err for a log line: memberlist's multi-errors and
// errors.Join trees become their leaf messages joined by "; ", instead of a
// message spread over several lines.
func oneLine(err error) string {
	if err == nil {
		return ""
	}
	var leaves []string
	var walk func(error)
	walk = func(e error) {
		var kids []error
		switch x := e.(type) {
		case interface{ WrappedErrors() []error }: // go-multierror
			kids = x.WrappedErrors()
		case interface{ Unwrap() []error }:
			kids = x.Unwrap()
		default:
			leaves = append(leaves, e.Error())
			return
		}
		for _, k := range kids {
			if k != nil {
				walk(k)
			}
		}
	}
	walk(err)
	return strings.Join(leaves, "; ")
}
