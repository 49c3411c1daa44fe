// Package acl holds corral's users: the default user that --requirepass
// protects and the ACL-style users of --users-file, each with a password
// hash, allowed commands (by Redis ACL category or by name) and allowed
// key patterns. The server asks a connection's user before running each
// command.
//
// The users file takes the lines of a Redis ACL file, one user per line:
//
//	user alice on #<sha256 hex of the password> ~cache:* +@read
//	user ops on >plain-password ~* +@all
//	user batch off ...
//
// Blank lines and lines starting with '#' are skipped. The rules, applied
// left to right as Redis applies them: on, off, >password, <password,
// #hash, !hash, nopass, resetpass, ~pattern, allkeys, resetkeys,
// +@category, -@category, +command, -command, +command|subcommand,
// allcommands, nocommands, reset. Channel rules (&pattern, allchannels,
// resetchannels) are accepted and ignored: corral has no Pub/Sub.
// Selectors and read/write key permissions (%R~, %W~, "(...)") are not
// supported and refused.
//
// corral counts FLUSHALL and FLUSHDB in the @admin category as well as in
// Redis's @dangerous: wiping the cache is an administrator's act.
package acl

import (
	"bufio"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"corral/internal/command"
)

// DefaultName is the name of the user clients are when they do not AUTH
// with a user name.
const DefaultName = "default"

// User is one user. It is read-only once built and safe for concurrent use.
type User struct {
	name    string
	enabled bool
	nopass  bool
	hashes  [][sha256.Size]byte
	allowed [command.NumIDs]bool // by command ID
	allCmds bool                 // every command allowed: skip the checks
	allKeys bool
	keys    [][]byte // glob patterns, when !allKeys
}

// Name returns the user's name.
func (u *User) Name() string { return u.name }

// Enabled reports whether the user may authenticate ("on").
func (u *User) Enabled() bool { return u.enabled }

// NoPass reports whether any password authenticates the user ("nopass").
// A default user that is enabled and needs no password is the identity of
// every new connection, as in Redis.
func (u *User) NoPass() bool { return u.nopass }

// Unrestricted reports whether the user may run every command on every
// key, so that no command needs checking.
func (u *User) Unrestricted() bool { return u.allCmds && u.allKeys }

// CheckPassword reports whether pass authenticates the enabled user. It
// hashes pass and compares it with every stored hash in constant time.
func (u *User) CheckPassword(pass []byte) bool {
	if !u.enabled {
		return false
	}
	if u.nopass {
		return true
	}
	sum := sha256.Sum256(pass)
	ok := 0
	for i := range u.hashes {
		ok |= subtle.ConstantTimeCompare(sum[:], u.hashes[i][:])
	}
	return ok == 1
}

// CanRun reports whether the user may run the command spec.
func (u *User) CanRun(spec *command.Spec) bool {
	return u.allCmds || u.allowed[spec.ID]
}

// CanAccessKeys reports whether every key argument of args, a call of
// spec, matches one of the user's key patterns.
func (u *User) CanAccessKeys(spec *command.Spec, args [][]byte) bool {
	if u.allKeys {
		return true
	}
	ok := true
	spec.ForEachKey(args, func(key []byte) {
		if ok && !u.keyAllowed(key) {
			ok = false
		}
	})
	return ok
}

func (u *User) keyAllowed(key []byte) bool {
	for _, p := range u.keys {
		if command.Match(p, key, false) {
			return true
		}
	}
	return false
}

// Check returns the NOPERM error Redis 7.0 replies when the user may not
// run args (a call of spec), or "" when it may. Commands that need no
// authentication (AUTH, HELLO, QUIT, ...) are never refused, as in Redis.
func (u *User) Check(spec *command.Spec, args [][]byte) string {
	if u.allCmds && u.allKeys || spec.HasFlag(command.NoAuth) {
		return ""
	}
	if !u.CanRun(spec) {
		return "NOPERM this user has no permissions to run the '" + spec.Name + "' command"
	}
	if !u.CanAccessKeys(spec, args) {
		return "NOPERM this user has no permissions to access one of the keys used as arguments"
	}
	return ""
}

