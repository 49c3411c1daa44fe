package command

import (
	"slices"
	"testing"
)

func TestParseCommandList(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want []string // names matched among a few probes
		err  error
	}{
		{"all", []string{"command", "list"}, []string{"get", "client", "client|setname", "incrbyfloat"}, nil},
		{"aclcat", []string{"command", "list", "FILTERBY", "ACLCAT", "String"}, []string{"get", "incrbyfloat"}, nil},
		{"aclcat with @", []string{"command", "list", "filterby", "aclcat", "@string"}, nil, nil},
		{"pattern", []string{"command", "list", "filterby", "pattern", "CLIENT|*"}, []string{"client|setname"}, nil},
		{"module", []string{"command", "list", "filterby", "module", "x"}, nil, nil},
		{"unknown type", []string{"command", "list", "filterby", "foo", "x"}, nil, ErrSyntax},
		{"short", []string{"command", "list", "filterby", "aclcat"}, nil, ErrSyntax},
		{"long", []string{"command", "list", "filterby", "aclcat", "a", "b"}, nil, ErrSyntax},
		{"not filterby", []string{"command", "list", "foo", "a", "b"}, nil, ErrSyntax},
	}
	probes := []ID{Get, Client, ClientSetName, IncrByFloat}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f, err := ParseCommandList(argv(tc.args))
			if err != tc.err {
				t.Fatalf("err %v, want %v", err, tc.err)
			}
			if err != nil {
				return
			}
			var got []string
			for _, id := range probes {
				if f.Match(ByID(id)) {
					got = append(got, id.String())
				}
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("matched %q, want %q", got, tc.want)
			}
		})
	}
}
