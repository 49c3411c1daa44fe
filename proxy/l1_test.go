package proxy

import (
	"bytes"
	"reflect"
	"strings"
	"testing"
	"unsafe"
)

// The key and value live in the entry's own allocation; under -race,
// checkptr fails the test if a pointer to them leaves it, as a pointer
// just past an empty value would.
func TestEntryHoldsItsKeyAndValue(t *testing.T) {
	for _, tc := range []struct{ key, value string }{
		{"", ""},
		{"k", ""},
		{"", "v"},
		{"key:000000012345", strings.Repeat("x", 100)},
		{strings.Repeat("k", 300), strings.Repeat("v", 70000)},
	} {
		e := newEntry(tc.key, []byte(tc.value))
		if got := string(e.key()); got != tc.key {
			t.Errorf("key = %q, want %q", got, tc.key)
		}
		if got := e.value(); !bytes.Equal(got, []byte(tc.value)) {
			t.Errorf("value of %d bytes, want %d", len(got), len(tc.value))
		}
		if a := uintptr(unsafe.Pointer(e)); a%8 != 0 {
			t.Errorf("entry at %#x: not 8-byte aligned", a)
		}
	}
}

// An entry lives in a pointer-free allocation: a pointer field added to
// it would be invisible to the collector, and what it points to freed.
func TestEntryHoldsNoPointers(t *testing.T) {
	typ := reflect.TypeFor[entry]()
	for i := range typ.NumField() {
		switch f := typ.Field(i); f.Type.Kind() {
		case reflect.Bool, reflect.Int64, reflect.Uint64, reflect.Uint32:
		default:
			t.Errorf("entry.%s is a %s: an entry's fields must be plain numbers", f.Name, f.Type)
		}
	}
}