// Superuser returns an enabled user that may run every command on every
// key and authenticates with nothing: the identity of a cluster peer that
// proved it holds the cluster secret.
func Superuser(name string) *User {
	u := &User{name: name, enabled: true, nopass: true}
	u.setAll(true)
	u.allKeys = true
	return u
}

// Default returns the default user as Redis builds it from requirepass:
// enabled, every command, every key, and either no password or requirepass.
func Default(requirepass string) *User {
	u := Superuser(DefaultName)
	if requirepass != "" {
		u.nopass = false
		u.hashes = [][sha256.Size]byte{sha256.Sum256([]byte(requirepass))}
	}
	return u
}

// Users is a set of users by name. It always holds the default user.
type Users struct {
	byName      map[string]*User
	names       []string // in file order, the default user first
	fileDefault bool
}

// Lookup returns the user named name, or nil.
func (us *Users) Lookup(name []byte) *User { return us.byName[string(name)] }

// Default returns the default user.
func (us *Users) Default() *User { return us.byName[DefaultName] }

// Names returns the user names, the default user first, then in file order.
func (us *Users) Names() []string { return append([]string(nil), us.names...) }

// DefinesDefault reports whether the users file defined the default user
// itself (rather than leaving it to --requirepass).
func (us *Users) DefinesDefault() bool { return us.fileDefault }

// New returns the users: those of file (nil for none) plus the default
// user built from requirepass, unless file defines "default" itself, in
// which case requirepass must be empty.
func New(requirepass string, file *File) (*Users, error) {
	us := &Users{byName: map[string]*User{}}
	if file != nil {
		for _, u := range file.users {
			us.byName[u.name] = u
		}
	}
	if _, ok := us.byName[DefaultName]; ok {
		if requirepass != "" {
			return nil, errors.New("acl: --requirepass and a \"default\" user in --users-file both set the default user's password; keep one")
		}
		us.fileDefault = true
	} else {
		us.byName[DefaultName] = Default(requirepass)
	}
	us.names = append(us.names, DefaultName)
	if file != nil {
		for _, u := range file.users {
			if u.name != DefaultName {
				us.names = append(us.names, u.name)
			}
		}
	}
	return us, nil
}

// File is a parsed users file.
type File struct {
	users []*User
}

// Len returns the number of users the file defines.
func (f *File) Len() int { return len(f.users) }

// LoadFile reads and parses the users file at path.
func LoadFile(path string) (*File, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("acl: users file: %w", err)
	}
	defer fh.Close()
	return Parse(fh, path)
}

// Parse parses a users file; name prefixes its errors ("users.acl:3: ...").
// Errors never quote a password.
func Parse(r io.Reader, name string) (*File, error) {
	f := &File{}
	seen := map[string]int{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4096), 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' {
			continue
		}
		fields := strings.Fields(line)
		if fields[0] != "user" || len(fields) < 2 {
			return nil, fmt.Errorf("%s:%d: a line must read \"user <name> <rules...>\"", name, n)
		}
		uname := fields[1]
		if prev, dup := seen[uname]; dup {
			return nil, fmt.Errorf("%s:%d: user %q is already defined on line %d", name, n, uname, prev)
		}
		seen[uname] = n
		u := &User{name: uname}
		for i, rule := range fields[2:] {
			if err := u.apply(rule); err != nil {
				return nil, fmt.Errorf("%s:%d: user %q, rule %d: %w", name, n, uname, i+1, err)
			}
		}
		f.users = append(f.users, u)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return f, nil
}

// categories Redis defines; a rule naming another is an error, as in Redis.
var categories = map[string]bool{
	"keyspace": true, "read": true, "write": true, "set": true, "sortedset": true,
	"list": true, "hash": true, "string": true, "bitmap": true, "hyperloglog": true,
	"geo": true, "stream": true, "pubsub": true, "admin": true, "fast": true,
	"slow": true, "blocking": true, "dangerous": true, "connection": true,
	"transaction": true, "scripting": true,
}

