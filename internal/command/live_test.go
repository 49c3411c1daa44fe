package command

import (
	"bytes"
	"errors"
	"os"
	"slices"
	"strconv"
	"testing"
	"time"

	"corral/internal/command/internal/resptree"
	"corral/internal/resp"
)

// The live tests compare corral's table, texts and parsers with a
// redis-server 7.0.15 they start on a free 127.0.0.1 port. They skip when
// redis-server is not on PATH; with another version they skip too, except
// under CI (CI set), where they fail.

const liveVersion = "7.0.15"

// liveRedis starts a private redis-server with the extra config arguments
// and returns a connection to it; both go away when the test ends.
func liveRedis(t *testing.T, extra ...string) *resptree.Conn {
	t.Helper()
	return dial(t, liveServer(t, extra...))
}

// dial opens a connection to addr, closed when the test ends.
func dial(t *testing.T, addr string) *resptree.Conn {
	t.Helper()
	c, err := resptree.Dial(addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// liveServer starts a private redis-server 7.0.15 with the extra config
// arguments and returns its address; it is stopped when the test ends.
func liveServer(t *testing.T, extra ...string) string {
	t.Helper()
	srv, err := resptree.StartServer(extra...)
	if errors.Is(err, resptree.ErrNoServer) {
		t.Skip("redis-server not on PATH")
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Stop)
	v, err := srv.Version()
	if err != nil {
		t.Fatal(err)
	}
	if v != liveVersion {
		if os.Getenv("CI") != "" {
			t.Fatalf("redis-server on PATH is %s; these tests need %s", v, liveVersion)
		}
		t.Skipf("redis-server on PATH is %s; these tests need %s", v, liveVersion)
	}
	return srv.Addr
}

// do sends args and fails the test on I/O errors.
func do(t *testing.T, c *resptree.Conn, args ...string) (resptree.Value, []byte) {
	t.Helper()
	v, raw, err := c.Do(args...)
	if err != nil {
		t.Fatalf("%q: %v", args, err)
	}
	return v, raw
}

// sortSubs returns a COMMAND INFO entry (or DOCS map) from Redis with its
// subcommands cut down to the ones we serve and put in our order, so it can
// be compared with ours byte for byte: Redis lists them in hash order,
// which changes from one server start to the next.
func sortSubs(t *testing.T, s *Spec, v resptree.Value, docs bool) resptree.Value {
	t.Helper()
	var order []string
	for _, sub := range s.Subcommands() {
		if sub.ID != ClientSetInfo { // not in 7.0; compared separately
			order = append(order, sub.Name)
		}
	}
	out := v
	out.Elems = slices.Clone(v.Elems)
	if !docs {
		list := out.Elems[9]
		var kept []resptree.Value
		for _, name := range order {
			for _, e := range list.Elems {
				if string(e.Elems[0].Str) == name {
					kept = append(kept, e)
				}
			}
		}
		if len(kept) != len(order) {
			t.Fatalf("%s: redis lists %d of our %d subcommands", s.Name, len(kept), len(order))
		}
		list.Elems = kept
		out.Elems[9] = list
		return out
	}
	m, i, ok := v.Lookup("subcommands")
	if !ok {
		t.Fatalf("%s docs: no subcommands", s.Name)
	}
	var kept []resptree.Value
	for _, name := range order {
		for j := 0; j < len(m.Elems); j += 2 {
			if string(m.Elems[j].Str) == name {
				kept = append(kept, m.Elems[j], m.Elems[j+1])
			}
		}
	}
	if len(kept) != 2*len(order) {
		t.Fatalf("%s docs: redis lists %d of our %d subcommands", s.Name, len(kept)/2, len(order))
	}
	m.Elems = kept
	out.Elems[i] = m
	return out
}

// withoutSetInfo removes client|setinfo from our container reply, leaving
// what Redis 7.0 can be compared with.
func withoutSetInfo(t *testing.T, raw []byte, docs bool) []byte {
	t.Helper()
	v, err := resptree.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	if !docs {
		list := &v.Elems[9]
		list.Elems = slices.DeleteFunc(slices.Clone(list.Elems), func(e resptree.Value) bool {
			return string(e.Elems[0].Str) == "client|setinfo"
		})
		return v.Bytes()
	}
	m, i, _ := v.Lookup("subcommands")
	var kept []resptree.Value
	for j := 0; j < len(m.Elems); j += 2 {
		if string(m.Elems[j].Str) != "client|setinfo" {
			kept = append(kept, m.Elems[j], m.Elems[j+1])
		}
	}
	m.Elems = kept
	v.Elems[i] = m
	return v.Bytes()
}

// TestLiveInfoAndDocs proves WriteInfo and WriteDocs byte-identical to
// redis-server 7.0.15 for every command and subcommand, in RESP2 and
// RESP3. Containers are compared after cutting Redis's subcommand list to
// ours and ordering it like ours; CLIENT SETINFO (7.2) is checked against
// CLIENT SETNAME, whose 7.0 entry it mirrors.
func TestLiveInfoAndDocs(t *testing.T) {
	c := liveRedis(t)
	for _, proto := range []int{2, 3} {
		do(t, c, "HELLO", strconv.Itoa(proto))
		for _, s := range List() {
			if s.ID == ClientSetInfo {
				continue
			}
			w := &resp.Writer{Proto: proto}
			WriteInfo(w, s)
			ours := w.Bytes()
			v, _ := do(t, c, "COMMAND", "INFO", s.Name)
			want := v.Elems[0]
			if s.IsContainer() {
				want = sortSubs(t, s, want, false)
				ours = withoutSetInfo(t, ours, false)
			}
			if !bytes.Equal(ours, want.Bytes()) {
				t.Errorf("RESP%d COMMAND INFO %s:\n ours %q\nredis %q", proto, s.Name, ours, want.Bytes())
			}
			// Non-containers: compare with the exact bytes on the wire too.
			if !s.IsContainer() {
				_, raw := do(t, c, "COMMAND", "INFO", s.Name)
				w := &resp.Writer{Proto: proto}
				w.Array(1)
				WriteInfo(w, s)
				if !bytes.Equal(w.Bytes(), raw) {
					t.Errorf("RESP%d COMMAND INFO %s: wire bytes differ", proto, s.Name)
				}
			}

			w = &resp.Writer{Proto: proto}
			WriteDocs(w, s)
			ours = w.Bytes()
			v, raw := do(t, c, "COMMAND", "DOCS", s.Name)
			want = v.Elems[1]
			if s.IsContainer() {
				want = sortSubs(t, s, want, true)
				ours = withoutSetInfo(t, ours, true)
			} else {
				w := &resp.Writer{Proto: proto}
				w.Map(1)
				w.BulkString(s.Name)
				WriteDocs(w, s)
				if !bytes.Equal(w.Bytes(), raw) {
					t.Errorf("RESP%d COMMAND DOCS %s: wire bytes differ", proto, s.Name)
				}
			}
			if !bytes.Equal(ours, want.Bytes()) {
				t.Errorf("RESP%d COMMAND DOCS %s:\n ours %q\nredis %q", proto, s.Name, ours, want.Bytes())
			}
		}
	}
}

// TestLiveTable checks names, arities, key positions, counts and the
// unknown-name replies against Redis.
func TestLiveTable(t *testing.T) {
	c := liveRedis(t)
	for _, s := range List() {
		if s.ID == ClientSetInfo {
			continue
		}
		v, _ := do(t, c, "COMMAND", "INFO", s.Name)
		e := v.Elems[0].Elems
		got := []string{string(e[0].Str), string(e[1].Str), string(e[3].Str), string(e[4].Str), string(e[5].Str)}
		want := []string{s.Name, strconv.Itoa(s.Arity), strconv.Itoa(s.FirstKey), strconv.Itoa(s.LastKey), strconv.Itoa(s.Step)}
		if !slices.Equal(got, want) {
			t.Errorf("%s: redis %v, ours %v", s.Name, got, want)
		}
	}
	// COMMAND INFO of a name we cannot resolve is a null element.
	for _, proto := range []int{2, 3} {
		do(t, c, "HELLO", strconv.Itoa(proto))
		_, raw := do(t, c, "COMMAND", "INFO", "nosuchcommand")
		w := &resp.Writer{Proto: proto}
		w.Array(1)
		w.Null()
		if !bytes.Equal(raw, w.Bytes()) {
			t.Errorf("RESP%d unknown COMMAND INFO: redis %q, ours %q", proto, raw, w.Bytes())
		}
	}
	// LookupFullName resolves exactly what COMMAND INFO resolves.
	for _, name := range []string{"get", "GET", "client|setname", "CLIENT|SETNAME", "get|x", "client|", "client|setname|x", "|", "client", "nosuch", "command|info"} {
		v, _ := do(t, c, "COMMAND", "INFO", name)
		redisFound := !v.Elems[0].Null && v.Elems[0].Kind != '_'
		if got := LookupFullName([]byte(name)) != nil; got != redisFound {
			t.Errorf("LookupFullName(%q) found=%v, redis found=%v", name, got, redisFound)
		}
	}
}
