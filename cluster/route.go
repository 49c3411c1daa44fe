package cluster

import (
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"
	"time"

	"corral/cluster/hlc"
	"corral/cluster/repl"
	"corral/internal/command"
	"corral/internal/server"
)

// unacked is the reply to a write fewer owners applied than --write-acks
// asks for. Unlike Redis's NOREPLICAS, which refuses a write before running
// it (and which go-redis retries), the write did run here and may still
// spread by hints and anti-entropy, so the code is one no client retries.
func unacked(acks, need int, mode string) string {
	return fmt.Sprintf("UNACKED the write reached %d owner(s); --write-acks %s needs %d; it may still spread", acks, mode, need)
}

// execCluster routes a data command on a cluster node: commands on keys
// this node owns run here (and writes replicate to the co-owners), single
// keys it does not own go to their owners, multi-key commands are split
// by owner, and DBSIZE, SCAN and FLUSHALL span the cluster.
func (s *Store) execCluster(c *server.Conn, spec *command.Spec, args [][]byte) {
	n := s.node
	switch spec.ID {
	case command.FlushAll, command.FlushDB:
		n.flushAll(c, spec, args)
		return
	case command.DBSize:
		n.dbsize(c)
		return
	case command.Scan:
		n.scan(c, args)
		return
	}
	if !spec.HasFlag(command.Keyed) {
		s.execLocal(c, spec, args)
		return
	}
	t := n.table.Load()
	if !spec.HasFlag(command.Multikey) {
		p := t.Partition(args[1])
		if t.Owns(n.self, p) {
			if !spec.HasFlag(command.Write) {
				n.readOwned(c, spec, args, p) // the hot path
				return
			}
			n.execOwned(c, spec, args)
		} else {
			n.forward(c, p, args)
		}
		return
	}
	all := true
	spec.ForEachKey(args, func(k []byte) { all = all && t.Owns(n.self, t.Partition(k)) })
	if all {
		n.execOwned(c, spec, args)
		return
	}
	n.split(c, spec, args)
}

// execOwned runs a command on keys this node owns: partitions still being
// filled first fetch the keys from their co-owners; a write is then
// replicated to the co-owners of every key it changed, and answered with
// UNACKED when fewer owners than --write-acks asks for applied it.
func (n *node) execOwned(c *server.Conn, spec *command.Spec, args [][]byte) {
	s := n.s
	if !spec.HasFlag(command.Multikey) && !spec.HasFlag(command.Write) {
		n.readOwned(c, spec, args, s.eng.Partition(args[1]))
		return
	}
	var keys [][]byte
	spec.ForEachKey(args, func(k []byte) { keys = append(keys, k) })
	for _, k := range keys {
		if p := s.eng.Partition(k); !n.rep.Filled(p) {
			n.rep.FetchFromOwners(c.Context(), p, [][]byte{k})
		}
	}
	if !spec.HasFlag(command.Write) {
		s.execLocal(c, spec, args)
		return
	}
	before := make([]hlc.Timestamp, len(keys))
	for i, k := range keys {
		before[i] = s.eng.Version(k)
	}
	start := c.W.Len()
	s.execLocal(c, spec, args)
	byPart := map[int][]repl.Entry{}
	nowMs := s.clock.Now().UnixMilli()
	for i, k := range keys {
		if s.eng.Version(k) == before[i] {
			continue
		}
		if rec, ok := s.eng.Lookup(k, nowMs); ok {
			p := s.eng.Partition(k)
			byPart[p] = append(byPart[p], repl.Entry{Key: append([]byte(nil), k...), Rec: rec})
		}
	}
	failed := ""
	for p, entries := range byPart {
		if acks, need := n.rep.Replicate(c.Context(), p, entries); acks < need && failed == "" {
			failed = unacked(acks, need, n.cfg.Repl.Acks.String())
		}
	}
	if failed != "" {
		c.W.Truncate(start)
		c.W.Error(failed)
	}
}

// readOwned runs a single-key read on partition p, which this node owns,
// without allocating: a partition still being filled first fetches the
// key from its co-owners.
func (n *node) readOwned(c *server.Conn, spec *command.Spec, args [][]byte, p int) {
	if !n.rep.Filled(p) {
		n.rep.FetchFromOwners(c.Context(), p, [][]byte{args[1]})
	}
	n.s.execLocal(c, spec, args)
}

