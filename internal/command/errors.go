package command

import (
	"strconv"
	"strings"
)

// Error is a Redis error reply: the whole text after the '-', error code
// included, exactly as redis-server 7.0.15 sends it ("ERR syntax error").
// Write it with resp.Writer.Error(string(e)). Texts built from client
// arguments already have CR and LF replaced as Redis does, so the text is
// the wire text.
type Error string

// Error returns the reply text.
func (e Error) Error() string { return string(e) }

// Fixed error texts of redis-server 7.0.15 for the commands corral serves.
const (
	ErrSyntax     Error = "ERR syntax error"
	ErrNotInteger Error = "ERR value is not an integer or out of range"
	ErrNotFloat   Error = "ERR value is not a valid float"
	ErrWrongType  Error = "WRONGTYPE Operation against a key holding the wrong kind of value"
	// ErrOverflow is INCR, INCRBY, DECR and DECRBY overflowing int64.
	ErrOverflow Error = "ERR increment or decrement would overflow"
	// ErrDecrOverflow is DECRBY given -9223372036854775808.
	ErrDecrOverflow Error = "ERR decrement would overflow"
	// ErrNaNOrInfinity is INCRBYFLOAT producing a non-finite value.
	ErrNaNOrInfinity Error = "ERR increment would produce NaN or Infinity"
	// ErrStringTooLong is APPEND or SETRANGE growing a value beyond
	// proto-max-bulk-len.
	ErrStringTooLong Error = "ERR string exceeds maximum allowed size (proto-max-bulk-len)"
	// ErrOffsetOutOfRange is SETRANGE given a negative offset.
	ErrOffsetOutOfRange Error = "ERR offset is out of range"
	// ErrExpireNXAndOthers is EXPIRE & co. given NX with XX, GT or LT.
	ErrExpireNXAndOthers Error = "ERR NX and XX, GT or LT options at the same time are not compatible"
	// ErrExpireGTAndLT is EXPIRE & co. given both GT and LT.
	ErrExpireGTAndLT Error = "ERR GT and LT options at the same time are not compatible"
	// ErrInvalidCursor is SCAN given a cursor strtoul rejects.
	ErrInvalidCursor Error = "ERR invalid cursor"
	// ErrDBIndexOutOfRange is SELECT of a database that does not exist.
	ErrDBIndexOutOfRange Error = "ERR DB index is out of range"
	// ErrSelectInCluster is SELECT of a database other than 0 in cluster
	// mode.
	ErrSelectInCluster Error = "ERR SELECT is not allowed in cluster mode"
	// ErrNoAuth answers any command but AUTH, HELLO, QUIT and RESET
	// (those with the NoAuth flag) before authentication; Redis checks it
	// after the command name and the arity.
	ErrNoAuth Error = "NOAUTH Authentication required."
	// ErrWrongPass answers AUTH and HELLO ... AUTH with bad credentials.
	ErrWrongPass Error = "WRONGPASS invalid username-password pair or user is disabled."
	// ErrAuthNoPassword answers one-argument AUTH when the default user
	// has no password.
	ErrAuthNoPassword Error = "ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?"
	// ErrHelloNoAuth answers HELLO from an unauthenticated client that
	// gave no (valid) AUTH option.
	ErrHelloNoAuth Error = "NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time"
	// ErrNoProto answers HELLO with a protocol version other than 2 or 3.
	ErrNoProto Error = "NOPROTO unsupported protocol version"
	// ErrHelloProtoNotInteger answers HELLO with a non-integer version.
	ErrHelloProtoNotInteger Error = "ERR Protocol version is not an integer or out of range"
	// ErrClientName answers CLIENT SETNAME and HELLO ... SETNAME with a
	// name holding bytes outside '!'..'~'.
	ErrClientName Error = "ERR Client names cannot contain spaces, newlines or special characters."
	// ErrInvalidClientID answers CLIENT LIST ID with a non-integer ID.
	ErrInvalidClientID Error = "ERR Invalid client ID"
	// ErrOOM answers a DenyOOM command when over maxmemory.
	ErrOOM Error = "OOM command not allowed when used memory > 'maxmemory'."
	// ErrMaxClients is sent to a connection accepted beyond maxclients,
	// which is then closed.
	ErrMaxClients Error = "ERR max number of clients reached"
)

// ErrInvalidExpire returns "ERR invalid expire time in '<name>' command"
// for the lower-case command name ("set", "getex", "setex", "expire").
func ErrInvalidExpire(name string) Error {
	return Error("ERR invalid expire time in '" + name + "' command")
}

