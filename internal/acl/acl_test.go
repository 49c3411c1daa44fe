package acl

import (
	"strings"
	"testing"

	"corral/internal/command"
)

func parseOne(t *testing.T, line string) *User {
	t.Helper()
	f, err := Parse(strings.NewReader(line), "users.acl")
	if err != nil {
		t.Fatalf("%s: %v", line, err)
	}
	if f.Len() != 1 {
		t.Fatalf("%s: %d users", line, f.Len())
	}
	return f.users[0]
}

func argv(s string) [][]byte {
	var out [][]byte
	for _, f := range strings.Fields(s) {
		out = append(out, []byte(f))
	}
	return out
}

// check resolves the command line s and returns u's verdict.
func check(t *testing.T, u *User, s string) string {
	t.Helper()
	args := argv(s)
	spec, e := command.Resolve(args)
	if spec == nil {
		t.Fatalf("%s: %s", s, e)
	}
	return u.Check(spec, args)
}

const (
	denyKeys = "NOPERM this user has no permissions to access one of the keys used as arguments"
)

func denyCmd(name string) string {
	return "NOPERM this user has no permissions to run the '" + name + "' command"
}

func TestPasswords(t *testing.T) {
	// SHA-256("secret").
	u := parseOne(t, "user a on #2BB80D537B1DA3E38BD30361AA855686BDE0EACD7162FEF6A25FE97BF527A25B >other")
	for pass, want := range map[string]bool{"secret": true, "other": true, "Secret": false, "": false} {
		if got := u.CheckPassword([]byte(pass)); got != want {
			t.Errorf("CheckPassword(%q) = %v, want %v", pass, got, want)
		}
	}
	u = parseOne(t, "user a on >one >two <one")
	if u.CheckPassword([]byte("one")) || !u.CheckPassword([]byte("two")) {
		t.Error("<one did not remove the password")
	}
	if u := parseOne(t, "user a on >x nopass"); !u.CheckPassword([]byte("anything")) || !u.NoPass() {
		t.Error("nopass does not take any password")
	}
	if u := parseOne(t, "user a on nopass >x"); u.CheckPassword([]byte("y")) || u.NoPass() {
		t.Error("a password after nopass does not end nopass")
	}
	if u := parseOne(t, "user a on >x resetpass"); u.CheckPassword([]byte("x")) {
		t.Error("resetpass kept the password")
	}
	if u := parseOne(t, "user a off >x"); u.CheckPassword([]byte("x")) {
		t.Error("a user that is off authenticated")
	}
	if u := parseOne(t, "user a >x"); u.Enabled() {
		t.Error("a user is on without the on rule; Redis users start off")
	}
}

func TestCommandRules(t *testing.T) {
	tests := []struct {
		rules string
		cmd   string
		want  string
	}{
		{"+@read ~*", "GET k", ""},
		{"+@read ~*", "SET k v", denyCmd("set")},
		{"+@all -@write ~*", "SET k v", denyCmd("set")},
		{"+@all -@write ~*", "MGET a b", ""},
		{"+@all -set ~*", "SET k v", denyCmd("set")},
		{"+@all -set ~*", "SETNX k v", ""},
		{"+get ~*", "GET k", ""},
		{"+GET ~*", "GET k", ""},
		{"+get ~*", "PING", denyCmd("ping")},
		{"+client ~*", "CLIENT LIST", ""},
		{"+client|id ~*", "CLIENT ID", ""},
		{"+client|id ~*", "CLIENT LIST", denyCmd("client|list")},
		{"+@all -client|list ~*", "CLIENT ID", ""},
		{"+@all -client|list ~*", "CLIENT LIST", denyCmd("client|list")},
		{"allcommands nocommands +get ~*", "SET k v", denyCmd("set")},
		{"+@all reset on +get ~*", "SET k v", denyCmd("set")},
		// Commands that need no authentication need no permission either.
		{"nocommands", "AUTH x", ""},
		{"nocommands", "HELLO 3", ""},
		{"nocommands", "QUIT", ""},
		// corral counts FLUSHALL and FLUSHDB as @admin.
		{"+@write ~*", "FLUSHALL", ""},
		{"+@write -@admin ~*", "FLUSHALL", denyCmd("flushall")},
		{"+@write -@admin ~*", "FLUSHDB", denyCmd("flushdb")},
		{"+@all -@admin ~*", "FLUSHALL", denyCmd("flushall")},
		{"+@all -@admin ~*", "DEL k", ""},
		{"+@admin ~*", "FLUSHALL", ""},
		{"+@dangerous ~*", "FLUSHALL", ""},
	}
	for _, tt := range tests {
		u := parseOne(t, "user u on "+tt.rules)
		if got := check(t, u, tt.cmd); got != tt.want {
			t.Errorf("%s: %s = %q, want %q", tt.rules, tt.cmd, got, tt.want)
		}
	}
}

