package sim

import (
	"fmt"
	"reflect"
	"strings"
)

// Counts are the events of a run, so that tests can check the faults and
// repairs they meant to exercise really happened.
type Counts struct {
	Steps int // steps run, fault phase only

	// Client traffic.
	Writes       int // writes applied by a coordinator (SET, DEL, INCR)
	Deletes      int // of those, DELs (tombstones)
	TTLWrites    int // of those, SETs with a TTL
	Acked        int // writes acknowledged (acks >= need)
	NotAcked     int // writes applied but not acknowledged (NOREPLICAS)
	AckedUnderRF int // acked writes that reached fewer than RF owners at once
	Unavailable  int // writes with no live owner
	Forwarded    int // writes forwarded by a node whose view lagged
	Fetches      int // coordinator asked co-owners first (partition not filled)
	Inversions   int // acked writes ordered before an earlier acked write (LWW)

	// Faults.
	Kills        int // nodes killed (process and memory lost)
	KillsRefused int // kills the policy refused
	GaugeLies    int // kill attempts where the gauge read 0 but the oracle found a missing copy
	Restarts     int // killed nodes started again
	WarmRestarts int // of those, with their data (down less than TombstoneTTL/2)
	Detections   int // killed nodes taken out of the placement
	Joins        int // restarted nodes put back in the placement
	Removals     int // dead nodes removed for good at the heal
	Cuts         int // network partitions (groups cut from each other)
	Heals        int // network partitions healed
	DropPhases   int // periods with random message loss
	Drops        int // calls lost by MemNet.Drop
	DelayPhases  int // periods with late deliveries
	LateSent     int // Apply calls reported failed but delivered later
	Duplicated   int // Apply calls delivered now and again later
	LateArrived  int // late or duplicate deliveries that arrived
	LateApplied  int // records they changed
	LateLost     int // late deliveries lost (receiver dead, cut, or too old)

	// Repair.
	HintsDelivered int // records delivered by FlushHints
	Rounds         int // anti-entropy rounds, fault phase
	Repaired       int // records pushed or pulled by anti-entropy and handoff, fault phase
	RoundFailures  int // failed peer calls in rounds
	Deferred       int // differing partitions deferred by the repair budget
	HandedOff      int // partitions handed off and dropped
	ClockAdvances  int // steps that moved the clock

	// Heal phase.
	ConvergeRounds   int // rounds until converged (0 if never)
	ConvergeRepaired int // records moved while converging
}

// add sums o into c.
func (c *Counts) add(o Counts) {
	a, b := reflect.ValueOf(c).Elem(), reflect.ValueOf(o)
	for i := range a.NumField() {
		a.Field(i).SetInt(a.Field(i).Int() + b.Field(i).Int())
	}
}

// Fields returns the counters by name, in declaration order.
func (c Counts) Fields() []Field {
	v := reflect.ValueOf(c)
	out := make([]Field, v.NumField())
	for i := range out {
		out[i] = Field{Name: v.Type().Field(i).Name, Value: int(v.Field(i).Int())}
	}
	return out
}

// Field is one named counter.
type Field struct {
	Name  string
	Value int
}

func (c Counts) String() string {
	var b strings.Builder
	for i, f := range c.Fields() {
		if i > 0 {
			b.WriteByte(' ')
		}
		fmt.Fprintf(&b, "%s=%d", f.Name, f.Value)
	}
	return b.String()
}

// Sum adds up counts.
func Sum(cs ...Counts) Counts {
	var s Counts
	for _, c := range cs {
		s.add(c)
	}
	return s
}