// forwardTimeout bounds a command forwarded to an owner, which may itself
// wait for its co-owners.
func (n *node) forwardTimeout() time.Duration { return 3 * n.cfg.Repl.Timeout }

// forward sends a command on a key of partition p, which this node does not
// own, to the partition's owners in order, the next one only when the
// previous could not be reached at all, and relays the reply.
func (n *node) forward(c *server.Conn, p int, args [][]byte) {
	raw, err := n.forwardRaw(c.Context(), p, c.W.Proto, args)
	if err != nil {
		c.W.Error(err.Error())
		return
	}
	c.W.Raw(raw)
}

// forwardRaw forwards args to the owners of partition p and returns the
// raw reply, encoded in protocol proto.
func (n *node) forwardRaw(ctx context.Context, p, proto int, args [][]byte) ([]byte, error) {
	owners := slices.Clone(n.table.Load().Owners(p)) // sorted below; the table's is shared
	if len(owners) == 0 {
		return nil, errors.New("CLUSTERDOWN no store node owns partitions yet")
	}
	// Owners that failed a call just now go last.
	slices.SortStableFunc(owners, func(a, b string) int {
		da, db := n.rep.PeerDown(a), n.rep.PeerDown(b)
		switch {
		case da == db:
			return 0
		case db:
			return -1
		}
		return 1
	})
	ctx, cancel := context.WithTimeout(ctx, n.forwardTimeout())
	defer cancel()
	iargs := make([]any, 0, len(args)+2)
	iargs = append(iargs, cmdFwd, strconv.Itoa(proto))
	for _, a := range args {
		iargs = append(iargs, a)
	}
	var last error
	for _, o := range owners {
		if o == n.self {
			continue
		}
		v, err := n.ps.do(ctx, o, iargs...)
		if err == nil {
			raw, ok := v.(string)
			if !ok {
				return nil, fmt.Errorf("ERR corral: malformed reply from node %s", o)
			}
			return []byte(raw), nil
		}
		last = err
		if !unreachable(err) {
			break // it may have run: trying another owner could run it twice
		}
	}
	return nil, fmt.Errorf("ERR corral: no owner of the key answered: %v", last)
}

// unreachable reports whether err means the command never reached the peer.
func unreachable(err error) bool {
	if errors.Is(err, errNoAddr) || errors.Is(err, repl.ErrUnreachable) {
		return true
	}
	var oe *net.OpError
	return errors.As(err, &oe) && oe.Op == "dial"
}

// capture runs fn, which writes one reply to c.W, and returns that reply
// encoded in protocol proto instead of leaving it in c.W.
func capture(c *server.Conn, proto int, fn func()) []byte {
	start, saved := c.W.Len(), c.W.Proto
	c.W.Proto = proto
	fn()
	raw := append([]byte(nil), c.W.Bytes()[start:]...)
	c.W.Truncate(start)
	c.W.Proto = saved
	return raw
}

// split runs a multi-key command whose keys have different owners: one
// sub-command per owner (this node's keys here), then one merged reply.
// MSETNX checks every key with EXISTS first and then sets them; across
// owners it is not atomic.
func (n *node) split(c *server.Conn, spec *command.Spec, args [][]byte) {
	switch spec.ID {
	case command.MSetNX:
		keys := make([][]byte, 0, len(args)/2+1)
		keys = append(keys, []byte("exists"))
		for i := 1; i < len(args); i += 2 {
			keys = append(keys, args[i])
		}
		replies, err := n.scatter(c, command.Lookup([]byte("exists")), keys, 1)
		if err != "" {
			c.W.Error(err)
			return
		}
		for _, r := range replies {
			if r.n > 0 {
				c.W.Int(0)
				return
			}
		}
		set := append([][]byte{[]byte("mset")}, args[1:]...)
		if _, err := n.scatter(c, command.Lookup([]byte("mset")), set, 2); err != "" {
			c.W.Error(err)
			return
		}
		c.W.Int(1)
		return
	case command.MSet:
		if _, err := n.scatter(c, spec, args, 2); err != "" {
			c.W.Error(err)
			return
		}
		c.W.OK()
		return
	}
	replies, err := n.scatter(c, spec, args, 1)
	if err != "" {
		c.W.Error(err)
		return
	}
	if spec.ID == command.MGet {
		vals := make([]reply, len(args)-1)
		for _, r := range replies {
			for j, idx := range r.idx {
				if j < len(r.arr) {
					vals[idx] = r.arr[j]
				}
			}
		}
		c.W.Array(len(vals))
		for _, v := range vals {
			if v.null {
				c.W.Null()
			} else {
				c.W.Bulk(v.bulk)
			}
		}
		return
	}
	var sum int64
	for _, r := range replies {
		sum += r.n
	}
	c.W.Int(sum)
}

