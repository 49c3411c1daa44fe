package report

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Ms formats a latency given in milliseconds with three significant
// digits: "0.412ms", "12.3ms", "1.23s".
func Ms(ms float64) string {
	switch {
	case math.IsNaN(ms):
		return "-"
	case ms >= 1000:
		return sig3(ms/1000) + "s"
	case ms >= 0.001 || ms == 0:
		return sig3(ms) + "ms"
	}
	return sig3(ms*1000) + "µs"
}

// sig3 formats v with at most three significant digits, without exponent
// or trailing zeros.
func sig3(v float64) string {
	var s string
	switch {
	case v == 0:
		return "0"
	case v >= 100:
		return strconv.FormatFloat(v, 'f', 0, 64)
	case v >= 10:
		s = strconv.FormatFloat(v, 'f', 1, 64)
	case v >= 1:
		s = strconv.FormatFloat(v, 'f', 2, 64)
	default:
		s = strconv.FormatFloat(v, 'f', 3, 64)
	}
	s = strings.TrimRight(s, "0")
	return strings.TrimSuffix(s, ".")
}

// Count formats n with thousands separators: 1234567 -> "1,234,567".
func Count(n float64) string {
	neg := n < 0
	s := strconv.FormatFloat(math.Abs(math.Round(n)), 'f', 0, 64)
	var b strings.Builder
	if neg {
		b.WriteByte('-')
	}
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

// Ratio formats a hit ratio as a percentage, "-" when unknown.
func Ratio(r *float64) string {
	if r == nil {
		return "-"
	}
	return fmt.Sprintf("%.1f%%", *r*100)
}

// Loads formats an origin load count, "-" when unknown.
func Loads(n *int64) string {
	if n == nil {
		return "-"
	}
	return Count(float64(*n))
}

// Times formats how many times larger a is than b: "85x", "1.4x"; "-"
// when b is zero.
func Times(a, b float64) string {
	if b <= 0 {
		if a > 0 {
			return "∞"
		}
		return "-"
	}
	x := a / b
	if x >= 10 {
		return strconv.FormatFloat(x, 'f', 0, 64) + "x"
	}
	return strconv.FormatFloat(x, 'f', 1, 64) + "x"
}
