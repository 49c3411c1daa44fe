package cluster

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"strconv"
	"strings"
	"sync"

	"corral/cluster/engine"
	"corral/cluster/repl"
	"corral/internal/command"
	"corral/internal/server"
)

// ExecInternal implements server.InternalHandler: the commands nodes of a
// cluster send each other.
func (s *Store) ExecInternal(c *server.Conn, args [][]byte) {
	n := s.node
	name := strings.ToLower(string(args[0]))
	if n == nil {
		c.W.Error("ERR corral: " + name + " needs a cluster node; this store runs alone")
		return
	}
	if name == cmdAuth {
		n.internalAuth(c, args[1:])
		return
	}
	if n.token != "" {
		if _, ok := c.State.(peerConn); !ok {
			c.W.Error("NOPERM " + name + " is for cluster peers: authenticate with the cluster secret first")
			return
		}
	}
	switch name {
	case cmdApply:
		n.internalApply(c, args[1:])
	case cmdRoots:
		n.internalRoots(c, args[1:])
	case cmdBuckets:
		p, ok := n.partArg(c, args, 1)
		if !ok {
			return
		}
		writeUints(c, n.rep.Local().Buckets(p))
	case cmdKeys:
		n.internalKeys(c, args[1:])
	case cmdFetch:
		n.internalFetch(c, args[1:])
	case cmdFwd:
		n.internalFwd(c, args[1:])
	case cmdDBSize:
		c.W.Int(int64(n.primaryLen(c.Now().UnixMilli())))
	case cmdFlush:
		if !s.cfg.AllowFlush {
			c.W.Error("ERR FLUSHALL is disabled on this node; start it with --allow-flush to accept it")
			return
		}
		s.eng.Flush()
		if s.rt != nil {
			s.rt.flush()
		}
		c.W.OK()
	case cmdScan:
		n.internalScan(c, args[1:])
	default:
		c.W.Error("ERR unknown internal command '" + name + "'")
	}
}

// partArg parses args[i] as a partition index.
func (n *node) partArg(c *server.Conn, args [][]byte, i int) (int, bool) {
	if i >= len(args) {
		c.W.Error("ERR corral: missing partition")
		return 0, false
	}
	p, err := strconv.Atoi(string(args[i]))
	if err != nil || p < 0 || p >= n.s.eng.Partitions() {
		c.W.Error("ERR corral: bad partition " + strconv.Quote(string(args[i])))
		return 0, false
	}
	return p, true
}

func (n *node) internalApply(c *server.Conn, args [][]byte) {
	if len(args)%5 != 0 {
		c.W.Error("ERR corral: " + cmdApply + " takes records of 5 fields")
		return
	}
	entries := make([]repl.Entry, 0, len(args)/5)
	for i := 0; i < len(args); i += 5 {
		f := make([][]byte, 5)
		for j := range f {
			f[j] = append([]byte(nil), args[i+j]...) // the engine keeps them
		}
		e, err := decodeEntry(f)
		if err != nil {
			c.W.Error("ERR corral: " + err.Error())
			return
		}
		entries = append(entries, e)
	}
	c.W.Int(int64(n.rep.Local().Apply(entries)))
}

func (n *node) internalRoots(c *server.Conn, args [][]byte) {
	if len(args)%2 != 0 {
		c.W.Error("ERR corral: " + cmdRoots + " takes partition-root pairs")
		return
	}
	parts := make([]int, 0, len(args)/2)
	theirs := make([]uint64, 0, len(args)/2)
	for i := 0; i < len(args); i += 2 {
		p, ok := n.partArg(c, args, i)
		if !ok {
			return
		}
		r, err := strconv.ParseUint(string(args[i+1]), 10, 64)
		if err != nil {
			c.W.Error("ERR corral: bad root")
			return
		}
		parts = append(parts, p)
		theirs = append(theirs, r)
	}
	writeUints(c, n.rep.Local().Roots(parts, theirs))
}

func (n *node) internalKeys(c *server.Conn, args [][]byte) {
	p, ok := n.partArg(c, args, 0)
	if !ok {
		return
	}
	buckets := make([]int, 0, len(args)-1)
	for _, a := range args[1:] {
		b, err := strconv.Atoi(string(a))
		if err != nil || b < 0 || b >= engine.DigestBuckets {
			c.W.Error("ERR corral: bad bucket")
			return
		}
		buckets = append(buckets, b)
	}
	ks := n.rep.Local().Keys(p, buckets)
	c.W.Array(3 * len(ks))
	var tmp [20]byte
	for _, k := range ks {
		c.W.BulkString(k.Key)
		c.W.Bulk(strconv.AppendUint(tmp[:0], uint64(k.Version), 10))
		c.W.Bulk(strconv.AppendUint(tmp[:0], k.Hash, 10))
	}
}

