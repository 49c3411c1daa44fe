package command

import (
	"slices"
	"testing"
)

func TestParseHello(t *testing.T) {
	tests := []struct {
		name   string
		args   []string
		proto  int
		opts   int
		optErr string
		err    string
	}{
		{"bare", []string{"hello"}, 0, 0, "", ""},
		{"proto 3", []string{"hello", "3"}, 3, 0, "", ""},
		{"proto 4", []string{"hello", "4"}, 0, 0, "", "NOPROTO unsupported protocol version"},
		{"proto abc", []string{"hello", "abc"}, 0, 0, "", "ERR Protocol version is not an integer or out of range"},
		{"proto before options", []string{"hello", "x", "FOO"}, 0, 0, "", "ERR Protocol version is not an integer or out of range"},
		{"auth and setname", []string{"hello", "2", "AUTH", "u", "p", "SETNAME", "n"}, 2, 2, "", ""},
		{"bad option after auth", []string{"hello", "3", "auth", "u", "p", "FOO"}, 3, 1, "ERR Syntax error in HELLO option 'FOO'", ""},
		{"auth short", []string{"hello", "3", "AUTH", "u"}, 3, 0, "ERR Syntax error in HELLO option 'AUTH'", ""},
		{"setname short", []string{"hello", "3", "SETNAME"}, 3, 0, "ERR Syntax error in HELLO option 'SETNAME'", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h, err := ParseHello(argv(tc.args))
			if h.Proto != tc.proto || len(h.Opts) != tc.opts || errText(h.Err) != tc.optErr || errText(err) != tc.err {
				t.Errorf("ParseHello(%q) = %+v, %q", tc.args, h, errText(err))
			}
		})
	}
	h, _ := ParseHello(argv([]string{"hello", "2", "AUTH", "u", "p", "SETNAME", "n"}))
	if !h.Opts[0].Auth || string(h.Opts[0].User) != "u" || string(h.Opts[0].Pass) != "p" ||
		h.Opts[1].Auth || string(h.Opts[1].Name) != "n" {
		t.Errorf("options %+v", h.Opts)
	}
}

func TestCheckClientName(t *testing.T) {
	tests := []struct {
		name string
		ok   bool
	}{
		{"", true},
		{"conn-1", true},
		{"!~", true},
		{"a b", false},
		{"a\nb", false},
		{"a\x00b", false},
		{"\x80", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := CheckClientName([]byte(tc.name))
			if (err == nil) != tc.ok || (err != nil && err != ErrClientName) {
				t.Errorf("CheckClientName(%q) = %v", tc.name, err)
			}
		})
	}
}

func TestParseAuth(t *testing.T) {
	tests := []struct {
		name       string
		args       []string
		user, pass string
		err        error
	}{
		{"password", []string{"auth", "p"}, "", "p", nil},
		{"user", []string{"auth", "u", "p"}, "u", "p", nil},
		{"too many", []string{"auth", "a", "b", "c"}, "", "", ErrSyntax},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			user, pass, err := ParseAuth(argv(tc.args))
			if string(user) != tc.user || string(pass) != tc.pass || err != tc.err {
				t.Errorf("got %q %q %v", user, pass, err)
			}
		})
	}
	if user, _, _ := ParseAuth(argv([]string{"auth", "p"})); user != nil {
		t.Error("one-argument AUTH has a user")
	}
}

func TestParseClientSetInfo(t *testing.T) {
	tests := []struct {
		name string
		args []string
		attr ClientAttr
		err  string
	}{
		{"lib-name", []string{"client", "setinfo", "LIB-NAME", "go-redis(,go1.26)"}, LibName, ""},
		{"lib-ver", []string{"client", "setinfo", "lib-ver", "9.23.0"}, LibVer, ""},
		{"unknown", []string{"client", "setinfo", "lib-x", "1"}, 0, "ERR Unrecognized option 'lib-x'"},
		{"space", []string{"client", "setinfo", "Lib-Name", "a b"}, 0, "ERR Lib-Name cannot contain spaces, newlines or special characters."},
		{"NUL ends value", []string{"client", "setinfo", "lib-ver", "1\x00 x"}, LibVer, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			attr, val, err := ParseClientSetInfo(argv(tc.args))
			if attr != tc.attr || errText(err) != tc.err || (err == nil && string(val) != tc.args[3]) {
				t.Errorf("got %v %q %q", attr, val, errText(err))
			}
		})
	}
}

func TestParseClientList(t *testing.T) {
	tests := []struct {
		name string
		args []string
		typ  ClientType
		ids  []int64
		err  string
	}{
		{"bare", []string{"client", "list"}, ClientAny, nil, ""},
		{"type", []string{"client", "list", "TYPE", "normal"}, ClientNormal, nil, ""},
		{"slave", []string{"client", "list", "type", "Slave"}, ClientReplica, nil, ""},
		{"pubsub", []string{"client", "list", "type", "pubsub"}, ClientPubSub, nil, ""},
		{"master", []string{"client", "list", "type", "MASTER"}, ClientMaster, nil, ""},
		{"bad type", []string{"client", "list", "type", "foo"}, 0, nil, "ERR Unknown client type 'foo'"},
		{"ids", []string{"client", "list", "ID", "1", "-2"}, ClientAny, []int64{1, -2}, ""},
		{"bad id", []string{"client", "list", "ID", "1", "x"}, 0, nil, "ERR Invalid client ID"},
		{"id alone", []string{"client", "list", "ID"}, 0, nil, "ERR syntax error"},
		{"type extra", []string{"client", "list", "type", "normal", "x"}, 0, nil, "ERR syntax error"},
		{"unknown", []string{"client", "list", "foo"}, 0, nil, "ERR syntax error"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a, err := ParseClientList(argv(tc.args))
			if a.Type != tc.typ || !slices.Equal(a.IDs, tc.ids) || errText(err) != tc.err {
				t.Errorf("got %+v %q", a, errText(err))
			}
		})
	}
}

func TestParseFlush(t *testing.T) {
	tests := []struct {
		name string
		args []string
		mode FlushMode
		err  error
	}{
		{"default", []string{"flushall"}, FlushDefault, nil},
		{"sync", []string{"flushall", "SYNC"}, FlushSync, nil},
		{"async", []string{"flushdb", "async"}, FlushAsync, nil},
		{"bad", []string{"flushdb", "foo"}, FlushDefault, ErrSyntax},
		{"two", []string{"flushdb", "sync", "sync"}, FlushDefault, ErrSyntax},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			mode, err := ParseFlush(argv(tc.args))
			if mode != tc.mode || err != tc.err {
				t.Errorf("got %v %v", mode, err)
			}
		})
	}
}
