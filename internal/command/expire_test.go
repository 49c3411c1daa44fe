package command

import (
	"math"
	"testing"
)

func TestParseExpire(t *testing.T) {
	tests := []struct {
		name     string
		args     []string
		unit     int64
		absolute bool
		want     int64
		cond     ExpireCond
		err      string
	}{
		{"expire", []string{"expire", "k", "10"}, 1000, false, testNow + 10_000, 0, ""},
		{"expire negative", []string{"expire", "k", "-10"}, 1000, false, testNow - 10_000, 0, ""},
		{"pexpire", []string{"pexpire", "k", "10"}, 1, false, testNow + 10, 0, ""},
		{"expireat", []string{"expireat", "k", "10"}, 1000, true, 10_000, 0, ""},
		{"pexpireat max", []string{"pexpireat", "k", "9223372036854775807"}, 1, true, math.MaxInt64, 0, ""},
		{"pexpireat min", []string{"pexpireat", "k", "-9223372036854775808"}, 1, true, math.MinInt64, 0, ""},
		{"xx gt", []string{"expire", "k", "10", "xx", "GT"}, 1000, false, testNow + 10_000, ExpireXX | ExpireGT, ""},
		{"nx", []string{"expire", "k", "10", "NX"}, 1000, false, testNow + 10_000, ExpireNX, ""},
		{"nx repeated", []string{"expire", "k", "10", "NX", "nx"}, 1000, false, testNow + 10_000, ExpireNX, ""},
		{"nx xx", []string{"expire", "k", "10", "NX", "XX"}, 1000, false, 0, 0, "ERR NX and XX, GT or LT options at the same time are not compatible"},
		{"lt nx", []string{"expire", "k", "10", "LT", "NX"}, 1000, false, 0, 0, "ERR NX and XX, GT or LT options at the same time are not compatible"},
		{"gt lt", []string{"expire", "k", "10", "GT", "LT"}, 1000, false, 0, 0, "ERR GT and LT options at the same time are not compatible"},
		{"unknown", []string{"expire", "k", "10", "FOO"}, 1000, false, 0, 0, "ERR Unsupported option FOO"},
		{"unknown after conflict", []string{"expire", "k", "10", "NX", "XX", "FOO"}, 1000, false, 0, 0, "ERR Unsupported option FOO"},
		{"options before integer", []string{"expire", "k", "abc", "NX", "XX"}, 1000, false, 0, 0, "ERR NX and XX, GT or LT options at the same time are not compatible"},
		{"abc", []string{"expire", "k", "abc"}, 1000, false, 0, 0, "ERR value is not an integer or out of range"},
		{"seconds overflow", []string{"EXPIRE", "k", "9223372036854776"}, 1000, false, 0, 0, "ERR invalid expire time in 'expire' command"},
		{"seconds underflow", []string{"expire", "k", "-9223372036854776"}, 1000, false, 0, 0, "ERR invalid expire time in 'expire' command"},
		{"sum overflow", []string{"pexpire", "k", "9223372036854775807"}, 1, false, 0, 0, "ERR invalid expire time in 'pexpire' command"},
		{"expireat overflow", []string{"expireat", "k", "9223372036854775807"}, 1000, true, 0, 0, "ERR invalid expire time in 'expireat' command"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, cond, err := ParseExpire(argv(tc.args), testNow, tc.unit, tc.absolute)
			if got != tc.want || cond != tc.cond || errText(err) != tc.err {
				t.Errorf("ParseExpire(%q) = %d, %b, %q; want %d, %b, %q", tc.args, got, cond, errText(err), tc.want, tc.cond, tc.err)
			}
		})
	}
}

func TestExpireCondAllows(t *testing.T) {
	tests := []struct {
		name     string
		cond     ExpireCond
		has      bool
		cur, new int64
		want     bool
	}{
		{"none", 0, false, 0, 5, true},
		{"nx without ttl", ExpireNX, false, 0, 5, true},
		{"nx with ttl", ExpireNX, true, 10, 5, false},
		{"xx without ttl", ExpireXX, false, 0, 5, false},
		{"xx with ttl", ExpireXX, true, 10, 5, true},
		{"gt without ttl", ExpireGT, false, 0, 5, false},
		{"gt later", ExpireGT, true, 10, 11, true},
		{"gt equal", ExpireGT, true, 10, 10, false},
		{"lt without ttl", ExpireLT, false, 0, 5, true},
		{"lt earlier", ExpireLT, true, 10, 9, true},
		{"lt equal", ExpireLT, true, 10, 10, false},
		{"xx gt without ttl", ExpireXX | ExpireGT, false, 0, 5, false},
		{"xx lt with ttl", ExpireXX | ExpireLT, true, 10, 5, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.cond.Allows(tc.has, tc.cur, tc.new); got != tc.want {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
}
