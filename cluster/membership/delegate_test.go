package membership

import (
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/memberlist"
)

// bareMembership returns a Membership with meta ours and no memberlist, for
// the delegate's pure parts.
func bareMembership(ours Meta) (*Membership, *logBuf, *fakeClock) {
	logs := &logBuf{root: &logRoot{}}
	fc := newFakeClock()
	return &Membership{
		cfg:     Config{NodeID: "self"},
		log:     slog.New(logs),
		clock:   fc,
		meta:    ours,
		changed: make(chan struct{}, 1),
		view:    make(map[string]Member),
		warned:  make(map[string]time.Time),
	}, logs, fc
}

func TestCheck(t *testing.T) {
	ours := Meta{Role: RoleStore, Phase: PhaseActive, Partitions: 4096, Proto: 1}
	enc := func(m Meta) []byte {
		b, err := m.Encode()
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	with := func(f func(*Meta)) Meta { m := ours; f(&m); return m }
	tests := []struct {
		name string
		raw  []byte
		log  string // "" when accepted
	}{
		{"same", enc(ours), ""},
		{"proxy in another phase", enc(with(func(m *Meta) { m.Role, m.Phase = RoleProxy, PhaseJoining })), ""},
		{"partitions", enc(with(func(m *Meta) { m.Partitions = 64 })),
			"WARN refusing member: partition count differs member=peer gossip=10.0.0.9:7946 their_partitions=64 our_partitions=4096"},
		{"proto", enc(with(func(m *Meta) { m.Proto = 2; m.Partitions = 64 })),
			"WARN refusing member: protocol version differs member=peer gossip=10.0.0.9:7946 their_proto=2 our_proto=1"},
		{"proto of a later layout", []byte{1, 2, 0xff}, "WARN refusing member: protocol version differs"},
		{"unreadable", []byte("junk"), "WARN refusing member: unreadable meta member=peer"},
		{"none", nil, "WARN refusing member: unreadable meta"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, logs, _ := bareMembership(ours)
			_, err := m.check("peer", "10.0.0.9:7946", tt.raw)
			if tt.log == "" {
				if err != nil {
					t.Fatalf("check = %v, want nil", err)
				}
				return
			}
			if !errors.Is(err, ErrIncompatible) || !strings.Contains(err.Error(), "member peer (10.0.0.9:7946)") {
				t.Errorf("check = %v, want ErrIncompatible naming the member", err)
			}
			if logs.find(tt.log) == "" {
				t.Errorf("no log line %q", tt.log)
			}
		})
	}
}

func TestRefusalWarningRateLimited(t *testing.T) {
	ours := Meta{Role: RoleStore, Phase: PhaseActive, Partitions: 4096, Proto: 1}
	m, logs, fc := bareMembership(ours)
	raw, _ := Meta{Role: RoleStore, Phase: PhaseActive, Partitions: 1, Proto: 1}.Encode()
	d := &delegate{m: m}
	node := &memberlist.Node{Name: "peer", Meta: raw}
	for range 5 {
		if err := d.NotifyAlive(node); !errors.Is(err, ErrIncompatible) {
			t.Fatalf("NotifyAlive = %v, want ErrIncompatible", err)
		}
	}
	if n := logs.count("refusing member"); n != 1 {
		t.Fatalf("%d warnings within a minute, want 1", n)
	}
	fc.Advance(refusalWarnEvery)
	_ = d.NotifyAlive(node)
	_ = d.NotifyAlive(&memberlist.Node{Name: "other", Meta: raw})
	if n := logs.count("refusing member"); n != 3 {
		t.Fatalf("%d warnings, want 3 (one more for peer after a minute, one for other)", n)
	}
	if err := d.NotifyAlive(&memberlist.Node{Name: "self", Meta: []byte("anything")}); err != nil {
		t.Errorf("NotifyAlive(self) = %v, want nil", err)
	}
}

func TestNotifyMerge(t *testing.T) {
	ours := Meta{Role: RoleStore, Phase: PhaseActive, Partitions: 4096, Proto: 1}
	good, _ := ours.Encode()
	bad, _ := Meta{Role: RoleStore, Phase: PhaseActive, Partitions: 8, Proto: 1}.Encode()
	tests := []struct {
		name  string
		peers []*memberlist.Node
		ok    bool
	}{
		{"compatible", []*memberlist.Node{{Name: "a", Meta: good}, {Name: "b", Meta: good, State: memberlist.StateSuspect}}, true},
		{"dead or left incompatible peers ignored", []*memberlist.Node{
			{Name: "a", Meta: good}, {Name: "old", Meta: bad, State: memberlist.StateDead}, {Name: "gone", Meta: bad, State: memberlist.StateLeft}}, true},
		{"ourselves ignored", []*memberlist.Node{{Name: "self", Meta: nil}}, true},
		{"one incompatible", []*memberlist.Node{{Name: "a", Meta: good}, {Name: "b", Meta: bad}}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, _, _ := bareMembership(ours)
			err := (&delegate{m: m}).NotifyMerge(tt.peers)
			if tt.ok != (err == nil) {
				t.Errorf("NotifyMerge = %v, want ok=%v", err, tt.ok)
			}
		})
	}
}

func TestViewFromEvents(t *testing.T) {
	ours := Meta{Role: RoleStore, Phase: PhaseActive, Partitions: 4096, Proto: 1}
	m, _, _ := bareMembership(ours)
	d := &delegate{m: m}
	raw, _ := ours.Encode()
	joining, _ := Meta{Role: RoleProxy, Phase: PhaseJoining, Partitions: 4096, Proto: 1}.Encode()
	d.NotifyJoin(&memberlist.Node{Name: "b", Addr: []byte{10, 0, 0, 2}, Port: 7946, Meta: joining})
	d.NotifyJoin(&memberlist.Node{Name: "a", Addr: []byte{10, 0, 0, 1}, Port: 7946, Meta: raw})
	d.NotifyJoin(&memberlist.Node{Name: "junk", Meta: []byte("x")}) // never admitted by NotifyAlive
	if got := fmt.Sprint(ids(m)); got != "[a b]" {
		t.Fatalf("view = %s, want [a b]", got)
	}
	d.NotifyUpdate(&memberlist.Node{Name: "b", Addr: []byte{10, 0, 0, 2}, Port: 7946, Meta: raw})
	if got := m.Members()[1]; got.Phase != PhaseActive || got.Role != RoleStore || got.Gossip != "10.0.0.2:7946" {
		t.Errorf("b after update = %+v", got)
	}
	d.NotifyLeave(&memberlist.Node{Name: "a"})
	if got := fmt.Sprint(ids(m)); got != "[b]" {
		t.Fatalf("view after leave = %s, want [b]", got)
	}
	select {
	case <-m.changed:
	default:
		t.Error("no change noted")
	}
}

func TestOneLine(t *testing.T) {
	err := errors.Join(errors.New("resolve a: no such host"), errors.Join(errors.New("x"), nil, errors.New("y")))
	if got, want := oneLine(err), "resolve a: no such host; x; y"; got != want {
		t.Errorf("oneLine = %q, want %q", got, want)
	}
	if got := oneLine(nil); got != "" {
		t.Errorf("oneLine(nil) = %q", got)
	}
}