func (n *node) internalFetch(c *server.Conn, keys [][]byte) {
	entries := n.rep.Local().Fetch(keys, c.Now().UnixMilli())
	c.W.Array(5 * len(entries))
	var tmp [20]byte
	for _, e := range entries {
		c.W.Bulk(e.Key)
		c.W.Bulk(strconv.AppendInt(tmp[:0], e.Rec.ExpireAt, 10))
		c.W.Bulk(strconv.AppendUint(tmp[:0], uint64(e.Rec.Version), 10))
		c.W.BulkString(entryFlag(&e.Rec))
		if e.Rec.Tombstone {
			c.W.BulkString("")
		} else {
			c.W.Bulk(e.Rec.Value)
		}
	}
}

// internalFwd runs a command another node forwarded because its view says
// this node owns the key. It runs here whatever this node's view says, so
// that two nodes with different views never bounce a command between them,
// and answers with the raw reply in the protocol the client speaks.
func (n *node) internalFwd(c *server.Conn, args [][]byte) {
	if len(args) < 2 {
		c.W.Error("ERR corral: " + cmdFwd + " takes a protocol and a command")
		return
	}
	proto := 2
	if string(args[0]) == "3" {
		proto = 3
	}
	spec, errText := command.Resolve(args[1:])
	if spec == nil || spec.HasFlag(command.Connection) {
		if spec != nil {
			errText = "ERR corral: " + spec.Name + " cannot be forwarded"
		}
		c.W.Bulk(capture(c, proto, func() { c.W.Error(errText) }))
		return
	}
	c.W.Bulk(capture(c, proto, func() { n.execOwned(c, spec, args[1:]) }))
}

// primaryLen counts the live keys of the partitions this node is primary
// of: summed over the owners, the cluster's DBSIZE.
func (n *node) primaryLen(nowMs int64) int {
	t := n.table.Load()
	total := 0
	for _, p := range t.PartitionsOf(n.self) {
		if t.Primary(p) == n.self {
			total += n.s.eng.PartitionLen(p, nowMs)
		}
	}
	return total
}

// dbsize answers DBSIZE for the cluster: the sum over the owners of the
// keys in the partitions each is primary of.
func (n *node) dbsize(c *server.Conn) {
	t := n.table.Load()
	var total int64
	for _, id := range t.Nodes() {
		if id == n.self {
			total += int64(n.primaryLen(c.Now().UnixMilli()))
			continue
		}
		ctx, cancel := context.WithTimeout(c.Context(), n.cfg.Repl.Timeout)
		v, err := n.ps.do(ctx, id, cmdDBSize)
		cancel()
		x, ok := v.(int64)
		if err != nil || !ok {
			c.W.Error("ERR corral: DBSIZE could not count the keys of node " + id)
			return
		}
		total += x
	}
	c.W.Int(total)
}

