package server

import (
	"cmp"
	"slices"
	"strings"
	"time"

	"corral/internal/acl"
	"corral/internal/command"
)

// client implements the CLIENT subcommands corral serves.
func (c *Conn) client(spec *command.Spec, args [][]byte) {
	switch spec.ID {
	case command.ClientID:
		c.W.Int(c.id)
	case command.ClientGetName:
		c.srv.mu.Lock()
		name := c.name
		c.srv.mu.Unlock()
		if name == "" {
			c.W.Null()
			return
		}
		c.W.BulkString(name)
	case command.ClientSetName:
		if c.setName(args[2]) {
			c.W.OK()
		}
	case command.ClientSetInfo:
		c.setInfo(args)
	case command.ClientInfo:
		c.srv.mu.Lock()
		line := c.infoLine(c.srv.clock.Now(), spec)
		c.srv.mu.Unlock()
		c.W.Verbatim("txt", line)
	case command.ClientList:
		c.clientList(spec, args)
	case command.ClientHelp:
		command.WriteHelp(&c.W, spec)
	}
}

func (c *Conn) setInfo(args [][]byte) {
	attr, val, err := command.ParseClientSetInfo(args)
	if err != nil {
		c.W.Error(err.Error())
		return
	}
	c.srv.mu.Lock()
	if attr == command.LibName {
		c.libName = string(val)
	} else {
		c.libVer = string(val)
	}
	c.srv.mu.Unlock()
	c.W.OK()
}

// clientList implements CLIENT LIST [TYPE type | ID id ...]. Every corral
// client is a normal one.
func (c *Conn) clientList(spec *command.Spec, args [][]byte) {
	opts, err := command.ParseClientList(args)
	if err != nil {
		c.W.Error(err.Error())
		return
	}
	var b strings.Builder
	if opts.Type == command.ClientAny || opts.Type == command.ClientNormal {
		now := c.srv.clock.Now()
		c.srv.forEachConn(func(o *Conn) {
			if len(opts.IDs) == 0 || slices.Contains(opts.IDs, o.id) {
				var current *command.Spec
				if o == c {
					current = spec
				}
				b.WriteString(o.infoLine(now, current))
			}
		})
	}
	c.W.Verbatim("txt", b.String())
}

// infoLine renders one CLIENT LIST/INFO line in Redis 7.2's format. The
// caller holds srv.mu, which guards every field read here that the
// connection's own goroutine writes (name, library, protocol). current is
// the command the connection is running when it describes itself, nil
// otherwise: like Redis, a client sees its own line with cmd= naming the
// CLIENT INFO or LIST it is running and idle=0.
func (c *Conn) infoLine(now time.Time, current *command.Spec) string {
	last := "NULL"
	if s := c.lastCmd.Load(); s != nil {
		last = s.Name
	}
	idle := now.Sub(time.Unix(0, c.lastAt.Load())) / time.Second
	if current != nil {
		last, idle = current.Name, 0
	}
	var b strings.Builder
	b.WriteString("id=" + itoa(c.id))
	b.WriteString(" addr=" + c.addr + " laddr=" + c.laddr + " fd=0 name=" + c.name)
	b.WriteString(" age=" + itoa(int64(now.Sub(c.created)/time.Second)) + " idle=" + itoa(int64(idle)))
	b.WriteString(" flags=N db=0 sub=0 psub=0 ssub=0 multi=-1")
	b.WriteString(" qbuf=0 qbuf-free=0 argv-mem=0 multi-mem=0 rbs=0 rbp=0")
	b.WriteString(" obl=0 oll=0 omem=0 tot-mem=0 events=r")
	b.WriteString(" cmd=" + last + " user=" + cmp.Or(c.userName, acl.DefaultName) + " redir=-1 resp=" + itoa(int64(c.Proto())))
	b.WriteString(" lib-name=" + c.libName + " lib-ver=" + c.libVer + "\n")
	return b.String()
}
