package cluster

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"corral/cluster/engine"
	"corral/cluster/hlc"
	"corral/cluster/membership"
	"corral/cluster/repl"
)

// The internal commands nodes send each other, on the RESP port. They are
// not in the command table; see server.InternalHandler.
const (
	cmdApply   = "corral.apply"   // key exp ver flag value ... → :applied
	cmdRoots   = "corral.roots"   // part root ... → [root ...]
	cmdBuckets = "corral.buckets" // part → [digest ...]
	cmdKeys    = "corral.keys"    // part bucket ... → [key ver hash ...]
	cmdFetch   = "corral.fetch"   // key ... → [key exp ver flag value ...]
	cmdFwd     = "corral.fwd"     // proto command args... → $raw reply
	cmdDBSize  = "corral.dbsize"  // → :live keys of partitions this node is primary of
	cmdFlush   = "corral.flush"   // → +OK
	cmdScan    = "corral.scan"    // cursor count → [cursor key ...]
	cmdAuth    = "corral.auth"    // token → +OK: the connection is a peer's
)

// errNoAddr is returned for a peer the view has no RESP address for.
var errNoAddr = errors.New("no RESP address known")

// tlsScheme prefixes the address of a node that is dialed over TLS, in
// the views of nodes and routers (see dialAddr).
const tlsScheme = "rediss://"

// dialAddr returns the address a node or router dials member m at: its TLS
// address, prefixed with tlsScheme, when m advertises one and the dialer
// has a TLS client configuration; else its plaintext RESP address ("" if it
// has none: it cannot be reached).
func dialAddr(m membership.Meta, useTLS bool) string {
	if useTLS && m.TLS != "" {
		return tlsScheme + m.TLS
	}
	return m.RESP
}

// peers holds a go-redis client per peer node, created on first use and
// replaced when the peer's address changes.
type peers struct {
	addrOf   func(id string) string // plaintext, or tlsScheme + address
	timeout  time.Duration
	poolSize int
	password string
	token    string      // CORRAL.AUTH token, "" without a cluster secret
	tls      *tls.Config // client TLS for tlsScheme addresses
	log      *slog.Logger

	mu      sync.Mutex
	clients map[string]*peerClient
}

type peerClient struct {
	addr string
	c    *redis.Client
}

func (ps *peers) client(id string) (*redis.Client, error) {
	addr := ps.addrOf(id)
	if addr == "" {
		return nil, fmt.Errorf("peer %s: %w", id, errNoAddr)
	}
	ps.mu.Lock()
	defer ps.mu.Unlock()
	if pc := ps.clients[id]; pc != nil {
		if pc.addr == addr {
			return pc.c, nil
		}
		ps.retire(pc)
	}
	key := addr
	var tlsCfg *tls.Config
	if a, ok := strings.CutPrefix(addr, tlsScheme); ok {
		tlsCfg = ps.tls
		addr = a
	} else if ps.tls != nil {
		ps.log.Warn("peer has no TLS address: internal traffic to it is plaintext", "peer", id, "addr", addr)
	}
	opt := &redis.Options{
		TLSConfig:             tlsCfg,
		Addr:                  addr,
		Protocol:              2,
		DisableIdentity:       true,
		Password:              ps.password,
		PoolSize:              ps.poolSize,
		MaxRetries:            -1,
		DialerRetries:         1,
		DialTimeout:           ps.timeout,
		ReadTimeout:           ps.timeout,
		WriteTimeout:          ps.timeout,
		PoolTimeout:           ps.timeout,
		ContextTimeoutEnabled: true,
	}
	if token := ps.token; token != "" {
		// The token authenticates the connection: no user password is
		// needed, and none is sent (the default user may be off).
		opt.Password = ""
		opt.OnConnect = func(ctx context.Context, cn *redis.Conn) error {
			return cn.Do(ctx, cmdAuth, token).Err()
		}
	}
	c := redis.NewClient(opt)
	ps.clients[id] = &peerClient{addr: key, c: c}
	return c, nil
}

// prune retires the clients of peers that left the membership view or
// whose address changed: addrs is the view's, by node id. A node that left
// for good (killed, drained, replaced by a new id) would otherwise keep its
// pool redialing forever.
func (ps *peers) prune(addrs map[string]string) {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	for id, pc := range ps.clients {
		if addrs[id] != pc.addr {
			delete(ps.clients, id)
			ps.retire(pc)
		}
	}
}

// retire closes pc's pool once the commands in flight on it are done:
// each is bounded by the peer timeout, so after two of them.
func (ps *peers) retire(pc *peerClient) {
	time.AfterFunc(2*ps.timeout, func() { pc.c.Close() })
}

func (ps *peers) close() {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	for id, pc := range ps.clients {
		pc.c.Close()
		delete(ps.clients, id)
	}
}

// do sends one internal command to peer id.
func (ps *peers) do(ctx context.Context, id string, args ...any) (any, error) {
	c, err := ps.client(id)
	if err != nil {
		return nil, err
	}
	v, err := c.Do(ctx, args...).Result()
	if err != nil {
		return nil, fmt.Errorf("peer %s: %w", id, err)
	}
	return v, nil
}

// respTransport is repl.Transport over the peers' RESP ports.
type respTransport struct{ ps *peers }

func (t respTransport) Apply(ctx context.Context, to string, entries []repl.Entry) error {
	if len(entries) == 0 {
		return nil
	}
	args := make([]any, 0, 1+5*len(entries))
	args = append(args, cmdApply)
	for _, e := range entries {
		args = appendEntry(args, e)
	}
	_, err := t.ps.do(ctx, to, args...)
	return err
}

