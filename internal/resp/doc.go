// Package resp reads and writes the Redis serialization protocol, RESP2 and
// RESP3, with Redis's exact protocol error texts and limits.
//
// Reader parses client commands (multibulk and inline) into argument slices
// that are reused from one command to the next, so the steady state allocates
// nothing. Writer appends replies to a byte slice, choosing the RESP2 or RESP3
// encoding of each reply type by the protocol the connection negotiated.
package resp
