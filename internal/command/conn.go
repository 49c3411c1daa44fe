package command

// HelloArgs holds a parsed HELLO [protover [AUTH user pass] [SETNAME
// name]]. Redis 7.0 acts on the options one by one as it reads them, so a
// later error does not undo an earlier AUTH or SETNAME; the server runs
// Opts in order, stopping at the first failure (AUTH: ErrWrongPass;
// SETNAME: CheckClientName's error), then replies Err if set, then
// ErrHelloNoAuth if the client is still not authenticated, and only then
// switches to Proto and replies.
type HelloArgs struct {
	// Proto is 2 or 3, or 0 when HELLO came without a version.
	Proto int
	// Opts are the AUTH and SETNAME options before the first bad one.
	Opts []HelloOpt
	// Err is "ERR Syntax error in HELLO option '<opt>'" for the first
	// unknown or incomplete option, to reply after running Opts.
	Err error
}

// HelloOpt is one AUTH or SETNAME option of HELLO.
type HelloOpt struct {
	// Auth is true for AUTH User Pass, false for SETNAME Name.
	Auth       bool
	User, Pass []byte
	Name       []byte
}

// ParseHello parses HELLO's arguments (args is the whole argv). The
// error, ErrHelloProtoNotInteger or ErrNoProto, means nothing is done;
// option errors are in HelloArgs.Err (see HelloArgs for the order).
func ParseHello(args [][]byte) (HelloArgs, error) {
	var h HelloArgs
	next := 1
	if len(args) >= 2 {
		v, ok := ParseInt(args[1])
		if !ok {
			return HelloArgs{}, ErrHelloProtoNotInteger
		}
		if v < 2 || v > 3 {
			return HelloArgs{}, ErrNoProto
		}
		h.Proto = int(v)
		next = 2
	}
	for j := next; j < len(args); j++ {
		more := len(args) - 1 - j
		opt := cstr(args[j])
		switch {
		case equalFold(opt, "auth") && more >= 2:
			h.Opts = append(h.Opts, HelloOpt{Auth: true, User: args[j+1], Pass: args[j+2]})
			j += 2
		case equalFold(opt, "setname") && more >= 1:
			h.Opts = append(h.Opts, HelloOpt{Name: args[j+1]})
			j++
		default:
			h.Err = ErrHelloOption(args[j])
			return h, nil
		}
	}
	return h, nil
}

// CheckClientName returns ErrClientName when name (for CLIENT SETNAME or
// HELLO SETNAME) holds a byte outside '!'..'~'. The empty name is valid
// and clears the name.
func CheckClientName(name []byte) error {
	for _, c := range name {
		if c < '!' || c > '~' {
			return ErrClientName
		}
	}
	return nil
}

// ParseAuth parses AUTH [username] password (args is the whole argv):
// more than two arguments is ErrSyntax. A nil user means the one-argument
// form, where Redis answers ErrAuthNoPassword if the default user has no
// password and otherwise authenticates as "default".
func ParseAuth(args [][]byte) (user, pass []byte, err error) {
	switch len(args) {
	case 2:
		return nil, args[1], nil
	case 3:
		return args[1], args[2], nil
	}
	return nil, nil, ErrSyntax
}

// ClientAttr is a CLIENT SETINFO attribute.
type ClientAttr uint8

// CLIENT SETINFO attributes.
const (
	// LibName is LIB-NAME, the client library's name.
	LibName ClientAttr = iota + 1
	// LibVer is LIB-VER, the client library's version.
	LibVer
)

// ParseClientSetInfo parses CLIENT SETINFO <LIB-NAME name | LIB-VER ver>
// (args is the whole argv; arity 4 is already checked) with Redis 7.2's
// errors: "ERR Unrecognized option '<attr>'" and, for a value with bytes
// outside '!'..'~' before any NUL, "ERR <attr> cannot contain spaces,
// newlines or special characters.".
func ParseClientSetInfo(args [][]byte) (ClientAttr, []byte, error) {
	var attr ClientAttr
	switch a := cstr(args[2]); {
	case equalFold(a, "lib-name"):
		attr = LibName
	case equalFold(a, "lib-ver"):
		attr = LibVer
	default:
		return 0, nil, ErrUnrecognizedOption(args[2])
	}
	for _, c := range cstr(args[3]) {
		if c < '!' || c > '~' {
			return 0, nil, ErrClientAttr(args[2])
		}
	}
	return attr, args[3], nil
}

// ClientType is a CLIENT LIST TYPE filter.
type ClientType uint8

// Client types; ClientAny means no TYPE filter.
const (
	ClientAny ClientType = iota
	ClientNormal
	ClientReplica
	ClientPubSub
	ClientMaster
)

// ClientListArgs holds CLIENT LIST's filter: a Type, or IDs (possibly
// naming clients that do not exist, which are skipped).
type ClientListArgs struct {
	Type ClientType
	IDs  []int64
}

// ParseClientList parses CLIENT LIST [TYPE type | ID id ...] (args is the
// whole argv) as Redis 7.0: "ERR Unknown client type '<t>'" (types are
// normal, master, replica, slave, pubsub), ErrInvalidClientID for a bad
// ID, ErrSyntax for anything else.
func ParseClientList(args [][]byte) (ClientListArgs, error) {
	switch {
	case len(args) == 4 && cstrEqualFold(args[2], "type"):
		t := cstr(args[3])
		var a ClientListArgs
		switch {
		case equalFold(t, "normal"):
			a.Type = ClientNormal
		case equalFold(t, "slave"), equalFold(t, "replica"):
			a.Type = ClientReplica
		case equalFold(t, "pubsub"):
			a.Type = ClientPubSub
		case equalFold(t, "master"):
			a.Type = ClientMaster
		default:
			return ClientListArgs{}, ErrUnknownClientType(args[3])
		}
		return a, nil
	case len(args) > 3 && cstrEqualFold(args[2], "id"):
		a := ClientListArgs{IDs: make([]int64, 0, len(args)-3)}
		for _, arg := range args[3:] {
			id, ok := ParseInt(arg)
			if !ok {
				return ClientListArgs{}, ErrInvalidClientID
			}
			a.IDs = append(a.IDs, id)
		}
		return a, nil
	case len(args) != 2:
		return ClientListArgs{}, ErrSyntax
	}
	return ClientListArgs{}, nil
}

// FlushMode is FLUSHALL's and FLUSHDB's optional mode.
type FlushMode uint8

// Flush modes.
const (
	// FlushDefault: no mode given; Redis uses lazyfree-lazy-user-flush.
	FlushDefault FlushMode = iota
	FlushSync
	FlushAsync
)

// ParseFlush parses FLUSHALL or FLUSHDB [ASYNC|SYNC] (args is the whole
// argv): one argument other than SYNC or ASYNC, or more than one argument,
// is ErrSyntax.
func ParseFlush(args [][]byte) (FlushMode, error) {
	switch {
	case len(args) == 1:
		return FlushDefault, nil
	case len(args) > 2:
		return FlushDefault, ErrSyntax
	case cstrEqualFold(args[1], "sync"):
		return FlushSync, nil
	case cstrEqualFold(args[1], "async"):
		return FlushAsync, nil
	}
	return FlushDefault, ErrSyntax
}
