package command

import (
	"bytes"
	"errors"
	"strconv"
	"strings"
	"testing"
)

// FuzzParseSet feeds SET option lists (space-separated) to ParseSet and
// checks the result's invariants.
func FuzzParseSet(f *testing.F) {
	for _, s := range []string{"", "EX 10", "NX GET", "PX 100 XX", "KEEPTTL", "EXAT 1 GET NX", "EX 1 EX 2", "EX 9223372036854775", "nx\x00 xx"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, opts string) {
		args := [][]byte{[]byte("set"), []byte("k"), []byte("v")}
		if opts != "" {
			for _, o := range strings.Split(opts, " ") {
				args = append(args, []byte(o))
			}
		}
		a, err := ParseSet(args, testNow)
		if err != nil {
			if err != ErrSyntax && err != ErrNotInteger && err != ErrInvalidExpire("set") {
				t.Fatalf("unexpected error %q", err)
			}
			if a != (SetArgs{}) {
				t.Fatalf("result %+v with error", a)
			}
			return
		}
		if a.NX && a.XX {
			t.Fatal("NX and XX")
		}
		if a.KeepTTL && a.ExpireAtMs != 0 {
			t.Fatal("KEEPTTL with an expiry")
		}
		if a.ExpireAtMs < 0 {
			t.Fatalf("negative expiry %d", a.ExpireAtMs)
		}
		again, err2 := ParseSet(args, testNow)
		if again != a || err2 != nil {
			t.Fatal("not deterministic")
		}
	})
}

// FuzzParseInt checks ParseInt against its definition: Redis accepts
// exactly the canonical decimal form of an int64.
func FuzzParseInt(f *testing.F) {
	for _, s := range []string{"0", "-0", "01", "+1", "-9223372036854775808", "9223372036854775808", "", " 1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, ok := ParseInt([]byte(s))
		canonical := false
		if n, err := strconv.ParseInt(s, 10, 64); err == nil && strconv.FormatInt(n, 10) == s {
			canonical = true
			if ok && v != n {
				t.Fatalf("ParseInt(%q) = %d, want %d", s, v, n)
			}
		}
		if ok != canonical {
			t.Fatalf("ParseInt(%q) ok=%v, canonical=%v", s, ok, canonical)
		}
	})
}

// FuzzParseFloat checks that ParseFloat and IncrFloat agree on what is a
// float, that finite results agree with strconv for plain decimals, and
// that every INCRBYFLOAT result parses back.
func FuzzParseFloat(f *testing.F) {
	for _, s := range []string{"0.1", "1e400", "0x1.8p1", "inf", "nan", " 1", "1e", "-.0", "0x1p-16446", "1e-4951"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		b := []byte(s)
		v, ok := ParseFloat(b)
		res, err := IncrFloat(nil, nil, false, b)
		if ok != (err != ErrNotFloat) {
			t.Fatalf("%q: ParseFloat ok=%v, IncrFloat err=%v", s, ok, err)
		}
		if err != nil && !errors.Is(err, ErrNotFloat) && !errors.Is(err, ErrNaNOrInfinity) {
			t.Fatalf("%q: unexpected error %v", s, err)
		}
		if err == nil {
			if _, ok := ParseFloat(res); !ok {
				t.Fatalf("%q: result %q does not parse back", s, res)
			}
			again, err := IncrFloat(nil, res, true, []byte("0"))
			if err != nil || !bytes.Equal(again, res) {
				t.Fatalf("%q: %q + 0 = %q, %v", s, res, again, err)
			}
		}
		if ok && !strings.ContainsAny(s, "xXnN") {
			if g, err := strconv.ParseFloat(s, 64); err == nil && g != v {
				t.Fatalf("%q: ParseFloat %v, strconv %v", s, v, g)
			}
		}
	})
}