func (t respTransport) Roots(ctx context.Context, to string, parts []int, roots []uint64) ([]uint64, error) {
	args := make([]any, 0, 1+2*len(parts))
	args = append(args, cmdRoots)
	for i, p := range parts {
		args = append(args, strconv.Itoa(p), strconv.FormatUint(roots[i], 10))
	}
	v, err := t.ps.do(ctx, to, args...)
	if err != nil {
		return nil, err
	}
	return parseUints(v)
}

func (t respTransport) Buckets(ctx context.Context, to string, part int) ([]uint64, error) {
	v, err := t.ps.do(ctx, to, cmdBuckets, strconv.Itoa(part))
	if err != nil {
		return nil, err
	}
	return parseUints(v)
}

func (t respTransport) Keys(ctx context.Context, to string, part int, buckets []int) ([]engine.KeyHash, error) {
	args := make([]any, 0, 2+len(buckets))
	args = append(args, cmdKeys, strconv.Itoa(part))
	for _, b := range buckets {
		args = append(args, strconv.Itoa(b))
	}
	v, err := t.ps.do(ctx, to, args...)
	if err != nil {
		return nil, err
	}
	arr, ok := v.([]any)
	if !ok || len(arr)%3 != 0 {
		return nil, fmt.Errorf("peer %s: malformed %s reply", to, cmdKeys)
	}
	out := make([]engine.KeyHash, 0, len(arr)/3)
	for i := 0; i < len(arr); i += 3 {
		k, _ := arr[i].(string)
		ver, err1 := parseUint(arr[i+1])
		h, err2 := parseUint(arr[i+2])
		if err1 != nil || err2 != nil {
			return nil, fmt.Errorf("peer %s: malformed %s reply", to, cmdKeys)
		}
		out = append(out, engine.KeyHash{Key: k, Version: hlc.Timestamp(ver), Hash: h})
	}
	return out, nil
}

func (t respTransport) Fetch(ctx context.Context, to string, keys [][]byte) ([]repl.Entry, error) {
	if len(keys) == 0 {
		return nil, nil
	}
	args := make([]any, 0, 1+len(keys))
	args = append(args, cmdFetch)
	for _, k := range keys {
		args = append(args, k)
	}
	v, err := t.ps.do(ctx, to, args...)
	if err != nil {
		return nil, err
	}
	arr, ok := v.([]any)
	if !ok {
		return nil, fmt.Errorf("peer %s: malformed %s reply", to, cmdFetch)
	}
	return parseEntries(arr)
}

// appendEntry appends e's five wire fields: key, deadline, version, flag
// and value.
func appendEntry(args []any, e repl.Entry) []any {
	flag := entryFlag(&e.Rec)
	val := e.Rec.Value
	if val == nil {
		val = []byte{}
	}
	return append(args, e.Key, strconv.FormatInt(e.Rec.ExpireAt, 10), strconv.FormatUint(uint64(e.Rec.Version), 10), flag, val)
}

// parseEntries decodes the five-field records of a FETCH reply.
func parseEntries(arr []any) ([]repl.Entry, error) {
	if len(arr)%5 != 0 {
		return nil, errors.New("malformed records: not a multiple of 5 fields")
	}
	out := make([]repl.Entry, 0, len(arr)/5)
	for i := 0; i < len(arr); i += 5 {
		f := make([][]byte, 5)
		for j := range f {
			s, ok := arr[i+j].(string)
			if !ok {
				return nil, errors.New("malformed records: a field is not a string")
			}
			f[j] = []byte(s)
		}
		e, err := decodeEntry(f)
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, nil
}

// decodeEntry decodes five wire fields into an Entry. The key and value
// are kept as given: the caller passes fresh slices.
func decodeEntry(f [][]byte) (repl.Entry, error) {
	exp, err1 := strconv.ParseInt(string(f[1]), 10, 64)
	ver, err2 := strconv.ParseUint(string(f[2]), 10, 64)
	flag := string(f[3])
	if err1 != nil || err2 != nil || ver == 0 || (flag != "t" && flag != "v" && flag != "l") {
		return repl.Entry{}, fmt.Errorf("malformed record for key %q", f[0])
	}
	rec := engine.Record{ExpireAt: exp, Version: hlc.Timestamp(ver), Tombstone: flag == "t", Loaded: flag == "l"}
	if !rec.Tombstone {
		rec.Value = f[4]
	}
	return repl.Entry{Key: f[0], Rec: rec}, nil
}

func parseUint(v any) (uint64, error) {
	s, ok := v.(string)
	if !ok {
		return 0, errors.New("not a string")
	}
	return strconv.ParseUint(s, 10, 64)
}

func parseUints(v any) ([]uint64, error) {
	arr, ok := v.([]any)
	if !ok {
		return nil, errors.New("malformed reply: not an array")
	}
	out := make([]uint64, len(arr))
	for i, x := range arr {
		n, err := parseUint(x)
		if err != nil {
			return nil, fmt.Errorf("malformed reply: %w", err)
		}
		out[i] = n
	}
	return out, nil
}

// entryFlag is a record's wire flag: "t" for a tombstone, "v" for a value a
// client wrote, "l" for a value loaded from the origin (nodes before the
// flag existed refuse "l" as malformed, so a rolling upgrade replicates
// loaded values to them only once they run this version).
func entryFlag(r *engine.Record) string {
	switch {
	case r.Tombstone:
		return "t"
	case r.Loaded:
		return "l"
	}
	return "v"
}
