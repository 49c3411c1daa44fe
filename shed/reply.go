package shed

import (
	"errors"
	"strings"
)

// Reply prefixes. go-redis v9 (v9.23.0, error.go shouldRetry) retries a
// command whose reply is a server error starting with "LOADING ",
// "READONLY ", "CLUSTERDOWN ", "TRYAGAIN ", "MASTERDOWN ", "NOREPLICAS " or
// "ERR max number of clients reached" (besides network errors and
// timeouts), and its cluster client follows "MOVED" and "ASK". These
// prefixes are not among them, so a shed request fails at once instead of
// being sent again into the overload.
const (
	// ReplyShed starts the reply to a refusal by a Limiter or a Rate.
	ReplyShed = "SHED"
	// ReplyBreaker starts the reply to a refusal by a Breaker.
	ReplyBreaker = "BREAKER"
)

// Reply returns the RESP error text (without the leading '-' and the
// trailing CRLF) a client receives for err, a refusal from this package:
//
//	SHED overloaded: no fetch slot within 50ms; retry later
//	SHED rate limited: client over 100 requests/s; retry later
//	BREAKER open: origin http://api/{key} is failing; retry later
//
// The first word is ReplyShed or ReplyBreaker, prefixes go-redis does not
// retry (see ReplyShed). Reply returns "" when err is nil or matches none
// of ErrOverloaded, ErrRateLimited and ErrOpen; the caller replies to such
// errors its own way.
func Reply(err error) string {
	var open *OpenError
	var reject *RejectError
	switch {
	case err == nil:
		return ""
	case errors.As(err, &open):
		target := oneLine(open.Target)
		if target == "" {
			target = "upstream"
		}
		if open.State == HalfOpen {
			return ReplyBreaker + " open: " + target + " is being probed after failures; retry later"
		}
		return ReplyBreaker + " open: " + target + " is failing; retry later"
	case errors.Is(err, ErrOpen):
		return ReplyBreaker + " open; retry later"
	case errors.As(err, &reject) && errors.Is(reject, ErrOverloaded):
		return ReplyShed + " overloaded: " + oneLine(reject.Detail) + "; retry later"
	case errors.As(err, &reject) && errors.Is(reject, ErrRateLimited):
		return ReplyShed + " rate limited: " + oneLine(reject.Detail) + "; retry later"
	case errors.Is(err, ErrOverloaded):
		return ReplyShed + " overloaded; retry later"
	case errors.Is(err, ErrRateLimited):
		return ReplyShed + " rate limited; retry later"
	}
	return ""
}

// oneLine replaces CR and LF in s with spaces: a RESP error is one line.
func oneLine(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '\r' || r == '\n' {
			return ' '
		}
		return r
	}, s)
}
