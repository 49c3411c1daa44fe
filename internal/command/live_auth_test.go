package command

import (
	"testing"
)

// authServer models the connection-level checks of a server with
// requirepass "secret", the way corral's RESP server is meant to run them
// with this package: Resolve, then NOAUTH for commands without the NoAuth
// flag, then AUTH / HELLO processing.
type authServer struct {
	authed bool
	name   []byte
}

func (s *authServer) run(args [][]byte) error {
	spec, msg := Resolve(args)
	if spec == nil {
		return Error(msg)
	}
	if !s.authed && !spec.HasFlag(NoAuth) {
		return ErrNoAuth
	}
	switch spec.ID {
	case Auth:
		user, pass, err := ParseAuth(args)
		if err != nil {
			return err
		}
		if (user == nil || string(user) == "default") && string(pass) == "secret" {
			s.authed = true
			return nil
		}
		return ErrWrongPass
	case Hello:
		h, err := ParseHello(args)
		if err != nil {
			return err
		}
		for _, o := range h.Opts {
			if o.Auth {
				if string(o.User) != "default" || string(o.Pass) != "secret" {
					return ErrWrongPass
				}
				s.authed = true
				continue
			}
			if err := CheckClientName(o.Name); err != nil {
				return err
			}
			s.name = o.Name
		}
		if h.Err != nil {
			return h.Err
		}
		if !s.authed {
			return ErrHelloNoAuth
		}
	}
	return nil
}

// TestLiveAuth runs command sequences on fresh connections to a server
// with a password and checks every reply's error (or its absence) and the
// resulting client name against the model above.
func TestLiveAuth(t *testing.T) {
	addr := liveServer(t, "--requirepass", "secret")
	tests := []struct {
		name string
		cmds [][]string
	}{
		{"arity before auth", [][]string{{"GET"}, {"GET", "k"}, {"CLIENT", "SETNAME"}, {"CLIENT", "SETNAME", "x"}}},
		{"unknown before auth", [][]string{{"FOO", "a"}, {"CLIENT", "FOO"}, {"PING"}, {"ECHO", "x"}}},
		{"auth forms", [][]string{{"AUTH", "a", "b", "c"}, {"AUTH", "x"}, {"AUTH", "u", "secret"}, {"AUTH", "secret"}, {"GET", "k"}}},
		{"auth default user", [][]string{{"AUTH", "default", "secret"}, {"PING"}}},
		{"hello unauthenticated", [][]string{{"HELLO"}, {"HELLO", "2"}, {"HELLO", "5"}, {"HELLO", "x"}}},
		{"hello setname before auth error", [][]string{{"HELLO", "2", "SETNAME", "early"}, {"AUTH", "secret"}}},
		{"hello auth then syntax error", [][]string{{"HELLO", "3", "AUTH", "default", "secret", "FOO"}, {"PING"}}},
		{"hello setname then bad auth", [][]string{{"HELLO", "3", "SETNAME", "n2", "AUTH", "default", "bad"}, {"AUTH", "secret"}}},
		{"hello bad name then bad auth", [][]string{{"HELLO", "2", "SETNAME", "a b", "AUTH", "default", "bad"}}},
		{"hello bad auth then bad name", [][]string{{"HELLO", "2", "AUTH", "default", "bad", "SETNAME", "a b"}}},
		{"hello auth ok", [][]string{{"HELLO", "2", "AUTH", "default", "secret", "SETNAME", "n3"}, {"GET", "k"}}},
		{"hello auth twice", [][]string{{"HELLO", "2", "AUTH", "default", "secret", "AUTH", "default", "bad"}, {"PING"}}},
		{"quit before auth", [][]string{{"QUIT"}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := dial(t, addr)
			var model authServer
			for _, cmd := range tc.cmds {
				v, raw := do(t, c, cmd...)
				ours := model.run(argv(cmd))
				switch {
				case ours == nil && v.Kind == '-':
					t.Fatalf("%q: redis replied %q, ours accepted", cmd, v.Str)
				case ours != nil && v.Kind != '-':
					t.Fatalf("%q: redis replied %q, ours %q", cmd, raw, ours)
				case ours != nil && ours.Error() != string(v.Str):
					t.Fatalf("%q:\nredis %q\n ours %q", cmd, v.Str, ours)
				}
				if cmd[0] == "QUIT" {
					return
				}
			}
			// Compare the side effects: authentication and client name.
			v, _ := do(t, c, "CLIENT", "GETNAME")
			switch {
			case !model.authed:
				if v.Kind != '-' || string(v.Str) != string(ErrNoAuth) {
					t.Errorf("redis CLIENT GETNAME %q, ours unauthenticated", v.Str)
				}
			case string(v.Str) != string(model.name):
				t.Errorf("redis name %q, ours %q", v.Str, model.name)
			}
		})
	}
}
