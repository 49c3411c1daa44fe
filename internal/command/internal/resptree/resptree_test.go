package resptree

import (
	"bytes"
	"testing"
)

func TestRoundTrip(t *testing.T) {
	tests := []struct {
		name string
		in   string
	}{
		{"simple", "+OK\r\n"},
		{"error", "-ERR x\r\n"},
		{"int", ":-12\r\n"},
		{"bulk", "$3\r\na\r\n\r\n"},
		{"null bulk", "$-1\r\n"},
		{"null array", "*-1\r\n"},
		{"resp3 null", "_\r\n"},
		{"array", "*2\r\n$1\r\na\r\n:1\r\n"},
		{"map", "%1\r\n$1\r\nk\r\n~2\r\n+a\r\n+b\r\n"},
		{"double", ",1.5\r\n"},
		{"verbatim", "=7\r\ntxt:abc\r\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			v, err := Parse([]byte(tc.in))
			if err != nil {
				t.Fatal(err)
			}
			if got := v.Bytes(); !bytes.Equal(got, []byte(tc.in)) {
				t.Errorf("got %q", got)
			}
		})
	}
	if _, err := Parse([]byte("+OK\r\n+x\r\n")); err == nil {
		t.Error("trailing data accepted")
	}
	if _, err := Parse([]byte("?\r\n")); err == nil {
		t.Error("unknown type accepted")
	}
}

func TestToRESP2(t *testing.T) {
	v, _ := Parse([]byte("%2\r\n$1\r\nk\r\n~1\r\n+a\r\n$1\r\nd\r\n,1.5\r\n"))
	want := "*4\r\n$1\r\nk\r\n*1\r\n+a\r\n$1\r\nd\r\n$3\r\n1.5\r\n"
	if got := ToRESP2(v).Bytes(); string(got) != want {
		t.Errorf("got %q", got)
	}
	m, i, ok := v.Lookup("d")
	if !ok || i != 3 || m.Text() != "1.5" {
		t.Errorf("Lookup: %v %d %v", m, i, ok)
	}
}
