package command

import "bytes"

// Redis reads many arguments as C strings (strcasecmp, printf's %s,
// strtoul), so an argument holding a NUL byte is seen only up to it:
// "nx\x00junk" is the NX option and an error quotes "fo" for "fo\x00o".
// These helpers reproduce that.

// cstr returns b up to its first NUL byte.
func cstr(b []byte) []byte {
	if i := bytes.IndexByte(b, 0); i >= 0 {
		return b[:i]
	}
	return b
}

// cstrEqualFold reports whether strcasecmp(b, lower) == 0 for the
// lower-case ASCII string lower.
func cstrEqualFold(b []byte, lower string) bool {
	return equalFold(cstr(b), lower)
}

// isCSpace reports whether c is a C isspace() character in the C locale.
func isCSpace(c byte) bool {
	return c == ' ' || (c >= '\t' && c <= '\r')
}
