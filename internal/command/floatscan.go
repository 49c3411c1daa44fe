package command

import "math/big"

// floatNum is a number as strtold reads it, before rounding.
type floatNum struct {
	neg, inf, zero, hex bool
	// mant holds the significant digits (decimal, or hexadecimal when hex)
	// without leading zeros or a point; the value is mant × 10^exp, or
	// mant × 2^exp when hex. exp saturates far beyond any finite range.
	mant []byte
	exp  int64
}

// expLimit bounds parsed exponents; anything beyond is out of range.
const expLimit = 1 << 40

// scanFloat checks b against the syntax strtold accepts when it must
// consume every byte (as string2ld requires): [sign] then "inf",
// "infinity", a decimal with optional point and e-exponent, or "0x" hex
// digits with optional point and p-exponent. NaN is rejected, as string2ld
// does. It does not allocate.
func scanFloat(b []byte) (floatNum, bool) {
	var n floatNum
	if len(b) == 0 || len(b) >= maxFloatLen || isCSpace(b[0]) {
		return n, false
	}
	i := 0
	if b[0] == '+' || b[0] == '-' {
		n.neg = b[0] == '-'
		i++
	}
	rest := b[i:]
	if equalFold(rest, "inf") || equalFold(rest, "infinity") {
		n.inf = true
		return n, true
	}
	if len(rest) > 2 && rest[0] == '0' && rest[1]|0x20 == 'x' &&
		(isHex(rest[2]) || (rest[2] == '.' && len(rest) > 3 && isHex(rest[3]))) {
		n.hex = true
		return scanDigits(n, rest[2:], isHex, 'p', 4)
	}
	return scanDigits(n, rest, isDigit, 'e', 1)
}

// scanDigits scans digits [. digits] [expChar [sign] decimal digits] to
// the end of s. Each fractional digit lowers the exponent by fracScale
// (1 for decimal, 4 bits for hexadecimal).
func scanDigits(n floatNum, s []byte, digit func(byte) bool, expChar byte, fracScale int64) (floatNum, bool) {
	i, start := 0, -1
	var frac int64
	seen := false
	for ; i < len(s) && digit(s[i]); i++ {
		seen = true
		if start < 0 && s[i] != '0' {
			start = i
		}
	}
	if i < len(s) && s[i] == '.' {
		i++
		for ; i < len(s) && digit(s[i]); i++ {
			seen = true
			frac++
			if start < 0 && s[i] != '0' {
				start = i
			}
		}
	}
	if !seen {
		return n, false
	}
	end := i
	var exp int64
	if i < len(s) && s[i]|0x20 == expChar {
		j := i + 1
		expNeg := false
		if j < len(s) && (s[j] == '+' || s[j] == '-') {
			expNeg = s[j] == '-'
			j++
		}
		if j >= len(s) || !isDigit(s[j]) {
			return n, false // strtold stops before the exponent
		}
		for ; j < len(s) && isDigit(s[j]); j++ {
			if exp < expLimit {
				exp = exp*10 + int64(s[j]-'0')
			}
		}
		if expNeg {
			exp = -exp
		}
		i = j
	}
	if i != len(s) {
		return n, false
	}
	if start < 0 {
		n.zero = true
		return n, true
	}
	// mant runs from the first significant digit to the last digit and
	// may hold the point, which digitString drops: the digits read as one
	// integer scaled down by every fractional digit.
	n.mant = s[start:end]
	n.exp = exp - frac*fracScale
	return n, true
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func isHex(c byte) bool {
	return isDigit(c) || (c|0x20 >= 'a' && c|0x20 <= 'f')
}

func (n floatNum) sign() int {
	if n.neg {
		return -1
	}
	return 1
}

// digitString returns mant without the decimal point and with trailing
// zeros removed (raising the exponent accordingly), plus that exponent.
func (n floatNum) digitString() (string, int64) {
	buf := make([]byte, 0, len(n.mant))
	for _, c := range n.mant {
		if c != '.' {
			buf = append(buf, c)
		}
	}
	exp := n.exp
	scale := int64(1)
	if n.hex {
		scale = 4
	}
	for len(buf) > 1 && buf[len(buf)-1] == '0' {
		buf = buf[:len(buf)-1]
		exp += scale
	}
	return string(buf), exp
}

// longDouble rounds n to a long double as glibc's strtold does, and
// reports false where string2ld rejects the result: overflow to infinity
// or underflow to zero (ERANGE).
func (n floatNum) longDouble() (*big.Float, bool) {
	x := new(big.Float).SetPrec(ldPrec)
	switch {
	case n.inf:
		x.SetInf(n.neg)
		return x, true
	case n.zero:
		if n.neg {
			x.Neg(x)
		}
		return x, true
	}
	digits, exp := n.digitString()
	m := new(big.Int)
	// tie reports whether the exact value is at most 2^-16446, half the
	// smallest denormal, which glibc rounds to zero (an underflow).
	var tie func() bool
	if n.hex {
		m.SetString(digits, 16)
		bits := int64(m.BitLen())
		if bits-1+exp >= ldMaxExp || bits+exp < ldMinExp-1 {
			return nil, false
		}
		exact := new(big.Float).SetInt(m)
		exact.SetMantExp(exact, int(exp))
		x.Set(exact)
		tie = func() bool { return exact.Cmp(halfMinDenormal()) <= 0 }
	} else {
		m.SetString(digits, 10)
		nd := int64(len(digits))
		// 10^4933 exceeds the largest long double (1.19e4932); below
		// 10^-4951 everything rounds to zero (the smallest denormal is
		// 3.6e-4951).
		if nd-1+exp > 4932 || nd+exp < -4951 {
			return nil, false
		}
		if exp >= 0 {
			m.Mul(m, new(big.Int).Exp(big.NewInt(10), big.NewInt(exp), nil))
			x.SetInt(m)
		} else {
			den := new(big.Int).Exp(big.NewInt(10), big.NewInt(-exp), nil)
			x.SetRat(new(big.Rat).SetFrac(m, den))
			tie = func() bool { // m / den <= 2^-16446
				return new(big.Int).Lsh(m, -ldMinExp+1).Cmp(den) <= 0
			}
		}
	}
	e := x.MantExp(nil)
	if e > ldMaxExp || e < ldMinExp {
		return nil, false
	}
	// Rounding never crosses 2^-16446, which is representable, so only a
	// value rounded onto it needs the exact comparison.
	if tie != nil && x.Cmp(halfMinDenormal()) == 0 && tie() {
		return nil, false
	}
	if n.neg {
		x.Neg(x)
	}
	return x, true
}

// halfMinDenormal returns 2^-16446.
func halfMinDenormal() *big.Float {
	return new(big.Float).SetMantExp(big.NewFloat(1), ldMinExp-1)
}
