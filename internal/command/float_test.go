package command

import (
	"math"
	"strconv"
	"strings"
	"testing"
)

func TestParseFloat(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want float64
		ok   bool
	}{
		{"int", "10", 10, true},
		{"decimal", "10.50", 10.5, true},
		{"exponent", "5.0e3", 5000, true},
		{"plus exponent", "1e+5", 1e5, true},
		{"leading point", ".5", 0.5, true},
		{"trailing point", "5.", 5, true},
		{"plus sign", "+1", 1, true},
		{"negative zero", "-.0", math.Copysign(0, -1), true},
		{"hex", "0x10", 16, true},
		{"hex fraction", "0x1.8p1", 3, true},
		{"hex point first", "0x.8", 0.5, true},
		{"inf", "inf", math.Inf(1), true},
		{"infinity", "-Infinity", math.Inf(-1), true},
		{"long double range", "1e400", math.Inf(1), true},
		{"long double tiny", "1e-400", 0, true},
		{"nan", "nan", 0, false},
		{"nan payload", "nan(1)", 0, false},
		{"empty", "", 0, false},
		{"space", " 1", 0, false},
		{"trailing space", "1 ", 0, false},
		{"bare exponent", "1e", 0, false},
		{"bare hex", "0x", 0, false},
		{"hex bare p", "0x1p", 0, false},
		{"underscore", "1_0", 0, false},
		{"NUL", "1\x00", 0, false},
		{"overflow", "1e5000", 0, false},
		{"underflow", "1e-5000", 0, false},
		{"hex overflow", "0x1p16384", 0, false},
		{"half smallest denormal", "0x1p-16446", 0, false},
		{"smallest denormal", "0x1p-16445", 0, true},
		{"too long", "1" + strings.Repeat("0", 5119), 0, false},
		{"just fits", "1." + strings.Repeat("0", 5117), 1, true},
		{"sign only", "-", 0, false},
		{"point only", ".", 0, false},
		{"infinit", "infinit", 0, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := ParseFloat([]byte(tc.in))
			if ok != tc.ok || (ok && (got != tc.want || math.Signbit(got) != math.Signbit(tc.want))) {
				t.Errorf("ParseFloat(%q) = %v, %v; want %v, %v", tc.in, got, ok, tc.want, tc.ok)
			}
		})
	}
}

func TestAppendFloat(t *testing.T) {
	tests := []struct {
		in   float64
		want string
	}{
		{0, "0"},
		{math.Copysign(0, -1), "0"},
		{-1e-20, "0"},
		{1.5, "1.5"},
		{10.5, "10.5"},
		{5200, "5200"},
		{-3, "-3"},
		{0.1, "0.10000000000000001"},
		{1e20, "100000000000000000000"},
		{math.Inf(1), "inf"},
		{math.Inf(-1), "-inf"},
		{6e-18, "0.00000000000000001"},
		{4e-18, "0"},
	}
	for _, tc := range tests {
		t.Run(strconv.FormatFloat(tc.in, 'g', -1, 64), func(t *testing.T) {
			if got := string(AppendFloat([]byte("x"), tc.in)); got != "x"+tc.want {
				t.Errorf("AppendFloat(%v) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestIncrFloat(t *testing.T) {
	tests := []struct {
		name   string
		cur    string
		exists bool
		incr   string
		want   string
		err    error
	}{
		{"missing key", "", false, "0.1", "0.1", nil},
		{"long double sum", "0.1", true, "0.2", "0.3", nil},
		{"redis doc example", "10.50", true, "0.1", "10.6", nil},
		{"exponent", "5.0e3", true, "2.0e2", "5200", nil},
		{"negative zero result", "1", true, "-1", "0", nil},
		{"tiny negative", "", false, "-1e-20", "0", nil},
		{"beyond float64", "", false, "1e400",
			"10000000000000000000281880683947586514586453433629052038625910693539685534008629" + "", nil},
		{"inf operand", "1", true, "inf", "", ErrNaNOrInfinity},
		{"inf stored", "inf", true, "1", "", ErrNaNOrInfinity},
		{"overflow", "1e4932", true, "1e4932", "", ErrNaNOrInfinity},
		{"bad incr", "1", true, "x", "", ErrNotFloat},
		{"bad stored", "x", true, "1", "", ErrNotFloat},
		{"empty stored", "", true, "1", "", ErrNotFloat},
		{"int64 exact", "9223372036854775807", true, "1", "9223372036854775808", nil},
		{"hex", "", false, "0x1.8p1", "3", nil},
		{"below half a unit in the 17th place", "", false, "0.000000000000000005", "0", nil},
		{"round up in the 17th place", "", false, "0.000000000000000015", "0.00000000000000002", nil},
		{"round down in the 17th place", "", false, "0.000000000000000025", "0.00000000000000002", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := IncrFloat([]byte("x"), []byte(tc.cur), tc.exists, []byte(tc.incr))
			if err != tc.err {
				t.Fatalf("err %v, want %v", err, tc.err)
			}
			if err != nil {
				return
			}
			g := string(got[1:])
			if len(g) > len(tc.want) && tc.name == "beyond float64" {
				g = g[:len(tc.want)]
			}
			if g != tc.want || got[0] != 'x' {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}
