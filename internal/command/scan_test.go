package command

import (
	"bytes"
	"math"
	"testing"
)

func TestParseScan(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want ScanArgs
		err  string
	}{
		{"zero", []string{"scan", "0"}, ScanArgs{Count: 10}, ""},
		{"cursor", []string{"scan", "17"}, ScanArgs{Cursor: 17, Count: 10}, ""},
		{"minus one", []string{"scan", "-1"}, ScanArgs{Cursor: math.MaxUint64, Count: 10}, ""},
		{"plus", []string{"scan", "+5"}, ScanArgs{Cursor: 5, Count: 10}, ""},
		{"leading zeros", []string{"scan", "007"}, ScanArgs{Cursor: 7, Count: 10}, ""},
		{"empty", []string{"scan", ""}, ScanArgs{Count: 10}, ""},
		{"NUL", []string{"scan", "5\x00abc"}, ScanArgs{Cursor: 5, Count: 10}, ""},
		{"max", []string{"scan", "18446744073709551615"}, ScanArgs{Cursor: math.MaxUint64, Count: 10}, ""},
		{"negative max", []string{"scan", "-18446744073709551615"}, ScanArgs{Cursor: 1, Count: 10}, ""},
		{"options", []string{"scan", "0", "MATCH", "a*", "COUNT", "100", "TYPE", "string"},
			ScanArgs{Match: []byte("a*"), Count: 100, Type: []byte("string")}, ""},
		{"match star", []string{"scan", "0", "match", "*"}, ScanArgs{Count: 10}, ""},
		{"last wins", []string{"scan", "0", "count", "5", "COUNT", "7"}, ScanArgs{Count: 7}, ""},
		{"overflow", []string{"scan", "18446744073709551616"}, ScanArgs{}, "ERR invalid cursor"},
		{"letters", []string{"scan", "abc"}, ScanArgs{}, "ERR invalid cursor"},
		{"space", []string{"scan", " 5"}, ScanArgs{}, "ERR invalid cursor"},
		{"trailing space", []string{"scan", "5 "}, ScanArgs{}, "ERR invalid cursor"},
		{"sign only", []string{"scan", "-"}, ScanArgs{}, "ERR invalid cursor"},
		{"hex", []string{"scan", "0x10"}, ScanArgs{}, "ERR invalid cursor"},
		{"cursor first", []string{"scan", "x", "COUNT", "0"}, ScanArgs{}, "ERR invalid cursor"},
		{"count 0", []string{"scan", "0", "COUNT", "0"}, ScanArgs{}, "ERR syntax error"},
		{"count abc", []string{"scan", "0", "COUNT", "abc"}, ScanArgs{}, "ERR value is not an integer or out of range"},
		{"count missing", []string{"scan", "0", "COUNT"}, ScanArgs{}, "ERR syntax error"},
		{"unknown", []string{"scan", "0", "FOO", "x"}, ScanArgs{}, "ERR syntax error"},
		{"count NUL", []string{"scan", "0", "count\x00x", "5"}, ScanArgs{Count: 5}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseScan(argv(tc.args))
			if got.Cursor != tc.want.Cursor || got.Count != tc.want.Count || !bytes.Equal(got.Match, tc.want.Match) ||
				!bytes.Equal(got.Type, tc.want.Type) || (got.Match == nil) != (tc.want.Match == nil) || errText(err) != tc.err {
				t.Errorf("ParseScan(%q) = %+v, %q; want %+v, %q", tc.args, got, errText(err), tc.want, tc.err)
			}
		})
	}
}
