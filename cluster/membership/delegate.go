package membership

import (
	"fmt"
	"time"

	"github.com/hashicorp/memberlist"
)

// refusalWarnEvery is the least time between two warnings about refusing
// the same member for the same reason; memberlist offers a refused member
// again with every alive message it hears about it.
const refusalWarnEvery = time.Minute

// maxWarned bounds the refusal warnings remembered; past it they are
// forgotten, which at worst repeats a warning early.
const maxWarned = 1024

// delegate is the Membership as memberlist's Delegate, EventDelegate,
// AliveDelegate and MergeDelegate. memberlist calls the event and alive
// methods with its node lock held: they must not call back into memberlist,
// and they only take m.mu, which is never held while calling memberlist.
type delegate struct{ m *Membership }

// NodeMeta returns our encoded meta. limit is memberlist's MetaMaxSize,
// which Meta.Validate already enforced.
func (d *delegate) NodeMeta(limit int) []byte {
	d.m.mu.Lock()
	defer d.m.mu.Unlock()
	return d.m.metaBuf
}

// NotifyMsg ignores user messages: corral sends none over gossip.
func (d *delegate) NotifyMsg([]byte) {}

// GetBroadcasts has no user broadcasts to send.
func (d *delegate) GetBroadcasts(overhead, limit int) [][]byte { return nil }

// LocalState has no user state to push.
func (d *delegate) LocalState(join bool) []byte { return nil }

// MergeRemoteState ignores the (empty) user state of peers.
func (d *delegate) MergeRemoteState(buf []byte, join bool) {}

// NotifyJoin adds n to the view.
func (d *delegate) NotifyJoin(n *memberlist.Node) { d.m.upsert(n) }

// NotifyUpdate replaces n in the view, usually with a new meta.
func (d *delegate) NotifyUpdate(n *memberlist.Node) { d.m.upsert(n) }

// NotifyLeave removes n from the view: it left or was declared dead.
func (d *delegate) NotifyLeave(n *memberlist.Node) {
	d.m.mu.Lock()
	delete(d.m.view, n.Name)
	d.m.mu.Unlock()
	d.m.log.Info("member gone", "member", n.Name, "gossip", n.Address())
	d.m.noteChange()
}

// NotifyAlive refuses a member whose meta is unreadable or whose partition
// count or protocol version differs from ours, so that it never enters the
// view.
func (d *delegate) NotifyAlive(n *memberlist.Node) error {
	if n.Name == d.m.cfg.NodeID {
		return nil
	}
	_, err := d.m.check(n.Name, n.Address(), n.Meta)
	return err
}

// NotifyMerge refuses a join (ours through a seed, or a peer's through us)
// when any live member of the other side is incompatible, so that clusters
// of different partition counts or protocol versions never merge.
func (d *delegate) NotifyMerge(peers []*memberlist.Node) error {
	for _, n := range peers {
		if n.Name == d.m.cfg.NodeID || (n.State != memberlist.StateAlive && n.State != memberlist.StateSuspect) {
			continue
		}
		if _, err := d.m.check(n.Name, n.Address(), n.Meta); err != nil {
			return err
		}
	}
	return nil
}

// upsert puts n into the view. A node whose meta does not decode cannot be
// here (NotifyAlive refused it) and is skipped.
func (m *Membership) upsert(n *memberlist.Node) {
	meta, err := DecodeMeta(n.Meta)
	if err != nil {
		m.log.Warn("member with unreadable meta skipped", "member", n.Name, "err", err)
		return
	}
	mem := Member{ID: n.Name, Gossip: n.Address(), Meta: meta, State: stateOf(n.State)}
	m.mu.Lock()
	old, had := m.view[n.Name]
	m.view[n.Name] = mem
	m.mu.Unlock()
	switch {
	case !had && n.Name != m.cfg.NodeID:
		m.log.Info("member joined", "member", mem.ID, "gossip", mem.Gossip, "role", meta.Role, "phase", meta.Phase)
	case had && old.Phase != meta.Phase:
		m.log.Info("member phase", "member", mem.ID, "phase", meta.Phase, "was", old.Phase)
	}
	m.noteChange()
}

// stateOf maps memberlist's node state into the view's.
func stateOf(s memberlist.NodeStateType) State {
	if s == memberlist.StateSuspect {
		return StateSuspect
	}
	return StateAlive
}

// check decodes raw, the meta of member id at addr, and returns an error
// matching ErrIncompatible, after a rate-limited warning, when the member
// must be refused.
func (m *Membership) check(id, addr string, raw []byte) (Meta, error) {
	theirs, err := DecodeMeta(raw)
	m.mu.Lock()
	ours := m.meta
	m.mu.Unlock()
	var reason string
	var attrs []any
	switch {
	case theirs.Proto != ours.Proto && (err == nil || theirs.Proto != 0):
		reason = "protocol version differs"
		attrs = []any{"their_proto", theirs.Proto, "our_proto", ours.Proto}
		err = fmt.Errorf("%w: member %s (%s) speaks protocol version %d, we speak %d",
			ErrIncompatible, id, addr, theirs.Proto, ours.Proto)
	case err != nil:
		reason = "unreadable meta"
		attrs = []any{"err", err}
		err = fmt.Errorf("%w: member %s (%s): %w", ErrIncompatible, id, addr, err)
	case theirs.Partitions != ours.Partitions:
		reason = "partition count differs"
		attrs = []any{"their_partitions", theirs.Partitions, "our_partitions", ours.Partitions}
		err = fmt.Errorf("%w: member %s (%s) has %d partitions, we have %d",
			ErrIncompatible, id, addr, theirs.Partitions, ours.Partitions)
	default:
		return theirs, nil
	}
	if m.shouldWarn(id + "\x00" + reason) {
		m.log.Warn("refusing member: "+reason, append([]any{"member", id, "gossip", addr}, attrs...)...)
	}
	return theirs, err
}

// shouldWarn reports whether a warning for key is due, and if so records
// it as given now.
func (m *Membership) shouldWarn(key string) bool {
	now := m.clock.Now()
	m.mu.Lock()
	defer m.mu.Unlock()
	if last, ok := m.warned[key]; ok && now.Sub(last) < refusalWarnEvery {
		return false
	}
	if len(m.warned) >= maxWarned {
		clear(m.warned)
	}
	m.warned[key] = now
	return true
}
