package command

// ID identifies one command or subcommand corral serves. The zero ID is
// None; every other ID has a Spec (see ByID). IDs are small and dense, so
// servers can index per-command arrays (metrics, handlers) by them.
type ID uint8

// None is the zero ID, naming no command.
const None ID = 0

// String returns the command's Redis full name ("get", "client|setname"),
// or "" for None and unknown IDs.
func (id ID) String() string {
	if int(id) >= len(table) {
		return ""
	}
	return table[id].Name
}

// Spec describes one command or subcommand as redis-server 7.0.15 reports
// it in COMMAND INFO, plus corral's own flags. Specs live in a read-only
// table shared by every goroutine; callers must not modify them.
type Spec struct {
	// Name is the lower-case Redis full name: "get", or "client|setname"
	// for a subcommand.
	Name string
	// ID is the command's constant, for switching on in handlers.
	ID ID
	// Arity is Redis's arity: n > 0 means exactly n arguments including
	// the command name (and the subcommand name), -n at least n.
	Arity int
	// Flags holds Redis's COMMAND INFO flags and corral's own.
	Flags Flag
	// FirstKey, LastKey and Step are Redis's legacy key positions: the
	// argument index of the first key (0 when the command takes none), of
	// the last key (-1 means the last argument) and the step between keys.
	FirstKey, LastKey, Step int

	parent ID       // containing command, None for a top-level one
	subs   []ID     // subcommands we serve, in COMMAND INFO order
	acl    []string // ACL categories, with the '@'
	help   string   // raw HELP reply of a container that serves HELP
	info2  string   // raw COMMAND INFO entry, RESP2
	info3  string   // raw COMMAND INFO entry, RESP3
	docs2  string   // raw COMMAND DOCS value, RESP2
	docs3  string   // raw COMMAND DOCS value, RESP3
}

// ForEachKey calls fn with each key argument of args, a call of s, by
// Redis's legacy key positions.
func (s *Spec) ForEachKey(args [][]byte, fn func(key []byte)) {
	if s.FirstKey <= 0 {
		return
	}
	last := s.LastKey
	if last < 0 {
		last = len(args) + last
	}
	step := max(s.Step, 1)
	for i := s.FirstKey; i <= last && i < len(args); i += step {
		fn(args[i])
	}
}

// NumIDs is one more than the largest ID, for arrays indexed by ID.
const NumIDs = int(numIDs)

// ByID returns the Spec of id, or nil for None and unknown IDs.
func ByID(id ID) *Spec {
	if id == None || int(id) >= len(table) {
		return nil
	}
	return &table[id]
}

// Lookup returns the top-level command named name, matched without
// regard to ASCII case, or nil when corral does not serve it. A container
// (CLIENT, COMMAND) is returned as itself; resolve its subcommand with Sub.
//
// Lookup is on every command's hot path: it does not allocate.
func Lookup(name []byte) *Spec {
	if len(name) == 0 || len(name) > maxNameLen {
		return nil
	}
	h := uint32(lookupSeed)
	for _, c := range name {
		h = (h ^ uint32(c|0x20)) * 16777619
	}
	id := lookupSlots[h>>lookupShift]
	if id == None {
		return nil
	}
	s := &table[id]
	if !equalFold(name, s.Name) {
		return nil
	}
	return s
}

// LookupFullName resolves a full name as COMMAND INFO and COMMAND DOCS
// do: "get", or "client|setname" for a subcommand. It returns nil for
// unknown names, for "x|y" when x is not a container, and for more than
// one '|'.
func LookupFullName(name []byte) *Spec {
	for i, c := range name {
		if c != '|' {
			continue
		}
		parent := Lookup(name[:i])
		if parent == nil {
			return nil
		}
		return parent.Sub(name[i+1:])
	}
	return Lookup(name)
}

