package origin

import (
	"net/http"
	"strings"
	"time"
)

// maxDeltaSeconds caps delta-seconds values, as RFC 9111 §1.2.2 allows:
// 2^31 seconds, about 68 years.
const maxDeltaSeconds = 1 << 31

// freshness returns how long a 200 response with headers h, received at now,
// may be cached, and whether it must not be stored at all (then ttl is 0).
// It follows RFC 9111 for a shared cache that stores only the body:
//
//   - no-store, and unqualified no-cache and private, forbid storing. The
//     qualified forms (private="Set-Cookie") name header fields only, which
//     the tier never stores, so they do not.
//   - s-maxage wins over max-age; either is reduced by the Age header.
//   - Otherwise Expires minus Date, reduced by Age; without a usable Date,
//     Expires minus now.
//   - Otherwise def.
//
// Invalid freshness information (max-age=abc, Expires: 0) makes the
// response stale, so it is not stored.
func freshness(h http.Header, now time.Time, def time.Duration) (ttl time.Duration, noStore bool) {
	cc := parseCacheControl(h.Values("Cache-Control"))
	if cc.noStore || cc.noCache || cc.private {
		return 0, true
	}
	var lifetime time.Duration
	switch {
	case cc.sMaxAge.set:
		lifetime = cc.sMaxAge.duration() - age(h)
	case cc.maxAge.set:
		lifetime = cc.maxAge.duration() - age(h)
	case len(h.Values("Expires")) > 0:
		expires, err := http.ParseTime(h.Get("Expires"))
		if err != nil {
			return 0, true // invalid, "especially the value 0", means already expired
		}
		if date, err := http.ParseTime(h.Get("Date")); err == nil {
			lifetime = expires.Sub(date) - age(h)
		} else {
			lifetime = expires.Sub(now)
		}
	default:
		lifetime = def
	}
	if lifetime <= 0 {
		return 0, true
	}
	return lifetime, false
}

// age is the Age header as a duration; 0 when absent or invalid.
func age(h http.Header) time.Duration {
	n, ok := deltaSeconds(h.Get("Age"))
	if !ok {
		return 0
	}
	return time.Duration(n) * time.Second
}

// cacheControl is what freshness needs from Cache-Control.
type cacheControl struct {
	noStore, noCache, private bool // unqualified forms only for no-cache and private
	maxAge, sMaxAge           seconds
}

// seconds is a delta-seconds directive.
type seconds struct {
	set   bool  // the directive appeared
	valid bool  // every occurrence held a valid number
	n     int64 // the smallest occurrence, capped at maxDeltaSeconds
}

// add records one occurrence. Conflicting occurrences resolve to the most
// restrictive, and an invalid one makes the whole directive invalid.
func (s *seconds) add(value string) {
	n, ok := deltaSeconds(value)
	if !s.set {
		*s = seconds{set: true, valid: ok, n: n}
		return
	}
	s.valid = s.valid && ok
	s.n = min(s.n, n)
}

// duration is the directive's value; 0 (stale) when invalid.
func (s seconds) duration() time.Duration {
	if !s.valid {
		return 0
	}
	return time.Duration(s.n) * time.Second
}

// deltaSeconds parses 1*DIGIT, capping at maxDeltaSeconds.
func deltaSeconds(v string) (int64, bool) {
	if v == "" {
		return 0, false
	}
	var n int64
	for i := 0; i < len(v); i++ {
		c := v[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = min(n*10+int64(c-'0'), maxDeltaSeconds)
	}
	return n, true
}

// parseCacheControl reads the Cache-Control field lines of a response.
// Directive names are case-insensitive; values may be tokens or quoted
// strings; unknown directives are ignored.
func parseCacheControl(lines []string) cacheControl {
	var cc cacheControl
	for _, line := range lines {
		for s := line; s != ""; {
			var d directive
			d, s = nextDirective(s)
			switch strings.ToLower(d.name) {
			case "no-store":
				cc.noStore = true
			case "no-cache":
				cc.noCache = cc.noCache || !d.hasValue
			case "private":
				cc.private = cc.private || !d.hasValue
			case "max-age":
				cc.maxAge.add(d.value)
			case "s-maxage":
				cc.sMaxAge.add(d.value)
			}
		}
	}
	return cc
}

// directive is one Cache-Control directive: name[=value].
type directive struct {
	name, value string
	hasValue    bool
}

// nextDirective parses the directive at the start of s, skipping leading
// separators, and returns it with the rest of s after its comma.
func nextDirective(s string) (directive, string) {
	s = strings.TrimLeft(s, " \t,")
	var d directive
	i := strings.IndexAny(s, "=, \t")
	if i < 0 {
		return directive{name: s}, ""
	}
	d.name, s = s[:i], strings.TrimLeft(s[i:], " \t")
	if strings.HasPrefix(s, "=") {
		d.hasValue = true
		s = strings.TrimLeft(s[1:], " \t")
		if strings.HasPrefix(s, `"`) {
			d.value, s = quotedString(s[1:])
		} else {
			j := strings.IndexAny(s, ", \t")
			if j < 0 {
				j = len(s)
			}
			d.value, s = s[:j], s[j:]
		}
	}
	// Skip anything malformed up to the next directive.
	if j := strings.IndexByte(s, ','); j >= 0 {
		return d, s[j+1:]
	}
	return d, ""
}

// quotedString reads a quoted-string's content, after its opening quote,
// undoing backslash escapes, and returns it with the rest after the closing
// quote (or "" when it is unterminated).
func quotedString(s string) (string, string) {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '"':
			return b.String(), s[i+1:]
		case c == '\\' && i+1 < len(s):
			i++
			b.WriteByte(s[i])
		default:
			b.WriteByte(c)
		}
	}
	return b.String(), ""
}
