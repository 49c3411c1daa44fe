package command

import (
	"math"
	"math/big"
	"strconv"
)

// Redis parses INCRBYFLOAT's operands with strtold into an x87 80-bit long
// double (64-bit significand, exponents to ±16383) and formats the sum
// with "%.17Lf", trimming trailing zeros. Go has no long double, so the
// exact path (IncrFloat) emulates it with math/big at 64 bits of
// precision; ParseFloat and AppendFloat are float64 approximations.

const (
	// maxFloatLen: string2ld rejects inputs of MAX_LONG_DOUBLE_CHARS
	// (5 KiB) bytes or more.
	maxFloatLen = 5 * 1024
	// ldPrec is the long double significand precision in bits.
	ldPrec = 64
	// ldMaxExp: finite long doubles are below 2^16384 (big.Float exponent).
	ldMaxExp = 16384
	// ldMinExp: values below 2^-16446 (half the smallest denormal) round
	// to zero, which string2ld rejects as an underflow.
	ldMinExp = -16445
)

// ParseFloat reports whether Redis 7.0 accepts b as a float operand of
// INCRBYFLOAT (string2ld: strtold must consume every byte; no leading
// space, no NaN, no overflow to infinity, no underflow to zero; "inf" and
// "infinity" in any case are accepted, and so are hexadecimal floats
// such as "0x1.8p1" and "0x10"), and returns its value rounded to float64.
// Values Redis holds as long doubles beyond float64's range come back as
// ±Inf or ±0 with true; use IncrFloat for exact INCRBYFLOAT results.
func ParseFloat(b []byte) (float64, bool) {
	n, ok := scanFloat(b)
	if !ok {
		return 0, false
	}
	if n.inf {
		return math.Inf(n.sign()), true
	}
	if n.zero {
		if n.neg {
			return math.Copysign(0, -1), true
		}
		return 0, true
	}
	if !n.hex {
		// Fast path: strconv rounds decimal input correctly to float64;
		// inputs within float64's normal range are within long double's.
		f, err := strconv.ParseFloat(string(b), 64)
		if err == nil && f != 0 && !math.IsInf(f, 0) {
			return f, true
		}
	}
	x, ok := n.longDouble()
	if !ok {
		return 0, false
	}
	f, _ := x.Float64()
	return f, true
}

// AppendFloat appends f formatted as Redis formats INCRBYFLOAT results
// (ld2string in LD_STR_HUMAN mode): "%.17f", trailing zeros and a trailing
// '.' removed, "-0" written as "0", infinities as "inf" and "-inf". The
// digits are those of the float64 f; Redis formats a long double, so for
// the same inputs its sum can differ in the last digits (0.1+0.2 is "0.3"
// in Redis, "0.30000000000000004" here). IncrFloat has no such difference.
func AppendFloat(dst []byte, f float64) []byte {
	switch {
	case math.IsInf(f, 1):
		return append(dst, "inf"...)
	case math.IsInf(f, -1):
		return append(dst, "-inf"...)
	}
	start := len(dst)
	dst = strconv.AppendFloat(dst, f, 'f', 17, 64)
	return trimFloat(dst, start)
}

// trimFloat applies ld2string's human-friendly trimming to dst[start:].
func trimFloat(dst []byte, start int) []byte {
	end := len(dst)
	for end > start && dst[end-1] == '0' {
		end--
	}
	if end > start && dst[end-1] == '.' {
		end--
	}
	dst = dst[:end]
	if string(dst[start:]) == "-0" {
		dst = append(dst[:start], '0')
	}
	return dst
}

// IncrFloat performs INCRBYFLOAT's arithmetic exactly as Redis 7.0 on
// x86-64: cur is the key's current value (exists false for a missing key,
// which counts as 0), incr the increment argument. It returns the new
// value, which is both the reply and the value to store, appended to dst;
// ErrNotFloat when either operand is rejected; ErrNaNOrInfinity when the
// sum is not finite. The caller checks the key's type first (WRONGTYPE).
//
// Inputs are rounded to 64-bit significands with round-half-even, summed
// with one rounding, and printed with the exact decimal expansion, as glibc
// and the x87 unit do. One theoretical difference: Redis's denormal long
// doubles (below 2^-16382) carry fewer significant bits than ours; they
// print as "0" either way, and the underflow limit itself is exact.
func IncrFloat(dst []byte, cur []byte, exists bool, incr []byte) ([]byte, error) {
	value := new(big.Float).SetPrec(ldPrec)
	if exists {
		v, ok := parseLongDouble(cur)
		if !ok {
			return dst, ErrNotFloat
		}
		value = v
	}
	delta, ok := parseLongDouble(incr)
	if !ok {
		return dst, ErrNotFloat
	}
	if value.IsInf() || delta.IsInf() {
		return dst, ErrNaNOrInfinity
	}
	sum := new(big.Float).SetPrec(ldPrec).Add(value, delta)
	if sum.MantExp(nil) > ldMaxExp {
		return dst, ErrNaNOrInfinity
	}
	start := len(dst)
	dst = sum.Append(dst, 'f', 17)
	return trimFloat(dst, start), nil
}

// parseLongDouble parses b as string2ld does, rounded to a long double.
func parseLongDouble(b []byte) (*big.Float, bool) {
	n, ok := scanFloat(b)
	if !ok {
		return nil, false
	}
	return n.longDouble()
}
