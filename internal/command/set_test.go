package command

import "testing"

const testNow = int64(1_700_000_000_000)

func TestParseSet(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want SetArgs
		err  string
	}{
		{"plain", []string{"set", "k", "v"}, SetArgs{}, ""},
		{"ex", []string{"set", "k", "v", "EX", "10"}, SetArgs{ExpireAtMs: testNow + 10_000}, ""},
		{"px", []string{"set", "k", "v", "px", "10"}, SetArgs{ExpireAtMs: testNow + 10}, ""},
		{"exat", []string{"set", "k", "v", "EXAT", "5"}, SetArgs{ExpireAtMs: 5000}, ""},
		{"pxat", []string{"set", "k", "v", "PXAT", "1"}, SetArgs{ExpireAtMs: 1}, ""},
		{"flags", []string{"set", "k", "v", "NX", "GET", "KEEPTTL"}, SetArgs{NX: true, Get: true, KeepTTL: true}, ""},
		{"xx", []string{"set", "k", "v", "xx"}, SetArgs{XX: true}, ""},
		{"repeated ex", []string{"set", "k", "v", "EX", "1", "EX", "2"}, SetArgs{ExpireAtMs: testNow + 2000}, ""},
		{"repeated nx", []string{"set", "k", "v", "NX", "nx"}, SetArgs{NX: true}, ""},
		{"nx NUL", []string{"set", "k", "v", "nx\x00zz"}, SetArgs{NX: true}, ""},
		{"ex px", []string{"set", "k", "v", "EX", "10", "PX", "10"}, SetArgs{}, "ERR syntax error"},
		{"nx xx", []string{"set", "k", "v", "NX", "XX"}, SetArgs{}, "ERR syntax error"},
		{"keepttl ex", []string{"set", "k", "v", "KEEPTTL", "EX", "1"}, SetArgs{}, "ERR syntax error"},
		{"ex keepttl", []string{"set", "k", "v", "EX", "1", "KEEPTTL"}, SetArgs{}, "ERR syntax error"},
		{"ex missing value", []string{"set", "k", "v", "EX"}, SetArgs{}, "ERR syntax error"},
		{"persist", []string{"set", "k", "v", "PERSIST"}, SetArgs{}, "ERR syntax error"},
		{"unknown", []string{"set", "k", "v", "FOO"}, SetArgs{}, "ERR syntax error"},
		{"syntax before value", []string{"set", "k", "v", "EX", "abc", "FOO"}, SetArgs{}, "ERR syntax error"},
		{"ex 0", []string{"set", "k", "v", "EX", "0"}, SetArgs{}, "ERR invalid expire time in 'set' command"},
		{"ex negative", []string{"set", "k", "v", "EX", "-1"}, SetArgs{}, "ERR invalid expire time in 'set' command"},
		{"ex abc", []string{"set", "k", "v", "EX", "abc"}, SetArgs{}, "ERR value is not an integer or out of range"},
		{"ex huge", []string{"set", "k", "v", "EX", "9999999999999999"}, SetArgs{}, "ERR invalid expire time in 'set' command"},
		{"ex sum overflow", []string{"set", "k", "v", "EX", "9223372036854775"}, SetArgs{}, "ERR invalid expire time in 'set' command"},
		{"px sum overflow", []string{"set", "k", "v", "PX", "9223372036854775807"}, SetArgs{}, "ERR invalid expire time in 'set' command"},
		{"exat max", []string{"set", "k", "v", "EXAT", "9223372036854775"}, SetArgs{ExpireAtMs: 9223372036854775000}, ""},
		{"exat 0", []string{"set", "k", "v", "EXAT", "0"}, SetArgs{}, "ERR invalid expire time in 'set' command"},
		{"upper-case name", []string{"SET", "k", "v", "EX", "0"}, SetArgs{}, "ERR invalid expire time in 'set' command"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseSet(argv(tc.args), testNow)
			if got != tc.want || errText(err) != tc.err {
				t.Errorf("ParseSet(%q) = %+v, %q; want %+v, %q", tc.args, got, errText(err), tc.want, tc.err)
			}
		})
	}
}

func TestParseGetEx(t *testing.T) {
	tests := []struct {
		name      string
		args      []string
		want      GetExArgs
		err       string
		expireErr string
	}{
		{"plain", []string{"getex", "k"}, GetExArgs{}, "", ""},
		{"persist", []string{"getex", "k", "PERSIST"}, GetExArgs{Persist: true}, "", ""},
		{"ex", []string{"getex", "k", "EX", "10"}, GetExArgs{ExpireAtMs: testNow + 10_000, HasExpire: true}, "", ""},
		{"pxat past", []string{"getex", "k", "PXAT", "1"}, GetExArgs{ExpireAtMs: 1, HasExpire: true}, "", ""},
		{"nx", []string{"getex", "k", "NX"}, GetExArgs{}, "ERR syntax error", ""},
		{"keepttl", []string{"getex", "k", "KEEPTTL"}, GetExArgs{}, "ERR syntax error", ""},
		{"persist ex", []string{"getex", "k", "PERSIST", "EX", "1"}, GetExArgs{}, "ERR syntax error", ""},
		{"ex persist", []string{"getex", "k", "EX", "1", "PERSIST"}, GetExArgs{}, "ERR syntax error", ""},
		{"ex abc deferred", []string{"getex", "k", "EX", "abc"}, GetExArgs{}, "", "ERR value is not an integer or out of range"},
		{"ex 0 deferred", []string{"getex", "k", "EX", "0"}, GetExArgs{}, "", "ERR invalid expire time in 'getex' command"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseGetEx(argv(tc.args), testNow)
			gotExpireErr := errText(got.ExpireErr)
			got.ExpireErr = nil
			if got != tc.want || errText(err) != tc.err || gotExpireErr != tc.expireErr {
				t.Errorf("ParseGetEx(%q) = %+v, %q, expire %q; want %+v, %q, %q",
					tc.args, got, errText(err), gotExpireErr, tc.want, tc.err, tc.expireErr)
			}
		})
	}
}

func TestParseSetEx(t *testing.T) {
	tests := []struct {
		name string
		args []string
		unit int64
		want int64
		err  string
	}{
		{"setex", []string{"setex", "k", "10", "v"}, 1000, testNow + 10_000, ""},
		{"psetex", []string{"psetex", "k", "10", "v"}, 1, testNow + 10, ""},
		{"setex 0", []string{"SETEX", "k", "0", "v"}, 1000, 0, "ERR invalid expire time in 'setex' command"},
		{"psetex 0", []string{"PSETEX", "k", "0", "v"}, 1, 0, "ERR invalid expire time in 'psetex' command"},
		{"setex abc", []string{"setex", "k", "abc", "v"}, 1000, 0, "ERR value is not an integer or out of range"},
		{"setex overflow", []string{"setex", "k", "9223372036854775", "v"}, 1000, 0, "ERR invalid expire time in 'setex' command"},
		{"psetex overflow", []string{"psetex", "k", "9223372036854775807", "v"}, 1, 0, "ERR invalid expire time in 'psetex' command"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseSetEx(argv(tc.args), testNow, tc.unit)
			if got != tc.want || errText(err) != tc.err {
				t.Errorf("got %d, %q; want %d, %q", got, errText(err), tc.want, tc.err)
			}
		})
	}
}
