// Package sim is a deterministic simulation of the store tier's
// replication under faults: the real storage engines (cluster/engine),
// replicators (cluster/repl, Serial) and placement (cluster/placement) of
// 3 to 5 store nodes, driven by a seeded schedule on one fake clock and a
// simulated network, and checked against a model of every acknowledged
// write. Run plays one seed; its tests play many (see sim_test.go for
// the -sim.seed, -sim.seeds, -sim.steps and -sim.trace flags).
//
// # The world
//
// One seed fixes everything: the cluster's shape (ConfigFor: nodes, RF 2
// or 3, 16 to 64 partitions, ack mode all or quorum, hint and repair
// limits) and, through PCG streams of its own, the schedule and the
// network's decisions. A run is a loop of Steps steps; each step first
// fires what is due (membership changes, the end of a network partition
// or of a drop or delay period, late messages), then does one action
// picked by weight:
//
//   - write (46%): a client's SET (a quarter of them with a TTL of up to
//     20s), DEL or INCR on a key of a small key space, half the time a hot
//     one. The client sends it to the key's first live owner in the
//     settled placement; that node runs it if its own view of the
//     placement says it owns the key, else forwards it to the first owner
//     in its view it can reach (which runs it whatever its view says), as
//     the store does. The coordinator fetches the key from its co-owners
//     first if the partition is not filled, applies it with engine.Update
//     and replicates the stored record with Replicator.Replicate; the write
//     is acknowledged when acks >= need.
//   - advance (14%): the clock moves 1 to 200ms (now and then 1 to 4s)
//     and every live engine runs ExpireTick.
//   - round (12%) and flush (8%): anti-entropy (with handoff) or one hint
//     batch on a random live node.
//   - kill (3%): a random live node loses its process and memory, if the
//     kill rule allows (below). The membership notices 1 to 40 steps
//     later and the placement drops it.
//   - restart (5%): a killed node starts again under its ID, empty or,
//     if it was down for less than half the tombstone grace, with its data
//     (a warm restart from disk). If the placement still lists it, either
//     nobody noticed (it stays) or it leaves and joins again a few steps
//     later; otherwise it joins 0 to 5 steps later. Now and then a node the
//     placement already dropped is given up on instead (while RF+1 nodes
//     stay up).
//   - cut (2%): the nodes split into two random groups that cannot reach
//     each other, for 5 to 155 steps (MemNet.Cut).
//   - drops (2%): for 20 to 220 steps, each call is lost with a chance of
//     2% to 27% (MemNet.Drop, asked in call order, which Serial fixes).
//   - delays (2%): for 20 to 220 steps, each Apply is, with a chance of 5%
//     to 35%, reported failed to its sender (which hints) while its records
//     arrive 1 to 80 steps later, and with half that chance delivered now
//     and again later. A late message is lost if its receiver is down or
//     cut off when it arrives, or if it is older than half the tombstone
//     grace.
//
// Every placement change reaches each live node 0 to 3 steps later, in
// order, so nodes briefly disagree on owners. Then the heal: the network
// partition heals, drops and delays stop, messages in flight arrive, every
// dead node restarts (or, while RF+1 nodes remain, leaves for good), and
// every node sees the final placement.
//
// # The kill rule
//
// A node may be killed only while fewer than RF-1 nodes are down and the
// cluster is fully replicated, which the simulation reads from the
// engines as an oracle: every node of the placement is up, and every owner
// of every key holds the key's last acknowledged write (below) or a record
// that replaces it. That is the operational rule "at most RF-1 owners of a
// partition down at once, and a new failure only once the cluster is fully
// replicated again". At each kill attempt with no node down and every view
// settled, the underreplicated gauge (repl.Status, summed over the live
// nodes) must not read 0 unless the oracle agrees ("gauge").
//
// # Invariants
//
// Records compare under last-writer-wins as engine.Merge orders them
// (Version, then tombstone first, later ExpireAt, greater value), in the
// canonical form the engine reports at the end (a record past its TTL is
// the tombstone of the same Version). The last acknowledged write a* of a
// key is, among its acknowledged writes, the one last under LWW: writes
// are ordered by version, not by the wall-clock order of their
// acknowledgements. (Counts.Inversions counts acknowledged writes that
// ordered before an earlier acknowledged one.)
//
//  1. Convergence ("convergence"): after the heal, rounds run (each moves
//     the clock 1s, then every live node delivers all its hints and runs
//     one anti-entropy round) until every owner of every partition has the
//     same Root, no live node holds a record of a partition it does not
//     own, and every node's Status shows nothing underreplicated, unfilled,
//     to hand off or hinted; at most MaxConvergeRounds rounds
//     (Counts.ConvergeRounds tells how many it took).
//  2. No acknowledged write lost ("lost"): every owner of a key, its
//     primary first, holds a* or a record that replaces it, and that record
//     is one a client wrote; it may hold nothing only if a*, or a write
//     that replaces it, is a tombstone whose grace period is over.
//  3. Tombstones never resurrect ("resurrected"): if a* is a tombstone (a
//     DEL, or a TTL that ran out), no live node reads the key (engine.Get)
//     unless what it reads replaces a*.
//  4. Nothing appears that nobody wrote ("phantom"): every record any live
//     node holds is a client's write.
//
// Sabotage switches break the system on purpose (a Merge that ignores
// versions, no anti-entropy, lost tombstones; KillAnytime breaks the kill
// rule) so that tests can show each check fails when it should.
//
// # Determinism
//
// The simulation runs on one goroutine, draws every decision from its
// seed, never iterates a map where order matters, reads only the fake
// clock, and gives the replicators timeouts no call can reach. Two runs of
// a Config give the same Result.Digest, a hash of every event and of every
// node's final partition roots: a failing seed replays exactly.
package sim
