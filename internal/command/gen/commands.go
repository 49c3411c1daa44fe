package main

// def names one command corral serves and the Go identifier of its ID.
type def struct {
	name  string // Redis name, lower case
	ident string // Go constant name
	conn  bool   // answered by the RESP server itself (flag Connection)
	subs  []def  // subcommands served, for containers
	synth bool   // not in Redis 7.0: metadata built by hand
}

// commands lists what corral serves, in ID order. Subcommands follow the
// order their container lists them in, alphabetical.
var commands = []def{
	// connection
	{name: "ping", ident: "Ping", conn: true},
	{name: "echo", ident: "Echo", conn: true},
	{name: "hello", ident: "Hello", conn: true},
	{name: "auth", ident: "Auth", conn: true},
	{name: "select", ident: "Select", conn: true},
	{name: "quit", ident: "Quit", conn: true},
	{name: "reset", ident: "Reset", conn: true},
	{name: "client", ident: "Client", conn: true, subs: []def{
		{name: "getname", ident: "ClientGetName", conn: true},
		{name: "help", ident: "ClientHelp", conn: true},
		{name: "id", ident: "ClientID", conn: true},
		{name: "info", ident: "ClientInfo", conn: true},
		{name: "list", ident: "ClientList", conn: true},
		{name: "setinfo", ident: "ClientSetInfo", conn: true, synth: true},
		{name: "setname", ident: "ClientSetName", conn: true},
	}},
	{name: "command", ident: "Command", conn: true, subs: []def{
		{name: "count", ident: "CommandCount", conn: true},
		{name: "docs", ident: "CommandDocs", conn: true},
		{name: "help", ident: "CommandHelp", conn: true},
		{name: "info", ident: "CommandInfo", conn: true},
		{name: "list", ident: "CommandList", conn: true},
	}},
	{name: "info", ident: "Info", conn: true},
	{name: "time", ident: "Time", conn: true},
	// strings
	{name: "get", ident: "Get"},
	{name: "set", ident: "Set"},
	{name: "setnx", ident: "SetNX"},
	{name: "setex", ident: "SetEx"},
	{name: "psetex", ident: "PSetEx"},
	{name: "getset", ident: "GetSet"},
	{name: "getdel", ident: "GetDel"},
	{name: "getex", ident: "GetEx"},
	{name: "mget", ident: "MGet"},
	{name: "mset", ident: "MSet"},
	{name: "msetnx", ident: "MSetNX"},
	{name: "incr", ident: "Incr"},
	{name: "incrby", ident: "IncrBy"},
	{name: "decr", ident: "Decr"},
	{name: "decrby", ident: "DecrBy"},
	{name: "incrbyfloat", ident: "IncrByFloat"},
	{name: "append", ident: "Append"},
	{name: "strlen", ident: "StrLen"},
	{name: "getrange", ident: "GetRange"},
	{name: "setrange", ident: "SetRange"},
	// keys
	{name: "del", ident: "Del"},
	{name: "unlink", ident: "Unlink"},
	{name: "exists", ident: "Exists"},
	{name: "touch", ident: "Touch"},
	{name: "type", ident: "Type"},
	{name: "expire", ident: "Expire"},
	{name: "pexpire", ident: "PExpire"},
	{name: "expireat", ident: "ExpireAt"},
	{name: "pexpireat", ident: "PExpireAt"},
	{name: "ttl", ident: "TTL"},
	{name: "pttl", ident: "PTTL"},
	{name: "expiretime", ident: "ExpireTime"},
	{name: "pexpiretime", ident: "PExpireTime"},
	{name: "persist", ident: "Persist"},
	{name: "dbsize", ident: "DBSize"},
	{name: "scan", ident: "Scan"},
	{name: "flushall", ident: "FlushAll"},
	{name: "flushdb", ident: "FlushDB"},
}

// flagNames maps Redis's COMMAND INFO flag names to Flag constants.
var flagNames = map[string]string{
	"write":             "Write",
	"readonly":          "ReadOnly",
	"denyoom":           "DenyOOM",
	"admin":             "Admin",
	"pubsub":            "PubSub",
	"noscript":          "NoScript",
	"blocking":          "Blocking",
	"loading":           "Loading",
	"stale":             "Stale",
	"skip_monitor":      "SkipMonitor",
	"skip_slowlog":      "SkipSlowlog",
	"asking":            "Asking",
	"fast":              "Fast",
	"no_auth":           "NoAuth",
	"no_mandatory_keys": "NoMandatoryKeys",
	"no_async_loading":  "NoAsyncLoading",
	"no_multi":          "NoMulti",
	"movablekeys":       "MovableKeys",
	"allow_busy":        "AllowBusy",
}