// Sub returns the subcommand of s named name (case-insensitive), or nil
// when s is not a container or corral does not serve that subcommand.
// It does not allocate.
func (s *Spec) Sub(name []byte) *Spec {
	for _, id := range s.subs {
		sub := &table[id]
		if equalFold(name, sub.Name[len(s.Name)+1:]) {
			return sub
		}
	}
	return nil
}

// IsContainer reports whether s has subcommands (CLIENT, COMMAND).
func (s *Spec) IsContainer() bool { return len(s.subs) > 0 }

// Parent returns the container of a subcommand, or nil for a top-level
// command.
func (s *Spec) Parent() *Spec { return ByID(s.parent) }

// Subcommands returns the subcommands corral serves of a container, in
// the order COMMAND INFO lists them, or nil.
func (s *Spec) Subcommands() []*Spec {
	if len(s.subs) == 0 {
		return nil
	}
	out := make([]*Spec, len(s.subs))
	for i, id := range s.subs {
		out[i] = &table[id]
	}
	return out
}

// ArityOK reports whether argc arguments (the command name included, and
// for a subcommand its name too) satisfy s's arity, as Redis checks it
// before running any command.
func (s *Spec) ArityOK(argc int) bool {
	if s.Arity >= 0 {
		return argc == s.Arity
	}
	return argc >= -s.Arity
}

// HasFlag reports whether s has every flag set in f.
func (s *Spec) HasFlag(f Flag) bool { return s.Flags&f == f }

// ACLCategories returns s's ACL categories as COMMAND INFO lists them,
// with the '@' ("@read", "@string", "@fast"). The caller must not modify
// the slice.
func (s *Spec) ACLCategories() []string { return s.acl }

// All returns the top-level commands corral serves, sorted by name. The
// slice is new on every call.
func All() []*Spec {
	out := make([]*Spec, len(topLevel))
	for i, id := range topLevel {
		out[i] = &table[id]
	}
	return out
}

// Count returns the number of top-level commands, the COMMAND COUNT reply.
func Count() int { return len(topLevel) }

// List returns every command and subcommand in the order COMMAND LIST
// walks them: each top-level command, sorted by name, directly followed by
// its subcommands. The slice is new on every call.
func List() []*Spec {
	out := make([]*Spec, 0, len(table)-1)
	for _, id := range topLevel {
		s := &table[id]
		out = append(out, s)
		for _, sub := range s.subs {
			out = append(out, &table[sub])
		}
	}
	return out
}

// equalFold reports whether b equals the lower-case ASCII string lower,
// ignoring the case of b's ASCII letters.
func equalFold(b []byte, lower string) bool {
	if len(b) != len(lower) {
		return false
	}
	for i := 0; i < len(b); i++ {
		c := b[i]
		if c-'A' < 26 {
			c += 'a' - 'A'
		}
		if c != lower[i] {
			return false
		}
	}
	return true
}

// Resolve finds the Spec that runs args (the whole argv, never empty: Redis
// skips empty commands before lookup) and
// checks its arity, the checks Redis makes before anything else, even
// before authentication. On failure it returns nil and the error text, in
// Redis's order: ErrUnknownCommand, ErrUnknownSubcommand for a container
// given a subcommand corral does not serve, then ErrArity. A container
// called alone (CLIENT) is checked as itself.
//
// Resolve is on every command's hot path: it does not allocate unless it
// fails.
func Resolve(args [][]byte) (*Spec, string) {
	if len(args) == 0 {
		return nil, ErrUnknownCommand([][]byte{nil})
	}
	s := Lookup(args[0])
	if s == nil {
		return nil, ErrUnknownCommand(args)
	}
	if len(args) >= 2 && s.IsContainer() {
		sub := s.Sub(args[1])
		if sub == nil {
			return nil, ErrUnknownSubcommand(s, args[1])
		}
		s = sub
	}
	if !s.ArityOK(len(args)) {
		return nil, ErrArity(s)
	}
	return s, ""
}
