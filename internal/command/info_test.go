package command

import (
	"bytes"
	"slices"
	"strings"
	"testing"

	"corral/internal/command/internal/resptree"
	"corral/internal/resp"
)

func TestWriteInfoProto(t *testing.T) {
	for _, s := range List() {
		for _, proto := range []int{0, 2, 3} {
			w := &resp.Writer{Proto: proto}
			WriteInfo(w, s)
			v, err := resptree.Parse(w.Bytes())
			if err != nil {
				t.Fatalf("%s RESP%d info: %v", s.Name, proto, err)
			}
			if v.Kind != '*' || len(v.Elems) != 10 || string(v.Elems[0].Str) != s.Name {
				t.Errorf("%s RESP%d info: %q", s.Name, proto, w.Bytes())
			}
			flagsKind := v.Elems[2].Kind
			if (proto == 3) != (flagsKind == '~') {
				t.Errorf("%s RESP%d info: flags type %q", s.Name, proto, flagsKind)
			}
			w = &resp.Writer{Proto: proto}
			WriteDocs(w, s)
			v, err = resptree.Parse(w.Bytes())
			if err != nil {
				t.Fatalf("%s RESP%d docs: %v", s.Name, proto, err)
			}
			if (proto == 3) != (v.Kind == '%') {
				t.Errorf("%s RESP%d docs: type %q", s.Name, proto, v.Kind)
			}
			if !bytes.Equal(resptree.ToRESP2(v).Bytes(), docsBytes(s, 2)) {
				t.Errorf("%s: RESP3 docs do not convert to the RESP2 ones", s.Name)
			}
		}
	}
}

func docsBytes(s *Spec, proto int) []byte {
	w := &resp.Writer{Proto: proto}
	WriteDocs(w, s)
	return w.Bytes()
}

// TestContainersListOurSubcommands checks that CLIENT and COMMAND list
// exactly the subcommands we serve, in INFO and in DOCS.
func TestContainersListOurSubcommands(t *testing.T) {
	for _, id := range []ID{Client, Command} {
		s := ByID(id)
		var want []string
		for _, sub := range s.Subcommands() {
			want = append(want, sub.Name)
		}
		for _, proto := range []int{2, 3} {
			w := &resp.Writer{Proto: proto}
			WriteInfo(w, s)
			v, _ := resptree.Parse(w.Bytes())
			var got []string
			for _, e := range v.Elems[9].Elems {
				got = append(got, string(e.Elems[0].Str))
			}
			if !slices.Equal(got, want) {
				t.Errorf("%s RESP%d INFO subcommands %q, want %q", s.Name, proto, got, want)
			}
			w = &resp.Writer{Proto: proto}
			WriteDocs(w, s)
			v, _ = resptree.Parse(w.Bytes())
			m, _, _ := v.Lookup("subcommands")
			got = nil
			for i := 0; i < len(m.Elems); i += 2 {
				got = append(got, string(m.Elems[i].Str))
			}
			if !slices.Equal(got, want) {
				t.Errorf("%s RESP%d DOCS subcommands %q, want %q", s.Name, proto, got, want)
			}
		}
	}
}

// TestSetInfoMetadata pins CLIENT SETINFO's hand-made 7.2 metadata.
func TestSetInfoMetadata(t *testing.T) {
	s := ByID(ClientSetInfo)
	w := &resp.Writer{Proto: 3}
	WriteInfo(w, s)
	want := "*10\r\n$14\r\nclient|setinfo\r\n:4\r\n~3\r\n+noscript\r\n+loading\r\n+stale\r\n:0\r\n:0\r\n:0\r\n" +
		"~2\r\n+@slow\r\n+@connection\r\n~2\r\n$24\r\nrequest_policy:all_nodes\r\n$29\r\nresponse_policy:all_succeeded\r\n~0\r\n~0\r\n"
	if string(w.Bytes()) != want {
		t.Errorf("info %q", w.Bytes())
	}
	w = &resp.Writer{Proto: 3}
	WriteDocs(w, s)
	v, _ := resptree.Parse(w.Bytes())
	summary, _, _ := v.Lookup("summary")
	since, _, _ := v.Lookup("since")
	args, _, _ := v.Lookup("arguments")
	if summary.Text() != "Sets information specific to the client or connection." || since.Text() != "7.2.0" {
		t.Errorf("docs %q", w.Bytes())
	}
	oneof, _, _ := args.Elems[0].Lookup("arguments")
	var tokens []string
	for _, a := range oneof.Elems {
		tok, _, _ := a.Lookup("token")
		tokens = append(tokens, tok.Text())
	}
	if !slices.Equal(tokens, []string{"LIB-NAME", "LIB-VER"}) {
		t.Errorf("tokens %q", tokens)
	}
}

func TestWriteHelp(t *testing.T) {
	for _, id := range []ID{Client, ClientHelp, ClientSetName} {
		w := &resp.Writer{}
		if !WriteHelp(w, ByID(id)) {
			t.Fatalf("%s: no help", id)
		}
		v, err := resptree.Parse(w.Bytes())
		if err != nil || v.Kind != '*' || len(v.Elems) < 10 || v.Elems[0].Kind != '+' ||
			v.Elems[0].Text() != "CLIENT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:" {
			t.Errorf("%s help: %q", id, w.Bytes())
		}
	}
	w := &resp.Writer{}
	if !WriteHelp(w, ByID(CommandHelp)) || !strings.HasPrefix(string(w.Bytes()), "*") ||
		!strings.Contains(string(w.Bytes()), "+COMMAND <subcommand> [<arg> [value] [opt] ...]. Subcommands are:\r\n") {
		t.Errorf("COMMAND HELP: %q", w.Bytes())
	}
	if WriteHelp(&resp.Writer{}, ByID(Get)) {
		t.Error("help where none is served")
	}
}
