// Package membership is the cluster membership of corral's store tier: which
// store nodes and proxies are up, where they listen, and in which phase
// (joining, active, leaving) each one is. It wraps hashicorp/memberlist
// (SWIM gossip with failure detection) and adds what corral needs:
//
//   - A compact Meta on every member: role, phase, RESP and admin addresses,
//     partition count and protocol version (see Meta.Encode).
//   - Refusal of incompatible members: one whose partition count or
//     protocol version differs from ours never enters the view, and
//     clusters that disagree never merge (memberlist's AliveDelegate and
//     MergeDelegate), with a Warn naming both values and the member.
//   - Seeds that are re-resolved on every join attempt, so one Kubernetes
//     headless-service name finds every pod; a node whose seeds are only
//     itself forms a one-node cluster. Joins retry with jittered backoff.
//   - A rejoin loop that joins seed addresses missing from the view, so the
//     halves of a healed network partition merge again: memberlist stops
//     probing members it declared dead and forgets them after
//     GossipToTheDeadTime.
//   - Optional encryption and authentication of all gossip with a key
//     derived from a shared secret.
//   - OnChange, called from a goroutine of the Membership, coalesced.
//
// # Time
//
// The Membership's own waits (join backoff, rejoin interval) and its log
// rate limits use the injected clock (see AfterClock). memberlist's timers
// (probes, gossip, push/pull, suspicion, the Leave and UpdateNode timeouts)
// are its own: memberlist has no clock hook, so they always run on the real
// clock, and tests of failure detection run in real time with
// ProfileLocal's short timings.
//
// # Failure detection
//
// Each member probes one other member per ProbeInterval, round robin, first
// directly, then through IndirectChecks peers. A member that does not
// answer is marked suspect, and declared dead once the suspicion timeout
// runs out unless it refutes. For n members that timeout is
// min = SuspicionMult * max(1, log10(n)) * ProbeInterval when fewer than
// SuspicionMult-2 other members can confirm the suspicion, and otherwise
// starts at SuspicionMaxTimeoutMult * min and shrinks towards min as
// confirmations arrive. Add up to n probe intervals before the dead member's
// turn comes. With ProfileLAN (1s probes, SuspicionMult 4,
// SuspicionMaxTimeoutMult 6) a crashed member of 3 is gone from the view
// after about 5 to 8 seconds, of 4 to 10 after about 5 to 12 (25 at worst);
// with ProfileLocal (200ms probes, 3, 2) after 1 to 2 seconds. A member
// that leaves (Leave, or Run's context done) is dropped at once. memberlist
// slows its probing down when it falls behind (AwarenessMaxMultiplier 8),
// which stretches these times on an overloaded host.
//
// memberlist v0.7.0 does not tell suspect members from alive ones outside
// its own state: Members there lists both, and the nodes it hands to
// delegates carry no state. So the view holds suspect members as
// StateAlive until memberlist declares them dead; StateSuspect is part of
// the contract for when memberlist reports it.
//
// # View
//
// The view is kept from memberlist's join, leave and update notifications,
// copied under memberlist's lock, so Members never races with gossip
// (memberlist's own Members returns pointers into state it keeps mutating).
package membership