func TestKeyRules(t *testing.T) {
	tests := []struct {
		rules string
		cmd   string
		ok    bool
	}{
		{"~cache:*", "GET cache:1", true},
		{"~cache:*", "GET other", false},
		{"~cache:* ~user:?", "MGET cache:1 user:2", true},
		{"~cache:* ~user:?", "MGET cache:1 user:22", false},
		{"~cache:*", "MSET cache:1 v cache:2 w", true},
		{"~cache:*", "MSET cache:1 other cache:2 w", true}, // values are not keys
		{"~cache:*", "MSET cache:1 v other w", false},
		{"~cache:*", "SET cache:x other", true},
		{"", "GET k", false},
		{"", "DBSIZE", true}, // no key arguments
		{"", "PING", true},
		{"~a allkeys", "GET zzz", true},
		{"allkeys resetkeys ~a", "GET zzz", false},
		{"~*", "GET anything", true},
	}
	for _, tt := range tests {
		u := parseOne(t, "user u on +@all "+tt.rules)
		want := ""
		if !tt.ok {
			want = denyKeys
		}
		if got := check(t, u, tt.cmd); got != want {
			t.Errorf("%q: %s = %q, want %q", tt.rules, tt.cmd, got, want)
		}
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		file string
		want string // substring of the error
	}{
		{"user", `users.acl:1: a line must read "user <name> <rules...>"`},
		{"# c\nuser a on\n\nuser a off", `users.acl:4: user "a" is already defined on line 2`},
		{"usr a on", "users.acl:1:"},
		{"user a on +@nosuch", `users.acl:1: user "a", rule 2: "@nosuch": unknown category`},
		{"user a on +nosuch", `"nosuch": unknown command`},
		{"user a on #abc", "a password hash is 64 hex digits"},
		{"user a on #" + strings.Repeat("g", 64), "a password hash is 64 hex digits"},
		{"user a on %R~x", "selectors and read/write key permissions are not supported"},
		{"user a on (+get)", "selectors"},
		{"user a on whatever", `"whatever": unknown rule`},
		{"user a on +", "a command or @category must follow + or -"},
	}
	for _, tt := range tests {
		_, err := Parse(strings.NewReader(tt.file), "users.acl")
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%q: error %v, want it to contain %q", tt.file, err, tt.want)
		}
	}
	// A plain password never appears in an error.
	_, err := Parse(strings.NewReader("user a on >hunter2 +@nosuch"), "users.acl")
	if err == nil || strings.Contains(err.Error(), "hunter2") {
		t.Errorf("error %v", err)
	}
}

func TestChannelRulesIgnored(t *testing.T) {
	u := parseOne(t, "user a on &* allchannels resetchannels &news:* +@all ~*")
	if !u.Unrestricted() {
		t.Error("channel rules changed command or key permissions")
	}
}

func TestDefaultUser(t *testing.T) {
	us, err := New("", nil)
	if err != nil {
		t.Fatal(err)
	}
	if d := us.Default(); !d.Enabled() || !d.NoPass() || !d.Unrestricted() {
		t.Error("without requirepass the default user must be on, nopass and unrestricted")
	}
	us, _ = New("pw", nil)
	if d := us.Default(); d.NoPass() || !d.CheckPassword([]byte("pw")) || d.CheckPassword([]byte("x")) {
		t.Error("requirepass is not the default user's password")
	}
	f, err := Parse(strings.NewReader("user alice on >a +@read ~*\nuser default off"), "u")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := New("pw", f); err == nil {
		t.Error("requirepass and a file-defined default user were both accepted")
	}
	us, err = New("", f)
	if err != nil {
		t.Fatal(err)
	}
	if us.Default().Enabled() || !us.DefinesDefault() {
		t.Error("the file's default user was not used")
	}
	if got := us.Names(); strings.Join(got, ",") != "default,alice" {
		t.Errorf("Names = %v", got)
	}
	if us.Lookup([]byte("alice")) == nil || us.Lookup([]byte("bob")) != nil {
		t.Error("Lookup")
	}
}

func TestLoadFile(t *testing.T) {
	if _, err := LoadFile(t.TempDir() + "/missing.acl"); err == nil || !strings.Contains(err.Error(), "users file") {
		t.Errorf("missing file: %v", err)
	}
}

// BenchmarkCheck measures the per-command permission check of a user with
// key patterns, the costliest case on the request path.
func BenchmarkCheck(b *testing.B) {
	f, _ := Parse(strings.NewReader("user a on nopass +@read ~cache:* ~user:*"), "u")
	u := f.users[0]
	args := argv("MGET cache:1 user:2 cache:3")
	spec, _ := command.Resolve(args)
	b.ReportAllocs()
	for b.Loop() {
		if u.Check(spec, args) != "" {
			b.Fatal("denied")
		}
	}
}
