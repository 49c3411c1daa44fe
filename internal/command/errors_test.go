package command

import (
	"errors"
	"strings"
	"testing"
)

func TestErrUnknownCommand(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no args", []string{"foo"}, "ERR unknown command 'foo', with args beginning with: "},
		{"two args", []string{"foo", "a", "b"}, "ERR unknown command 'foo', with args beginning with: 'a' 'b' "},
		{"NUL", []string{"fo\x00o", "a\x00b"}, "ERR unknown command 'fo', with args beginning with: 'a' "},
		{"newlines", []string{"f\r\noo", "a\nb"}, "ERR unknown command 'f  oo', with args beginning with: 'a b' "},
		{"long name", []string{strings.Repeat("x", 200)}, "ERR unknown command '" + strings.Repeat("x", 128) + "', with args beginning with: "},
		{"long arg", []string{"x", strings.Repeat("a", 200), "b"}, "ERR unknown command 'x', with args beginning with: '" + strings.Repeat("a", 128) + "' "},
		{"second arg cut", []string{"x", strings.Repeat("a", 100), strings.Repeat("b", 100), "c"},
			"ERR unknown command 'x', with args beginning with: '" + strings.Repeat("a", 100) + "' '" + strings.Repeat("b", 25) + "' "},
		{"empty arg", []string{"x", "", "y"}, "ERR unknown command 'x', with args beginning with: '' 'y' "},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := ErrUnknownCommand(argv(tc.args)); got != tc.want {
				t.Errorf("got  %q\nwant %q", got, tc.want)
			}
		})
	}
}

func TestErrUnknownSubcommand(t *testing.T) {
	tests := []struct {
		name   string
		parent ID
		sub    string
		want   string
	}{
		{"client", Client, "FOO", "ERR unknown subcommand 'FOO'. Try CLIENT HELP."},
		{"command", Command, "x", "ERR unknown subcommand 'x'. Try COMMAND HELP."},
		{"NUL", Client, "f\x00oo\n", "ERR unknown subcommand 'f'. Try CLIENT HELP."},
		{"newline", Client, "a\nb", "ERR unknown subcommand 'a b'. Try CLIENT HELP."},
		{"long", Client, strings.Repeat("y", 129), "ERR unknown subcommand '" + strings.Repeat("y", 128) + "'. Try CLIENT HELP."},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := ErrUnknownSubcommand(ByID(tc.parent), []byte(tc.sub)); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func TestErrArity(t *testing.T) {
	for id, want := range map[ID]string{
		Get:           "ERR wrong number of arguments for 'get' command",
		ClientSetName: "ERR wrong number of arguments for 'client|setname' command",
		CommandCount:  "ERR wrong number of arguments for 'command|count' command",
	} {
		if got := ErrArity(ByID(id)); got != want {
			t.Errorf("got %q, want %q", got, want)
		}
	}
}

func TestFormattedErrors(t *testing.T) {
	tests := []struct {
		name string
		err  Error
		want string
	}{
		{"invalid expire", ErrInvalidExpire("getex"), "ERR invalid expire time in 'getex' command"},
		{"range", ErrValueOutOfRange(-1, 5), "ERR value is out of range, value must between -1 and 5"},
		{"unsupported", ErrUnsupportedOption([]byte("foo")), "ERR Unsupported option foo"},
		{"unsupported trailing LF", ErrUnsupportedOption([]byte("foo\n")), "ERR Unsupported option foo"},
		{"unsupported inner CRLF", ErrUnsupportedOption([]byte("\nfoo\r\n")), "ERR Unsupported option  foo"},
		{"unsupported NUL", ErrUnsupportedOption([]byte("fo\x00o")), "ERR Unsupported option fo"},
		{"hello option", ErrHelloOption([]byte("x\ny")), "ERR Syntax error in HELLO option 'x y'"},
		{"client type", ErrUnknownClientType([]byte("foo")), "ERR Unknown client type 'foo'"},
		{"setinfo option", ErrUnrecognizedOption([]byte("lib-x")), "ERR Unrecognized option 'lib-x'"},
		{"setinfo value", ErrClientAttr([]byte("LIB-NAME")), "ERR LIB-NAME cannot contain spaces, newlines or special characters."},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if string(tc.err) != tc.want || tc.err.Error() != tc.want {
				t.Errorf("got %q, want %q", tc.err, tc.want)
			}
		})
	}
}

func TestErrorIs(t *testing.T) {
	var err error = ErrSyntax
	if !errors.Is(err, ErrSyntax) || errors.Is(err, ErrNotInteger) {
		t.Error("errors.Is on Error constants")
	}
	fixed := map[Error]string{
		ErrSyntax:        "ERR syntax error",
		ErrNotInteger:    "ERR value is not an integer or out of range",
		ErrNotFloat:      "ERR value is not a valid float",
		ErrWrongType:     "WRONGTYPE Operation against a key holding the wrong kind of value",
		ErrOverflow:      "ERR increment or decrement would overflow",
		ErrNaNOrInfinity: "ERR increment would produce NaN or Infinity",
		ErrInvalidCursor: "ERR invalid cursor",
		ErrNoAuth:        "NOAUTH Authentication required.",
	}
	for e, want := range fixed {
		if string(e) != want {
			t.Errorf("%q != %q", e, want)
		}
	}
}
