package server

import (
	"strconv"

	"corral/internal/acl"
	"corral/internal/command"
)

// RedisVersion is the Redis version corral reports (HELLO, INFO) and whose
// behaviour it reproduces.
const RedisVersion = "7.0.15"

// execConn runs the commands the server answers itself.
func (c *Conn) execConn(spec *command.Spec, args [][]byte) {
	switch spec.ID {
	case command.Ping:
		switch len(args) {
		case 1:
			c.W.Status("PONG")
		case 2:
			c.W.Bulk(args[1])
		default: // arity -1, but Redis takes at most one message
			c.W.Error(command.ErrArity(spec))
		}
	case command.Echo:
		c.W.Bulk(args[1])
	case command.Hello:
		c.hello(args)
	case command.Auth:
		c.auth(args)
	case command.Select:
		c.selectDB(args[1])
	case command.Quit:
		c.W.OK()
		c.closeAfter = true
	case command.Reset:
		c.reset()
		c.W.Status("RESET")
	case command.Time:
		now := c.now
		c.W.Array(2)
		c.W.BulkInt(now.Unix())
		c.W.BulkInt(int64(now.Nanosecond() / 1000))
	case command.Info:
		c.info(args[1:])
	case command.ClientID, command.ClientGetName, command.ClientSetName, command.ClientInfo,
		command.ClientList, command.ClientSetInfo, command.ClientHelp:
		c.client(spec, args)
	case command.Command, command.CommandCount, command.CommandDocs, command.CommandInfo, command.CommandList, command.CommandHelp:
		c.command(spec, args)
	default:
		c.W.Error(command.ErrUnknownCommand(args))
	}
}

// hello implements HELLO [protover [AUTH username password] [SETNAME name]]
// in Redis 7.0's order: options take effect one by one, then a deferred
// option error, then the authentication check, then the protocol switch.
func (c *Conn) hello(args [][]byte) {
	h, err := command.ParseHello(args)
	if err != nil {
		c.W.Error(err.Error())
		return
	}
	for _, o := range h.Opts {
		if o.Auth {
			u := c.checkPassword(o.User, o.Pass)
			if u == nil {
				c.srv.metrics.denied.WithLabelValues("wrongpass").Inc()
				c.W.Error(string(command.ErrWrongPass))
				return
			}
			c.setUser(u)
		} else if !c.setName(o.Name) {
			return
		}
	}
	if h.Err != nil {
		c.W.Error(h.Err.Error())
		return
	}
	if c.user == nil {
		c.W.Error(string(command.ErrHelloNoAuth))
		return
	}
	if h.Proto != 0 {
		c.srv.mu.Lock()
		c.W.Proto = h.Proto
		c.srv.mu.Unlock()
	}
	c.W.Map(7)
	c.W.BulkString("server")
	c.W.BulkString("redis")
	c.W.BulkString("version")
	c.W.BulkString(RedisVersion)
	c.W.BulkString("proto")
	c.W.Int(int64(c.Proto()))
	c.W.BulkString("id")
	c.W.Int(c.id)
	c.W.BulkString("mode")
	c.W.BulkString("standalone")
	c.W.BulkString("role")
	c.W.BulkString("master")
	c.W.BulkString("modules")
	c.W.Array(0)
}

// auth implements AUTH [username] password. The one-argument form
// authenticates the default user, and is an error while the default user
// needs no password, as in Redis.
func (c *Conn) auth(args [][]byte) {
	user, pass, err := command.ParseAuth(args)
	switch {
	case err != nil:
		c.W.Error(err.Error())
		return
	case user == nil && c.srv.users.Default().NoPass():
		c.W.Error(string(command.ErrAuthNoPassword))
		return
	case user == nil:
		user = []byte(acl.DefaultName)
	}
	u := c.checkPassword(user, pass)
	if u == nil {
		c.srv.metrics.denied.WithLabelValues("wrongpass").Inc()
		c.W.Error(string(command.ErrWrongPass))
		return
	}
	c.setUser(u)
	c.W.OK()
}

// checkPassword returns the user that user/pass authenticate, or nil when
// the user does not exist, is off, or the password is wrong. A user with
// nopass takes any password, as in Redis. Password hashes are compared in
// constant time; a missing user costs the same hashing as a present one.
func (c *Conn) checkPassword(user, pass []byte) *acl.User {
	u := c.srv.users.Lookup(user)
	if u == nil {
		noUser.CheckPassword(pass) // the same hashing as a real check
		return nil
	}
	if !u.CheckPassword(pass) {
		return nil
	}
	return u
}

func (c *Conn) selectDB(arg []byte) {
	switch n, err := command.ParseSelect(arg); {
	case err != nil:
		c.W.Error(err.Error())
	case n != 0:
		c.W.Error(string(command.ErrDBIndexOutOfRange))
	default:
		c.W.OK()
	}
}

// reset implements RESET: back to RESP2, no name, database 0, and
// unauthenticated when a password is required.
func (c *Conn) reset() {
	c.srv.mu.Lock()
	c.W.Proto = 2
	c.name = ""
	c.srv.mu.Unlock()
	c.setUser(c.srv.initialUser())
}

// setName validates and sets the client name, replying with Redis's error
// when it is invalid. An empty name clears it.
func (c *Conn) setName(name []byte) bool {
	if err := command.CheckClientName(name); err != nil {
		c.W.Error(err.Error())
		return false
	}
	c.srv.mu.Lock()
	c.name = string(name)
	c.srv.mu.Unlock()
	return true
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// noUser stands in for a user name that does not exist, so that checking
// its password costs what checking a real one does.
var noUser = acl.Default("\x00no such user")
