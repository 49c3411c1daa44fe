package command

// Flag is a set of command properties. The first group mirrors the flags
// redis-server 7.0 reports in COMMAND INFO (the generator fills them in
// from a live server); the last group is corral's own.
type Flag uint32

// Flags reported by Redis in COMMAND INFO.
const (
	// Write: the command may modify the keyspace ("write").
	Write Flag = 1 << iota
	// ReadOnly: the command only reads keys ("readonly").
	ReadOnly
	// DenyOOM: refused when over maxmemory ("denyoom").
	DenyOOM
	// Admin: administrative command ("admin").
	Admin
	// PubSub: publish/subscribe related ("pubsub").
	PubSub
	// NoScript: not allowed in scripts ("noscript").
	NoScript
	// Blocking: may block the client ("blocking").
	Blocking
	// Loading: allowed while the dataset loads ("loading").
	Loading
	// Stale: allowed on a replica with stale data ("stale").
	Stale
	// SkipMonitor: not shown in MONITOR ("skip_monitor").
	SkipMonitor
	// SkipSlowlog: not logged in the slow log ("skip_slowlog").
	SkipSlowlog
	// Asking: cluster ASKING related ("asking").
	Asking
	// Fast: O(1) or O(log N) ("fast").
	Fast
	// NoAuth: allowed before the client authenticates ("no_auth"):
	// AUTH, HELLO, QUIT, RESET.
	NoAuth
	// NoMandatoryKeys: keys are optional ("no_mandatory_keys").
	NoMandatoryKeys
	// NoAsyncLoading: refused during async loading ("no_async_loading").
	NoAsyncLoading
	// NoMulti: not allowed inside MULTI ("no_multi").
	NoMulti
	// MovableKeys: key positions depend on the arguments ("movablekeys").
	MovableKeys
	// AllowBusy: allowed while a script is busy ("allow_busy").
	AllowBusy

	// Connection marks commands the RESP server answers itself from
	// connection or process state, never touching keys: PING, ECHO,
	// HELLO, AUTH, SELECT, QUIT, RESET, CLIENT, COMMAND, INFO, TIME and
	// their subcommands.
	Connection
	// Keyed marks commands that take at least one key (FirstKey > 0).
	Keyed
	// Multikey marks keyed commands that may take more than one key
	// (MGET, MSET, MSETNX, DEL, UNLINK, EXISTS, TOUCH).
	Multikey
)
