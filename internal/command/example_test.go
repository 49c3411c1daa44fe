package command_test

import (
	"fmt"

	"corral/internal/command"
	"corral/internal/resp"
)

// A server resolves each command, checks it the way Redis does, parses its
// options and replies with Redis's exact texts.
func Example() {
	args := [][]byte{[]byte("SET"), []byte("k"), []byte("v"), []byte("EX"), []byte("60"), []byte("NX")}
	spec, msg := command.Resolve(args)
	fmt.Println(spec.Name, spec.ID == command.Set, spec.HasFlag(command.Write|command.Keyed), msg == "")

	set, err := command.ParseSet(args, 1_700_000_000_000)
	fmt.Println(set.NX, set.ExpireAtMs, err)

	_, err = command.ParseSet([][]byte{[]byte("set"), []byte("k"), []byte("v"), []byte("EX"), []byte("0")}, 0)
	fmt.Println(err)

	_, msg = command.Resolve([][]byte{[]byte("client"), []byte("kill")})
	fmt.Println(msg)

	w := &resp.Writer{Proto: 2}
	w.Error(command.ErrArity(command.Lookup([]byte("get"))))
	fmt.Printf("%q\n", w.Bytes())
	// Output:
	// set true true true
	// true 1700000060000 <nil>
	// ERR invalid expire time in 'set' command
	// ERR unknown subcommand 'kill'. Try CLIENT HELP.
	// "-ERR wrong number of arguments for 'get' command\r\n"
}