// ErrValueOutOfRange returns Redis's range error for integer arguments
// bounded to [min, max], such as SELECT's int range.
func ErrValueOutOfRange(min, max int64) Error {
	return Error("ERR value is out of range, value must between " +
		strconv.FormatInt(min, 10) + " and " + strconv.FormatInt(max, 10))
}

// ErrUnsupportedOption returns EXPIRE's "ERR Unsupported option <opt>".
func ErrUnsupportedOption(opt []byte) Error {
	return Error(formatError("Unsupported option " + string(cstr(opt))))
}

// ErrHelloOption returns HELLO's "ERR Syntax error in HELLO option '<opt>'".
func ErrHelloOption(opt []byte) Error {
	return Error(formatError("Syntax error in HELLO option '" + string(cstr(opt)) + "'"))
}

// ErrUnknownClientType returns CLIENT LIST TYPE's "ERR Unknown client type '<t>'".
func ErrUnknownClientType(t []byte) Error {
	return Error(formatError("Unknown client type '" + string(cstr(t)) + "'"))
}

// ErrUnrecognizedOption returns CLIENT SETINFO's (Redis 7.2) error for an
// attribute other than LIB-NAME and LIB-VER.
func ErrUnrecognizedOption(attr []byte) Error {
	return Error(formatError("Unrecognized option '" + string(cstr(attr)) + "'"))
}

// ErrClientAttr returns CLIENT SETINFO's (Redis 7.2) error for a value
// holding bytes outside '!'..'~'; attr is the attribute as the client
// spelled it.
func ErrClientAttr(attr []byte) Error {
	return Error(formatError(string(cstr(attr)) + " cannot contain spaces, newlines or special characters."))
}

// formatError finishes a message built like Redis's addReplyErrorFormat:
// CR and LF at either end are trimmed, the remaining ones become spaces,
// and "ERR " is prefixed unless the message starts with '-' (which is
// then dropped, the message carrying its own code).
func formatError(msg string) string {
	msg = strings.Trim(msg, "\r\n")
	msg = spaceNewlines(msg)
	if strings.HasPrefix(msg, "-") {
		return msg[1:]
	}
	return "ERR " + msg
}

// spaceNewlines replaces every CR and LF with a space.
func spaceNewlines(s string) string {
	if !strings.ContainsAny(s, "\r\n") {
		return s
	}
	return strings.Map(func(r rune) rune {
		if r == '\r' || r == '\n' {
			return ' '
		}
		return r
	}, s)
}

// ErrUnknownCommand returns the error for a command corral does not
// serve, exactly as Redis 7.0 builds it: the name cut to 128 bytes, then
// the arguments quoted while the list is under 128 bytes, each cut to fit,
// every piece also cut at its first NUL byte, CR and LF turned to spaces:
// "ERR unknown command 'foo', with args beginning with: 'a' 'b' ".
// args is the whole argv, name included.
func ErrUnknownCommand(args [][]byte) string {
	var b strings.Builder
	b.WriteString("ERR unknown command '")
	b.Write(truncate(cstr(args[0]), 128))
	b.WriteString("', with args beginning with: ")
	n := 0
	for _, a := range args[1:] {
		if n >= 128 {
			break
		}
		a = truncate(cstr(a), 128-n)
		b.WriteByte('\'')
		b.Write(a)
		b.WriteString("' ")
		n += len(a) + 3
	}
	return spaceNewlines(b.String())
}

// ErrUnknownSubcommand returns the error for a container (CLIENT,
// COMMAND) called with a subcommand corral does not serve:
// "ERR unknown subcommand 'x'. Try CLIENT HELP.", sub cut at NUL and to
// 128 bytes.
func ErrUnknownSubcommand(parent *Spec, sub []byte) string {
	return spaceNewlines("ERR unknown subcommand '" + string(truncate(cstr(sub), 128)) +
		"'. Try " + strings.ToUpper(parent.Name) + " HELP.")
}

// ErrArity returns "ERR wrong number of arguments for '<name>' command"
// with s's full name ("get", "client|setname"), as Redis reports a failed
// arity check. MSET and MSETNX with an odd number of arguments give it too.
func ErrArity(s *Spec) string {
	return "ERR wrong number of arguments for '" + s.Name + "' command"
}

func truncate(b []byte, n int) []byte {
	if len(b) > n {
		return b[:n]
	}
	return b
}
