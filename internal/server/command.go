package server

import (
	"corral/internal/command"
)

// command implements COMMAND and its subcommands over corral's table.
func (c *Conn) command(spec *command.Spec, args [][]byte) {
	switch spec.ID {
	case command.Command:
		all := command.All()
		c.W.Array(len(all))
		for _, s := range all {
			command.WriteInfo(&c.W, s)
		}
	case command.CommandCount:
		c.W.Int(int64(command.Count()))
	case command.CommandInfo:
		if len(args) == 2 {
			c.command(command.Lookup([]byte("command")), args[:1])
			return
		}
		c.W.Array(len(args) - 2)
		for _, name := range args[2:] {
			if s := command.LookupFullName(name); s != nil {
				command.WriteInfo(&c.W, s)
			} else {
				c.W.Null()
			}
		}
	case command.CommandDocs:
		var specs []*command.Spec
		if len(args) == 2 {
			specs = command.All()
		} else {
			for _, name := range args[2:] {
				if s := command.LookupFullName(name); s != nil {
					specs = append(specs, s)
				}
			}
		}
		c.W.Map(len(specs))
		for _, s := range specs {
			c.W.BulkString(s.Name)
			command.WriteDocs(&c.W, s)
		}
	case command.CommandHelp:
		command.WriteHelp(&c.W, spec)
	case command.CommandList:
		c.commandList(args)
	}
}

// commandList implements COMMAND LIST [FILTERBY MODULE m | ACLCAT c |
// PATTERN p].
func (c *Conn) commandList(args [][]byte) {
	f, err := command.ParseCommandList(args)
	if err != nil {
		c.W.Error(err.Error())
		return
	}
	var names []string
	for _, s := range command.List() {
		if f.Match(s) {
			names = append(names, s.Name)
		}
	}
	c.W.Array(len(names))
	for _, n := range names {
		c.W.BulkString(n)
	}
}
