//go:build soak

package soak

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"
)

// faultLog is the timed record of what the schedule did.
type faultLog struct {
	start time.Time
	mu    sync.Mutex // guards lines
	lines []string
}

func (l *faultLog) add(format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lines = append(l.lines, fmt.Sprintf("%8.1fs  ", time.Since(l.start).Seconds())+fmt.Sprintf(format, args...))
}

func (l *faultLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.lines, "\n")
}

// hold draws how long a fault lasts: 2 to 6 seconds.
func hold(r *rand.Rand) time.Duration {
	return 2*time.Second + time.Duration(r.Int64N(int64(4*time.Second)))
}

// converge is how long the schedule waits for the cluster to heal after a
// node-level fault before failing: generous, the machine is shared.
const converge = 2 * time.Minute

// counts of the faults the schedule ran.
type faultCounts struct {
	kills, cuts, slow, failing int
}

// nodeFaults runs node-level faults, one at a time, on the test goroutine
// (the kit fails the test from it) until until: kill a node without a
// goodbye and restart it empty under the same id, or cut one node's
// replication off from the other two and heal it. Before each fault the
// cluster has converged (no underreplicated partition, no hint queued, no
// partition being filled): the operating contract under which RF 2 loses
// no acknowledged write to a single failure.
func nodeFaults(t *testing.T, rg *rig, r *rand.Rand, until time.Time, ph *phases, log *faultLog, fc *faultCounts) {
	t.Helper()
	ids := []string{"0", "1", "2"}
	for time.Now().Add(10 * time.Second).Before(until) {
		id := ids[r.IntN(len(ids))]
		d := hold(r)
		if r.IntN(2) == 0 {
			fc.kills++
			ph.setNode("kill")
			log.add("kill node %s (no goodbye, data gone); restart in %v", id, d.Round(time.Millisecond))
			rg.kit.Kill(id)
			rg.kit.WaitOwners(2, converge)
			log.add("node %s out of placement", id)
			time.Sleep(d) // the outage itself
			rg.kit.Start(id)
			ph.setNode("restart")
			log.add("node %s restarted empty", id)
			rg.kit.WaitOwners(3, converge)
			rg.kit.WaitFor(converge, "the proxy to route to the restarted node", func() bool { return len(rg.router.Nodes()) == 3 })
		} else {
			fc.cuts++
			var others []string
			for _, o := range ids {
				if o != id {
					others = append(others, o)
				}
			}
			ph.setNode("cut")
			log.add("cut node %s off from %v (replication and anti-entropy) for %v", id, others, d.Round(time.Millisecond))
			rg.kit.Partition([]string{id}, others, true)
			time.Sleep(d) // the partition itself
			rg.kit.Partition([]string{id}, others, false)
			ph.setNode("healed")
			log.add("healed node %s", id)
		}
		took := rg.kit.WaitConverged(converge)
		ph.setNode("")
		log.add("converged in %v", took.Round(time.Millisecond))
		gap := time.Second + time.Duration(r.Int64N(int64(3*time.Second)))
		time.Sleep(gap) // quiet time between faults
	}
}

// originFaults makes the origin slow, then failing, then healthy, in
// rounds, until until or stop; it runs beside the node faults (the origin
// is not a node of the cluster).
func originFaults(rg *rig, r *rand.Rand, until time.Time, stop <-chan struct{}, ph *phases, log *faultLog, fc *faultCounts) {
	wait := func(d time.Duration) bool {
		if time.Now().Add(d).After(until) {
			d = max(0, time.Until(until))
		}
		select {
		case <-stop:
			return false
		case <-time.After(d):
			return time.Now().Before(until)
		}
	}
	defer func() {
		rg.gate.SetDelay(0)
		rg.sim.SetDown(false)
		ph.setOrigin("")
	}()
	for wait(3*time.Second + time.Duration(r.Int64N(int64(5*time.Second)))) {
		slow := 200*time.Millisecond + time.Duration(r.Int64N(int64(2*time.Second)))
		fc.slow++
		rg.gate.SetDelay(slow)
		ph.setOrigin("origin-slow")
		log.add("origin slow: +%v per load (the stores' origin timeout is 2s)", slow.Round(time.Millisecond))
		if !wait(hold(r)) {
			return
		}
		rg.gate.SetDelay(0)
		fc.failing++
		rg.sim.SetDown(true)
		ph.setOrigin("origin-failing")
		log.add("origin failing: 503 on every load")
		if !wait(hold(r)) {
			return
		}
		rg.sim.SetDown(false)
		ph.setOrigin("")
		log.add("origin healthy")
	}
}