// flushAll runs FLUSHALL or FLUSHDB on every store node of the view.
func (n *node) flushAll(c *server.Conn, spec *command.Spec, args [][]byte) {
	if len(args) > 2 || (len(args) == 2 && !cstrEqualFold(args[1], "sync") && !cstrEqualFold(args[1], "async")) {
		replyErr(&c.W, command.ErrSyntax)
		return
	}
	addrs := *n.addrs.Load()
	var wg sync.WaitGroup
	var mu sync.Mutex
	var failed []string
	for id := range addrs {
		if id == n.self {
			continue
		}
		wg.Go(func() {
			ctx, cancel := context.WithTimeout(c.Context(), n.cfg.Repl.Timeout)
			defer cancel()
			if _, err := n.ps.do(ctx, id, cmdFlush); err != nil {
				mu.Lock()
				failed = append(failed, id)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	n.s.execLocal(c, spec, args)
	if len(failed) > 0 {
		c.W.Truncate(c.W.Len() - len("+OK\r\n"))
		c.W.Error("ERR corral: " + strings.ToUpper(spec.Name) + " did not reach nodes " + strings.Join(failed, ", "))
	}
}

func writeUints(c *server.Conn, vs []uint64) {
	c.W.Array(len(vs))
	var tmp [20]byte
	for _, v := range vs {
		c.W.Bulk(strconv.AppendUint(tmp[:0], v, 10))
	}
}

// maxScanHops bounds the partition runs one SCAN call visits.
const maxScanHops = 64

// scan answers SCAN for the cluster. The cursor is the engine's (a
// partition and a position in it); runs of partitions this node holds are
// scanned here, the others on their primary, until COUNT keys were seen.
func (n *node) scan(c *server.Conn, args [][]byte) {
	a, err := command.ParseScan(args)
	if err != nil {
		replyErr(&c.W, err)
		return
	}
	typeOK := a.Type == nil || cstrEqualFold(a.Type, "string")
	t := n.table.Load()
	nowMs := c.Now().UnixMilli()
	holds := func(p int) bool { return t.Owns(n.self, p) && n.rep.Filled(p) }
	var keys [][]byte
	seen := 0
	emit := func(k []byte) {
		seen++
		if typeOK && (a.Match == nil || command.Match(a.Match, k, false)) {
			keys = append(keys, k)
		}
	}
	cursor := a.Cursor
	for hop := 0; hop < maxScanHops && seen < a.Count; hop++ {
		pi := n.s.eng.CursorPartition(cursor)
		if pi >= n.s.eng.Partitions() {
			cursor = 0
			break
		}
		var next uint64
		if holds(pi) {
			next = n.s.eng.ScanWhile(cursor, a.Count-seen, nowMs, holds, func(k []byte, _ engine.Record) { emit(k) })
		} else {
			var ok bool
			if next, ok = n.remoteScan(c, t.Owners(pi), cursor, a.Count-seen, emit); !ok {
				c.W.Error("ERR corral: SCAN could not reach an owner of partition " + strconv.Itoa(pi))
				return
			}
		}
		if next == cursor { // nobody holds it in their view: move on
			next = n.s.eng.PartitionCursor(pi + 1)
		}
		cursor = next
		if cursor == 0 {
			break
		}
	}
	var tmp [20]byte
	c.W.Array(2)
	c.W.Bulk(strconv.AppendUint(tmp[:0], cursor, 10))
	c.W.Array(len(keys))
	for _, k := range keys {
		c.W.Bulk(k)
	}
}

// remoteScan asks the owners of a partition, primary first, to scan on
// from cursor.
func (n *node) remoteScan(c *server.Conn, owners []string, cursor uint64, count int, emit func([]byte)) (uint64, bool) {
	for _, o := range owners {
		if o == n.self {
			continue
		}
		ctx, cancel := context.WithTimeout(c.Context(), n.cfg.Repl.Timeout)
		v, err := n.ps.do(ctx, o, cmdScan, strconv.FormatUint(cursor, 10), strconv.Itoa(count))
		cancel()
		arr, ok := v.([]any)
		if err != nil || !ok || len(arr) == 0 {
			continue
		}
		next, err := parseUint(arr[0])
		if err != nil {
			continue
		}
		for _, k := range arr[1:] {
			if s, ok := k.(string); ok {
				emit([]byte(s))
			}
		}
		return next, true
	}
	return 0, false
}

// internalScan scans on from a cursor through the partitions this node
// owns: [next cursor, key ...].
func (n *node) internalScan(c *server.Conn, args [][]byte) {
	if len(args) != 2 {
		c.W.Error("ERR corral: " + cmdScan + " takes a cursor and a count")
		return
	}
	cursor, err1 := strconv.ParseUint(string(args[0]), 10, 64)
	count, err2 := strconv.Atoi(string(args[1]))
	if err1 != nil || err2 != nil {
		c.W.Error("ERR corral: bad cursor or count")
		return
	}
	t := n.table.Load()
	var keys [][]byte
	next := n.s.eng.ScanWhile(cursor, count, c.Now().UnixMilli(), func(p int) bool { return t.Owns(n.self, p) },
		func(k []byte, _ engine.Record) { keys = append(keys, k) })
	var tmp [20]byte
	c.W.Array(1 + len(keys))
	c.W.Bulk(strconv.AppendUint(tmp[:0], next, 10))
	for _, k := range keys {
		c.W.Bulk(k)
	}
}

// peerConn marks, in server.Conn.State, a connection that authenticated
// with the cluster secret.
type peerConn struct{}

// peerToken derives the token peers present from the cluster secret, so
// that the secret itself never crosses the network.
func peerToken(secret string) string {
	if secret == "" {
		return ""
	}
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte("corral peer v1"))
	return hex.EncodeToString(m.Sum(nil))
}

// internalAuth answers CORRAL.AUTH token: with a cluster secret set, the
// connection becomes a peer's when token matches (compared in constant
// time), authenticated and allowed every command whatever --requirepass
// and --users-file say; without one, every connection already is a peer
// but still authenticates as a user like any client.
func (n *node) internalAuth(c *server.Conn, args [][]byte) {
	if n.token == "" {
		c.W.OK()
		return
	}
	if len(args) != 1 || subtle.ConstantTimeCompare(args[0], []byte(n.token)) != 1 {
		c.W.Error("ERR corral: invalid cluster secret")
		return
	}
	c.State = peerConn{}
	c.AuthenticatePeer()
	c.W.OK()
}
