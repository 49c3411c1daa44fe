package command

import (
	"slices"
	"sort"
	"strings"
	"testing"
)

func TestLookup(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want ID
	}{
		{"lower", "get", Get},
		{"upper", "GET", Get},
		{"mixed", "gEt", Get},
		{"longest", "IncrByFloat", IncrByFloat},
		{"container", "client", Client},
		{"unknown", "foo", None},
		{"prefix", "ge", None},
		{"longer", "gett", None},
		{"empty", "", None},
		{"too long", "incrbyfloatx", None},
		{"subcommand full name", "client|setname", None},
		{"non-letter fold", "g\x05t", None},
		{"escaped upper", "GE\x54", Get},
		{"not served by us", "keys", None},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := Lookup([]byte(tc.in))
			got := None
			if s != nil {
				got = s.ID
			}
			if got != tc.want {
				t.Errorf("Lookup(%q) = %v, want %v", tc.in, got, tc.want)
			}
		})
	}
}

func TestLookupEveryName(t *testing.T) {
	for _, s := range All() {
		for _, name := range []string{s.Name, strings.ToUpper(s.Name)} {
			if got := Lookup([]byte(name)); got != s {
				t.Errorf("Lookup(%q) = %v", name, got)
			}
		}
	}
}

func TestSub(t *testing.T) {
	tests := []struct {
		name   string
		parent ID
		sub    string
		want   ID
	}{
		{"setname", Client, "SETNAME", ClientSetName},
		{"setinfo", Client, "setinfo", ClientSetInfo},
		{"command docs", Command, "Docs", CommandDocs},
		{"unknown", Client, "kill", None},
		{"not a container", Get, "x", None},
		{"empty", Client, "", None},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := ByID(tc.parent).Sub([]byte(tc.sub))
			got := None
			if s != nil {
				got = s.ID
				if s.Parent() != ByID(tc.parent) {
					t.Errorf("Parent() = %v", s.Parent())
				}
			}
			if got != tc.want {
				t.Errorf("Sub(%q) = %v, want %v", tc.sub, got, tc.want)
			}
		})
	}
}

func TestResolve(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want ID
		err  string
	}{
		{"get", []string{"get", "k"}, Get, ""},
		{"get arity", []string{"GET"}, None, "ERR wrong number of arguments for 'get' command"},
		{"container alone", []string{"client"}, None, "ERR wrong number of arguments for 'client' command"},
		{"command alone", []string{"COMMAND"}, Command, ""},
		{"sub", []string{"client", "setname", "x"}, ClientSetName, ""},
		{"sub arity", []string{"CLIENT", "SETNAME"}, None, "ERR wrong number of arguments for 'client|setname' command"},
		{"setinfo arity", []string{"CLIENT", "SETINFO", "LIB-NAME"}, None, "ERR wrong number of arguments for 'client|setinfo' command"},
		{"unknown sub", []string{"client", "kill", "x"}, None, "ERR unknown subcommand 'kill'. Try CLIENT HELP."},
		{"unknown", []string{"foo", "a"}, None, "ERR unknown command 'foo', with args beginning with: 'a' "},
		{"mset odd passes arity", []string{"MSET", "a", "b", "c"}, MSet, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, err := Resolve(argv(tc.args))
			got := None
			if s != nil {
				got = s.ID
			}
			if got != tc.want || err != tc.err {
				t.Errorf("Resolve(%q) = %v, %q; want %v, %q", tc.args, got, err, tc.want, tc.err)
			}
		})
	}
}

func TestLookupFullName(t *testing.T) {
	tests := []struct {
		in   string
		want ID
	}{
		{"get", Get},
		{"CLIENT|SETNAME", ClientSetName},
		{"command|info", CommandInfo},
		{"get|x", None},
		{"client|", None},
		{"client|setname|x", None},
		{"|", None},
		{"client|kill", None},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			s := LookupFullName([]byte(tc.in))
			got := None
			if s != nil {
				got = s.ID
			}
			if got != tc.want {
				t.Errorf("LookupFullName(%q) = %v, want %v", tc.in, got, tc.want)
			}
		})
	}
}

func TestLookupAllocs(t *testing.T) {
	names := [][]byte{[]byte("GET"), []byte("incrbyfloat"), []byte("nosuch")}
	if n := testing.AllocsPerRun(100, func() {
		for _, name := range names {
			Lookup(name)
		}
	}); n != 0 {
		t.Errorf("Lookup allocates %v times", n)
	}
	args := argv([]string{"client", "setname", "x"})
	if n := testing.AllocsPerRun(100, func() { Resolve(args) }); n != 0 {
		t.Errorf("Resolve allocates %v times", n)
	}
}

func BenchmarkLookup(b *testing.B) {
	for _, name := range []string{"GET", "set", "IncrByFloat", "nosuchcmd"} {
		b.Run(name, func(b *testing.B) {
			buf := []byte(name)
			b.ReportAllocs()
			for b.Loop() {
				Lookup(buf)
			}
		})
	}
}

func BenchmarkResolve(b *testing.B) {
	args := argv([]string{"GET", "key:1"})
	b.ReportAllocs()
	for b.Loop() {
		Resolve(args)
	}
}