// apply applies one rule to u.
func (u *User) apply(rule string) error {
	switch lower := strings.ToLower(rule); lower {
	case "on":
		u.enabled = true
		return nil
	case "off":
		u.enabled = false
		return nil
	case "nopass":
		u.nopass = true
		u.hashes = nil
		return nil
	case "resetpass":
		u.nopass = false
		u.hashes = nil
		return nil
	case "allkeys":
		u.allKeys = true
		u.keys = nil
		return nil
	case "resetkeys":
		u.allKeys = false
		u.keys = nil
		return nil
	case "allcommands", "+@all":
		u.setAll(true)
		return nil
	case "nocommands", "-@all":
		u.setAll(false)
		return nil
	case "allchannels", "resetchannels":
		return nil
	case "reset":
		*u = User{name: u.name}
		return nil
	}
	switch rule[0] {
	case '>':
		u.addHash(sha256.Sum256([]byte(rule[1:])))
		return nil
	case '<':
		u.removeHash(sha256.Sum256([]byte(rule[1:])))
		return nil
	case '#', '!':
		h, err := parseHash(rule[1:])
		if err != nil {
			return err
		}
		if rule[0] == '#' {
			u.addHash(h)
		} else {
			u.removeHash(h)
		}
		return nil
	case '~':
		if rule == "~*" {
			u.allKeys = true
			u.keys = nil
		} else if !u.allKeys {
			u.keys = append(u.keys, []byte(rule[1:]))
		}
		return nil
	case '&':
		return nil
	case '%', '(':
		return fmt.Errorf("%q: selectors and read/write key permissions are not supported; use ~pattern", rule)
	case '+', '-':
		return u.applyCommand(rule[0] == '+', rule[1:])
	}
	return fmt.Errorf("%q: unknown rule", rule)
}

func parseHash(s string) ([sha256.Size]byte, error) {
	var h [sha256.Size]byte
	if len(s) != 2*sha256.Size {
		return h, errors.New("a password hash is 64 hex digits (SHA-256)")
	}
	if _, err := hex.Decode(h[:], []byte(s)); err != nil {
		return h, errors.New("a password hash is 64 hex digits (SHA-256)")
	}
	return h, nil
}

func (u *User) addHash(h [sha256.Size]byte) {
	u.nopass = false
	for _, have := range u.hashes {
		if have == h {
			return
		}
	}
	u.hashes = append(u.hashes, h)
}

func (u *User) removeHash(h [sha256.Size]byte) {
	for i, have := range u.hashes {
		if have == h {
			u.hashes = append(u.hashes[:i], u.hashes[i+1:]...)
			return
		}
	}
}

func (u *User) setAll(on bool) {
	for i := range u.allowed {
		u.allowed[i] = on
	}
	u.allCmds = on
}

// applyCommand applies +name / -name / +@cat / -@cat.
func (u *User) applyCommand(allow bool, what string) error {
	if what == "" {
		return errors.New("a command or @category must follow + or -")
	}
	if what[0] == '@' {
		cat := strings.ToLower(what[1:])
		if !categories[cat] {
			return fmt.Errorf("%q: unknown category", "@"+cat)
		}
		for _, s := range command.List() {
			if inCategory(s, "@"+cat) {
				u.allowed[s.ID] = allow
			}
		}
		u.refreshAll()
		return nil
	}
	name := strings.ToLower(what)
	found := false
	for _, s := range command.List() {
		// "+client" covers every CLIENT subcommand; "+client|list" one.
		if s.Name == name || strings.HasPrefix(s.Name, name+"|") && !strings.Contains(name, "|") {
			u.allowed[s.ID] = allow
			found = true
		}
	}
	if !found {
		return fmt.Errorf("%q: unknown command", what)
	}
	u.refreshAll()
	return nil
}

func (u *User) refreshAll() {
	u.allCmds = true
	for _, s := range command.List() {
		if !u.allowed[s.ID] {
			u.allCmds = false
			return
		}
	}
}

// inCategory reports whether s is in cat ("@read"): its Redis categories,
// plus @admin for FLUSHALL and FLUSHDB.
func inCategory(s *command.Spec, cat string) bool {
	if cat == "@admin" && (s.ID == command.FlushAll || s.ID == command.FlushDB) {
		return true
	}
	for _, c := range s.ACLCategories() {
		if c == cat {
			return true
		}
	}
	return false
}
