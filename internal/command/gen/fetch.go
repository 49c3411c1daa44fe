package main

import (
	"bytes"
	"fmt"
	"strings"

	"corral/internal/command/internal/resptree"
)

// spec is one command or subcommand with its replies in both protocols
// (index 0: RESP2, 1: RESP3).
type spec struct {
	def    def
	full   string // Redis full name
	parent string // ident of the container, "" for top-level
	subs   []*spec
	info   [2]resptree.Value
	docs   [2]resptree.Value
}

// fetch queries COMMAND INFO and COMMAND DOCS for every command in both
// protocols, adds the hand-made CLIENT SETINFO, filters containers down
// to the subcommands we serve and returns the specs in ID order plus the
// raw CLIENT HELP reply.
func fetch(c *resptree.Conn) ([]*spec, map[string][]byte, error) {
	var all []*spec
	for _, d := range commands {
		s := &spec{def: d, full: d.name}
		all = append(all, s)
		for _, sd := range d.subs {
			sub := &spec{def: sd, full: d.name + "|" + sd.name, parent: d.ident}
			s.subs = append(s.subs, sub)
			all = append(all, sub)
		}
	}
	for p, proto := range []string{"2", "3"} {
		if v, _, err := c.Do("HELLO", proto); err != nil || v.Kind == '-' {
			return nil, nil, fmt.Errorf("HELLO %s: %v %s", proto, err, v.Str)
		}
		for _, s := range all {
			if s.def.synth {
				continue
			}
			var err error
			if s.info[p], err = commandInfo(c, s.full); err != nil {
				return nil, nil, err
			}
			if s.docs[p], err = commandDocs(c, s.full); err != nil {
				return nil, nil, err
			}
		}
	}
	if _, _, err := c.Do("HELLO", "2"); err != nil {
		return nil, nil, err
	}
	// Our RESP3 to RESP2 conversion must reproduce what Redis sends, since
	// the hand-made entries rely on it.
	for _, s := range all {
		if s.def.synth {
			continue
		}
		for _, v := range [][2]resptree.Value{s.info, s.docs} {
			if !bytes.Equal(resptree.ToRESP2(v[1]).Bytes(), v[0].Bytes()) {
				return nil, nil, fmt.Errorf("%s: RESP3 reply does not convert to the RESP2 one", s.full)
			}
		}
	}
	for _, s := range all {
		if !s.def.synth {
			continue
		}
		if s.full != "client|setinfo" {
			return nil, nil, fmt.Errorf("no hand-made metadata for %s", s.full)
		}
		var setname *spec
		for _, t := range all {
			if t.full == "client|setname" {
				setname = t
			}
		}
		if setname == nil {
			return nil, nil, fmt.Errorf("client|setinfo is modelled on client|setname, which is not served")
		}
		s.info[1] = setinfoInfo(setname.info[1])
		s.docs[1] = setinfoDocs()
		s.info[0] = resptree.ToRESP2(s.info[1])
		s.docs[0] = resptree.ToRESP2(s.docs[1])
	}
	for _, s := range all {
		if len(s.subs) == 0 {
			continue
		}
		for p := range 2 {
			if err := filterSubs(s, p); err != nil {
				return nil, nil, err
			}
		}
	}
	// The HELP text of every container that serves HELP, by name.
	help := map[string][]byte{}
	for _, s := range all {
		for _, sub := range s.subs {
			if sub.def.name != "help" {
				continue
			}
			_, h, err := c.Do(strings.ToUpper(s.full), "HELP")
			if err != nil {
				return nil, nil, err
			}
			if h[0] != '*' {
				return nil, nil, fmt.Errorf("%s HELP: %q", s.full, h)
			}
			help[s.full] = h
		}
	}
	return all, help, nil
}

// commandInfo returns the single COMMAND INFO entry of name.
func commandInfo(c *resptree.Conn, name string) (resptree.Value, error) {
	v, _, err := c.Do("COMMAND", "INFO", name)
	if err != nil {
		return resptree.Value{}, err
	}
	if v.Kind != '*' || len(v.Elems) != 1 || v.Elems[0].Kind != '*' || len(v.Elems[0].Elems) != 10 {
		return resptree.Value{}, fmt.Errorf("COMMAND INFO %s: unexpected reply %q", name, v.Bytes())
	}
	return v.Elems[0], nil
}

// commandDocs returns the doc map of name from COMMAND DOCS.
func commandDocs(c *resptree.Conn, name string) (resptree.Value, error) {
	v, _, err := c.Do("COMMAND", "DOCS", name)
	if err != nil {
		return resptree.Value{}, err
	}
	if (v.Kind != '*' && v.Kind != '%') || len(v.Elems) != 2 || string(v.Elems[0].Str) != name {
		return resptree.Value{}, fmt.Errorf("COMMAND DOCS %s: unexpected reply %q", name, v.Bytes())
	}
	return v.Elems[1], nil
}

// filterSubs replaces the subcommand lists in a container's INFO entry and
// DOCS map, for protocol index p, with the entries of the subcommands we
// serve, in our order.
func filterSubs(s *spec, p int) error {
	info := s.info[p]
	list := info.Elems[9]
	list.Elems = nil
	for _, sub := range s.subs {
		list.Elems = append(list.Elems, sub.info[p])
	}
	info.Elems = append([]resptree.Value(nil), info.Elems...)
	info.Elems[9] = list
	s.info[p] = info

	docs := s.docs[p]
	m, i, ok := docs.Lookup("subcommands")
	if !ok {
		return fmt.Errorf("COMMAND DOCS %s has no subcommands", s.full)
	}
	m.Elems = nil
	for _, sub := range s.subs {
		m.Elems = append(m.Elems, resptree.Value{Kind: '$', Str: []byte(sub.full)}, sub.docs[p])
	}
	docs.Elems = append([]resptree.Value(nil), docs.Elems...)
	docs.Elems[i] = m
	s.docs[p] = docs
	return nil
}