func TestTable(t *testing.T) {
	all := All()
	if len(all) != Count() || Count() != 49 {
		t.Fatalf("All() has %d commands, Count() %d, want 49", len(all), Count())
	}
	if !sort.SliceIsSorted(all, func(i, j int) bool { return all[i].Name < all[j].Name }) {
		t.Error("All() is not sorted")
	}
	list := List()
	if len(list) != int(numIDs)-1 {
		t.Errorf("List() has %d specs, want %d", len(list), numIDs-1)
	}
	seen := map[ID]bool{}
	for _, s := range list {
		if seen[s.ID] || ByID(s.ID) != s || s.ID.String() != s.Name {
			t.Errorf("%s: bad ID %d", s.Name, s.ID)
		}
		seen[s.ID] = true
		if s.Parent() != nil && !strings.HasPrefix(s.Name, s.Parent().Name+"|") {
			t.Errorf("%s: parent %s", s.Name, s.Parent().Name)
		}
	}
	if ByID(None) != nil || ByID(numIDs) != nil || None.String() != "" {
		t.Error("None resolves")
	}
	var subs []string
	for _, s := range ByID(Client).Subcommands() {
		subs = append(subs, s.Name)
	}
	want := []string{"client|getname", "client|help", "client|id", "client|info", "client|list", "client|setinfo", "client|setname"}
	if !slices.Equal(subs, want) {
		t.Errorf("CLIENT subcommands %q", subs)
	}
	if ByID(Get).Subcommands() != nil || ByID(Get).IsContainer() || !ByID(Command).IsContainer() {
		t.Error("container detection")
	}
}

func TestFlags(t *testing.T) {
	tests := []struct {
		id   ID
		has  Flag
		lack Flag
	}{
		{Get, ReadOnly | Fast | Keyed, Write | Multikey | Connection},
		{Set, Write | DenyOOM | Keyed, ReadOnly | Multikey},
		{MGet, ReadOnly | Keyed | Multikey, Write},
		{MSet, Write | Keyed | Multikey, 0},
		{Del, Write | Keyed | Multikey, 0},
		{Auth, NoAuth | Connection, Keyed},
		{Hello, NoAuth | Connection, 0},
		{Quit, NoAuth | Connection, 0},
		{Reset, NoAuth | Connection, 0},
		{Ping, Connection | Fast, NoAuth},
		{ClientSetName, Connection, NoAuth},
		{ClientSetInfo, Connection | NoScript | Loading | Stale, NoAuth | Admin},
		{ClientList, Admin | Connection, 0},
		{FlushAll, Write, Connection | Keyed},
		{Scan, ReadOnly, Keyed | Connection},
		{DBSize, ReadOnly | Fast, Keyed},
		{Info, Connection, Keyed},
	}
	for _, tc := range tests {
		t.Run(tc.id.String(), func(t *testing.T) {
			s := ByID(tc.id)
			if !s.HasFlag(tc.has) {
				t.Errorf("flags %b lack %b", s.Flags, tc.has)
			}
			if tc.lack != 0 && s.Flags&tc.lack != 0 {
				t.Errorf("flags %b have some of %b", s.Flags, tc.lack)
			}
		})
	}
	if s := ByID(MSet); s.FirstKey != 1 || s.LastKey != -1 || s.Step != 2 {
		t.Errorf("MSET keys %d %d %d", s.FirstKey, s.LastKey, s.Step)
	}
	if acl := ByID(Get).ACLCategories(); !slices.Equal(acl, []string{"@read", "@string", "@fast"}) {
		t.Errorf("GET ACL %q", acl)
	}
}

func TestArityOK(t *testing.T) {
	tests := []struct {
		id   ID
		argc int
		ok   bool
	}{
		{Get, 2, true},
		{Get, 1, false},
		{Get, 3, false},
		{Set, 3, true},
		{Set, 9, true},
		{Set, 2, false},
		{Ping, 1, true},
		{Ping, 5, true},
		{ClientSetInfo, 4, true},
		{ClientSetInfo, 5, false},
	}
	for _, tc := range tests {
		if got := ByID(tc.id).ArityOK(tc.argc); got != tc.ok {
			t.Errorf("%s.ArityOK(%d) = %v", tc.id, tc.argc, got)
		}
	}
}

func TestForEachKey(t *testing.T) {
	args := func(s ...string) [][]byte {
		out := make([][]byte, len(s))
		for i, a := range s {
			out[i] = []byte(a)
		}
		return out
	}
	tests := []struct {
		name string
		id   ID
		args [][]byte
		want []string
	}{
		{"get", Get, args("GET", "k"), []string{"k"}},
		{"mset pairs", MSet, args("MSET", "a", "1", "b", "2"), []string{"a", "b"}},
		{"del all", Del, args("DEL", "a", "b", "c"), []string{"a", "b", "c"}},
		{"set value is not a key", Set, args("SET", "k", "v", "EX", "1"), []string{"k"}},
		{"no keys", Ping, args("PING"), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			ByID(tt.id).ForEachKey(tt.args, func(k []byte) { got = append(got, string(k)) })
			if strings.Join(got, ",") != strings.Join(tt.want, ",") {
				t.Fatalf("keys %q, want %q", got, tt.want)
			}
		})
	}
}
