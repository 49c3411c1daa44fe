package command

import (
	"math"
	"strconv"
	"testing"
)

func parseIntInputs() []string {
	return []string{"0", "-0", "00", "01", "1", "-1", "+1", " 1", "1 ", "", "-", "--1", "1a", "a1", "12345",
		"9223372036854775807", "9223372036854775808", "-9223372036854775808", "-9223372036854775809",
		"18446744073709551615", "18446744073709551616", "99999999999999999999", "000000000000000000001",
		"1\x00", "0x10", "1e3", "1.0", "١"}
}

func TestParseInt(t *testing.T) {
	tests := []struct {
		in   string
		want int64
		ok   bool
	}{
		{"0", 0, true},
		{"-0", 0, false},
		{"00", 0, false},
		{"01", 0, false},
		{"1", 1, true},
		{"-1", -1, true},
		{"+1", 0, false},
		{" 1", 0, false},
		{"1 ", 0, false},
		{"", 0, false},
		{"-", 0, false},
		{"1a", 0, false},
		{"9223372036854775807", math.MaxInt64, true},
		{"9223372036854775808", 0, false},
		{"-9223372036854775808", math.MinInt64, true},
		{"-9223372036854775809", 0, false},
		{"18446744073709551616", 0, false},
		{"99999999999999999999", 0, false},
		{"000000000000000000001", 0, false},
		{"1\x00", 0, false},
	}
	for _, tc := range tests {
		t.Run(strconv.Quote(tc.in), func(t *testing.T) {
			got, ok := ParseInt([]byte(tc.in))
			if got != tc.want || ok != tc.ok {
				t.Errorf("ParseInt(%q) = %d, %v; want %d, %v", tc.in, got, ok, tc.want, tc.ok)
			}
			_, err := ParseIntArg([]byte(tc.in))
			if (err == nil) != tc.ok || (err != nil && err != ErrNotInteger) {
				t.Errorf("ParseIntArg(%q) error %v", tc.in, err)
			}
		})
	}
}

func TestParseIntAllocs(t *testing.T) {
	b := []byte("-9223372036854775808")
	if n := testing.AllocsPerRun(100, func() { ParseInt(b) }); n != 0 {
		t.Errorf("ParseInt allocates %v times", n)
	}
}

func BenchmarkParseInt(b *testing.B) {
	for _, in := range []string{"7", "1700000000000", "-9223372036854775808"} {
		b.Run(in, func(b *testing.B) {
			buf := []byte(in)
			b.ReportAllocs()
			for b.Loop() {
				ParseInt(buf)
			}
		})
	}
}

func TestAddInt(t *testing.T) {
	tests := []struct {
		name       string
		value, inc int64
		want       int64
		err        error
	}{
		{"simple", 1, 2, 3, nil},
		{"max", math.MaxInt64 - 1, 1, math.MaxInt64, nil},
		{"over max", math.MaxInt64, 1, 0, ErrOverflow},
		{"min", math.MinInt64 + 1, -1, math.MinInt64, nil},
		{"under min", math.MinInt64, -1, 0, ErrOverflow},
		{"mixed signs", math.MaxInt64, math.MinInt64, -1, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := AddInt(tc.value, tc.inc)
			if got != tc.want || err != tc.err {
				t.Errorf("AddInt(%d, %d) = %d, %v; want %d, %v", tc.value, tc.inc, got, err, tc.want, tc.err)
			}
		})
	}
}

func TestParseIncrBy(t *testing.T) {
	tests := []struct {
		name string
		in   string
		decr bool
		want int64
		err  error
	}{
		{"incr", "5", false, 5, nil},
		{"decr", "5", true, -5, nil},
		{"decr negative", "-5", true, 5, nil},
		{"decr min", "-9223372036854775808", true, 0, ErrDecrOverflow},
		{"incr min", "-9223372036854775808", false, math.MinInt64, nil},
		{"bad", "x", true, 0, ErrNotInteger},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseIncrBy([]byte(tc.in), tc.decr)
			if got != tc.want || err != tc.err {
				t.Errorf("got %d, %v; want %d, %v", got, err, tc.want, tc.err)
			}
		})
	}
	if ErrDecrOverflow.Error() != "ERR decrement would overflow" {
		t.Error(ErrDecrOverflow)
	}
}

func TestParseSelect(t *testing.T) {
	tests := []struct {
		in   string
		want int
		err  string
	}{
		{"0", 0, ""},
		{"15", 15, ""},
		{"-1", -1, ""},
		{"abc", 0, "ERR value is not an integer or out of range"},
		{"2147483647", 2147483647, ""},
		{"2147483648", 0, "ERR value is out of range, value must between -2147483648 and 2147483647"},
		{"-2147483649", 0, "ERR value is out of range, value must between -2147483648 and 2147483647"},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			got, err := ParseSelect([]byte(tc.in))
			if got != tc.want || errText(err) != tc.err {
				t.Errorf("ParseSelect(%q) = %d, %q; want %d, %q", tc.in, got, errText(err), tc.want, tc.err)
			}
		})
	}
}

func TestCheckStringLength(t *testing.T) {
	const max = 512 << 20
	tests := []struct {
		name      string
		size, add int64
		err       error
	}{
		{"fits", 10, 10, nil},
		{"exactly max", max - 1, 1, nil},
		{"over max", max, 1, ErrStringTooLong},
		{"overflow", math.MaxInt64, 1, ErrStringTooLong},
		{"overflow both", math.MaxInt64, math.MaxInt64, ErrStringTooLong},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if err := CheckStringLength(tc.size, tc.add, max); err != tc.err {
				t.Errorf("got %v, want %v", err, tc.err)
			}
		})
	}
	if ErrStringTooLong.Error() != "ERR string exceeds maximum allowed size (proto-max-bulk-len)" {
		t.Error(ErrStringTooLong)
	}
}

func TestParseSetRangeOffset(t *testing.T) {
	tests := []struct {
		in   string
		want int64
		err  string
	}{
		{"0", 0, ""},
		{"7", 7, ""},
		{"-1", 0, "ERR offset is out of range"},
		{"x", 0, "ERR value is not an integer or out of range"},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			got, err := ParseSetRangeOffset([]byte(tc.in))
			if got != tc.want || errText(err) != tc.err {
				t.Errorf("got %d, %q; want %d, %q", got, errText(err), tc.want, tc.err)
			}
		})
	}
}

func TestSubstr(t *testing.T) {
	tests := []struct {
		name       string
		start, end int64
		n          int
		from, to   int
	}{
		{"whole", 0, -1, 5, 0, 5},
		{"middle", 1, 2, 5, 1, 3},
		{"end beyond", 2, 100, 5, 2, 5},
		{"negative", -3, -2, 5, 2, 4},
		{"both negative reversed", -1, -3, 5, 0, 0},
		{"start beyond end", 3, 1, 5, 0, 0},
		{"empty value", 0, -1, 0, 0, 0},
		{"start far negative", -100, 1, 5, 0, 2},
		{"start past end", 10, 20, 5, 0, 0},
		{"extremes", math.MinInt64, math.MaxInt64, 3, 0, 3},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			from, to := Substr(tc.start, tc.end, tc.n)
			if from != tc.from || to != tc.to {
				t.Errorf("Substr(%d, %d, %d) = [%d, %d); want [%d, %d)", tc.start, tc.end, tc.n, from, to, tc.from, tc.to)
			}
		})
	}
}

// errText returns err's text, "" for nil.
func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
