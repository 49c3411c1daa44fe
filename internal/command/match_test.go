package command

import (
	"strings"
	"testing"
)

func TestMatch(t *testing.T) {
	tests := []struct {
		pattern, s string
		nocase     bool
		want       bool
	}{
		{"*", "anything", false, true},
		{"*", "", false, false}, // callers skip matching for "*"
		{"", "", false, true},
		{"h?llo", "hello", false, true},
		{"h?llo", "hllo", false, false},
		{"h*llo", "heeeello", false, true},
		{"h[ae]llo", "hallo", false, true},
		{"h[ae]llo", "hillo", false, false},
		{"h[^e]llo", "hallo", false, true},
		{"h[^e]llo", "hello", false, false},
		{"h[a-b]llo", "hbllo", false, true},
		{"h[b-a]llo", "hbllo", false, true},
		{"a\\*c", "a*c", false, true},
		{"a\\*c", "abc", false, false},
		{"a[\\]]c", "a]c", false, true},
		{"a[", "a", false, false},
		{"[^", "x", false, true},
		{"a[a-]c", "a]c", false, false}, // range a..], then 'c' inside the unclosed class
		{"a[a-]c", "a]", false, true},
		{"\\", "\\", false, true},
		{"HELLO", "hello", true, true},
		{"HELLO", "hello", false, false},
		{"[A-Z]ello", "hello", true, true},
		{"[\x80-\xff]", "\x90", false, true},
		{"[\x00-\x7f]", "\x90", false, false},
		{"[a-\xff]", "b", false, false}, // signed char: range \xff..a
		{"*a*a*a*a*b", strings.Repeat("a", 40), false, false},
	}
	for _, tc := range tests {
		t.Run(tc.pattern+"|"+tc.s, func(t *testing.T) {
			if got := Match([]byte(tc.pattern), []byte(tc.s), tc.nocase); got != tc.want {
				t.Errorf("Match(%q, %q, %v) = %v, want %v", tc.pattern, tc.s, tc.nocase, got, tc.want)
			}
		})
	}
}

func TestMatchAllocs(t *testing.T) {
	p, s := []byte("user:*:[a-f]?x"), []byte("user:1234:bzx")
	if n := testing.AllocsPerRun(100, func() { Match(p, s, false) }); n != 0 {
		t.Errorf("Match allocates %v times", n)
	}
}

func BenchmarkMatch(b *testing.B) {
	p, s := []byte("user:*:[a-f]?x"), []byte("user:1234567:bzx")
	b.ReportAllocs()
	for b.Loop() {
		Match(p, s, false)
	}
}