// groupReply is one owner's reply to its share of a split command: idx
// are the positions of its keys among the command's keys.
type groupReply struct {
	reply
	idx []int
}

// scatter sends each owner its share of args (keys, or key-value pairs
// when step is 2) and returns the parsed replies, or the first error
// reply's text.
func (n *node) scatter(c *server.Conn, spec *command.Spec, args [][]byte, step int) ([]groupReply, string) {
	t := n.table.Load()
	type group struct {
		target string
		part   int
		args   [][]byte
		idx    []int
	}
	var groups []*group
	byTarget := map[string]*group{}
	for i, ki := 1, 0; i+step-1 < len(args); i, ki = i+step, ki+1 {
		p := t.Partition(args[i])
		target := n.self
		if !t.Owns(n.self, p) {
			owners := t.Owners(p)
			if len(owners) == 0 {
				return nil, "CLUSTERDOWN no store node owns partitions yet"
			}
			target = owners[0]
		}
		g := byTarget[target]
		if g == nil {
			g = &group{target: target, part: p, args: [][]byte{args[0]}}
			byTarget[target] = g
			groups = append(groups, g)
		}
		g.args = append(g.args, args[i:i+step]...)
		g.idx = append(g.idx, ki)
	}
	out := make([]groupReply, len(groups))
	for i, g := range groups {
		var raw []byte
		if g.target == n.self {
			raw = capture(c, 2, func() { n.execOwned(c, spec, g.args) })
		} else {
			var err error
			if raw, err = n.forwardRaw(c.Context(), g.part, 2, g.args); err != nil {
				return nil, err.Error()
			}
		}
		r, err := parseReply(raw)
		if err != nil {
			return nil, "ERR corral: " + err.Error()
		}
		if r.err != "" {
			return nil, r.err
		}
		out[i] = groupReply{reply: r, idx: g.idx}
	}
	return out, ""
}

// reply is a parsed RESP2 reply of the shapes split commands return.
type reply struct {
	err  string
	n    int64
	null bool
	bulk []byte
	arr  []reply
}

// parseReply parses one RESP2 reply: a status, an error, an integer, a
// bulk string or null, or an array of those.
func parseReply(b []byte) (reply, error) {
	r, rest, err := parseOne(b)
	if err == nil && len(rest) != 0 {
		err = errors.New("trailing bytes after a reply")
	}
	return r, err
}

func parseOne(b []byte) (reply, []byte, error) {
	i := strings.Index(string(b), "\r\n")
	if len(b) == 0 || i < 0 {
		return reply{}, nil, errors.New("truncated reply")
	}
	line, rest := string(b[1:i]), b[i+2:]
	switch b[0] {
	case '+':
		return reply{bulk: []byte(line)}, rest, nil
	case '-':
		return reply{err: line}, rest, nil
	case ':':
		v, err := strconv.ParseInt(line, 10, 64)
		return reply{n: v}, rest, err
	case '$':
		l, err := strconv.Atoi(line)
		if err != nil {
			return reply{}, nil, err
		}
		if l < 0 {
			return reply{null: true}, rest, nil
		}
		if len(rest) < l+2 {
			return reply{}, nil, errors.New("truncated bulk string")
		}
		return reply{bulk: rest[:l]}, rest[l+2:], nil
	case '*':
		l, err := strconv.Atoi(line)
		if err != nil {
			return reply{}, nil, err
		}
		if l < 0 {
			return reply{null: true}, rest, nil
		}
		r := reply{arr: make([]reply, 0, l)}
		for range l {
			var e reply
			if e, rest, err = parseOne(rest); err != nil {
				return reply{}, nil, err
			}
			r.arr = append(r.arr, e)
		}
		return r, rest, nil
	}
	return reply{}, nil, fmt.Errorf("unexpected reply type %q", b[0])
}
