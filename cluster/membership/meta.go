package membership

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net"

	"github.com/hashicorp/memberlist"
)

// Role is what a member does in the cluster.
type Role string

// The roles a member may have.
const (
	// RoleStore is a store node: it owns partitions and holds data.
	RoleStore Role = "store"
	// RoleProxy is a proxy: a member that routes requests but owns nothing.
	RoleProxy Role = "proxy"
)

// Phase is where a member is in its life cycle.
type Phase string

// The phases a member goes through, in order.
const (
	// PhaseJoining is a member that is synchronising and owns nothing yet.
	PhaseJoining Phase = "joining"
	// PhaseActive is a member that serves and owns its partitions.
	PhaseActive Phase = "active"
	// PhaseLeaving is a member that still serves but hands its partitions
	// off before it goes away.
	PhaseLeaving Phase = "leaving"
)

// ProtoVersion is the protocol version this build speaks between members.
// Members refuse peers whose Meta.Proto differs.
const ProtoVersion = 1

// MaxMetaSize is the largest encoded Meta memberlist carries, in bytes.
const MaxMetaSize = memberlist.MetaMaxSize

// Meta is what a member tells the others about itself. It travels with
// every alive message, so it is kept small; see Encode.
type Meta struct {
	Role  Role
	Phase Phase

	// RESP and Admin are the member's RESP and admin HTTP addresses as
	// "host:port", the ones peers and proxies dial.
	RESP, Admin string

	// TLS is the member's RESP-over-TLS address (--tls-listen) as
	// "host:port", "" without one. A member with one encodes its Meta in
	// format 2, which builds before TLS cannot read: they refuse it.
	TLS string

	// Partitions is the cluster's partition count; every member must agree
	// on it.
	Partitions int

	// Proto is the member's protocol version (ProtoVersion for this build).
	Proto int
}

// Errors about Meta. The errors Encode, Decode and Meta.Validate return
// match one of them with errors.Is.
var (
	// ErrMetaTooLarge reports a Meta whose encoding exceeds MaxMetaSize.
	ErrMetaTooLarge = errors.New("membership: node meta too large")
	// ErrBadMeta reports a Meta that is not valid or cannot be decoded.
	ErrBadMeta = errors.New("membership: bad node meta")
)

// maxField is the largest Partitions or Proto the encoding carries, so that
// a decoded value fits an int on every platform.
const maxField = 1<<31 - 1

// The first byte of an encoded Meta tells its layout apart. Format 2 is
// format 1 followed by the TLS address; a Meta without one is encoded in
// format 1, so clusters without TLS stay readable by older builds.
const (
	metaFormat    = 1
	metaFormatTLS = 2
)

// Codes of roles and phases in the encoding. 0 is never used, so a zeroed
// buffer does not decode.
var (
	roleCodes  = []Role{1: RoleStore, 2: RoleProxy}
	phaseCodes = []Phase{1: PhaseJoining, 2: PhaseActive, 3: PhaseLeaving}
)

// code returns the index of v in codes, or 0 when v is not there.
func code[T comparable](codes []T, v T) byte {
	for i := 1; i < len(codes); i++ {
		if codes[i] == v {
			return byte(i)
		}
	}
	return 0
}

// Valid reports whether r is one of the known roles.
func (r Role) Valid() bool { return code(roleCodes, r) != 0 }

// Valid reports whether p is one of the known phases.
func (p Phase) Valid() bool { return code(phaseCodes, p) != 0 }

// Validate reports every problem in m at once: an unknown Role or Phase, a
// Partitions below 1, a negative Proto, a RESP or Admin address that is
// neither empty nor "host:port", an encoding above MaxMetaSize.
func (m Meta) Validate() error {
	var errs []error
	if !m.Role.Valid() {
		errs = append(errs, fmt.Errorf("%w: unknown role %q", ErrBadMeta, m.Role))
	}
	if !m.Phase.Valid() {
		errs = append(errs, fmt.Errorf("%w: unknown phase %q", ErrBadMeta, m.Phase))
	}
	if m.Partitions < 1 || m.Partitions > maxField {
		errs = append(errs, fmt.Errorf("%w: partitions %d is outside [1, %d]", ErrBadMeta, m.Partitions, maxField))
	}
	if m.Proto < 0 || m.Proto > maxField {
		errs = append(errs, fmt.Errorf("%w: protocol version %d is outside [0, %d]", ErrBadMeta, m.Proto, maxField))
	}
	for _, a := range []struct{ name, addr string }{{"RESP", m.RESP}, {"admin", m.Admin}, {"TLS", m.TLS}} {
		if a.addr == "" {
			continue
		}
		if _, _, err := net.SplitHostPort(a.addr); err != nil {
			errs = append(errs, fmt.Errorf("%w: %s address %q: %w", ErrBadMeta, a.name, a.addr, err))
		}
	}
	if n := m.encodedLen(); n > MaxMetaSize {
		errs = append(errs, fmt.Errorf("%w: %d bytes encoded, the limit is %d (shorten the RESP and admin addresses)",
			ErrMetaTooLarge, n, MaxMetaSize))
	}
	return errors.Join(errs...)
}

// encodedLen returns the length of m's encoding.
func (m Meta) encodedLen() int {
	n := 1 + uvarintLen(uint64(m.Proto)) + uvarintLen(uint64(m.Partitions)) + 2 +
		uvarintLen(uint64(len(m.RESP))) + len(m.RESP) +
		uvarintLen(uint64(len(m.Admin))) + len(m.Admin)
	if m.TLS != "" {
		n += uvarintLen(uint64(len(m.TLS))) + len(m.TLS)
	}
	return n
}

// uvarintLen returns how many bytes binary.AppendUvarint writes for v.
func uvarintLen(v uint64) int {
	n := 1
	for v >= 0x80 {
		v >>= 7
		n++
	}
	return n
}

// Encode returns the compact binary form of m that travels as memberlist
// node meta: a format byte, Proto and Partitions as uvarints, one byte each
// for Role and Phase, then RESP and Admin, each prefixed by its length as a
// uvarint, and in format 2 (when TLS is set) TLS likewise. Two addresses
// of 20 bytes make 50 bytes in all. Encode fails,
// with an error matching ErrMetaTooLarge or ErrBadMeta, when m is not valid.
func (m Meta) Encode() ([]byte, error) {
	if err := m.Validate(); err != nil {
		return nil, err
	}
	buf := make([]byte, 0, m.encodedLen())
	if m.TLS == "" {
		buf = append(buf, metaFormat)
	} else {
		buf = append(buf, metaFormatTLS)
	}
	buf = binary.AppendUvarint(buf, uint64(m.Proto))
	buf = binary.AppendUvarint(buf, uint64(m.Partitions))
	buf = append(buf, code(roleCodes, m.Role), code(phaseCodes, m.Phase))
	buf = binary.AppendUvarint(buf, uint64(len(m.RESP)))
	buf = append(buf, m.RESP...)
	buf = binary.AppendUvarint(buf, uint64(len(m.Admin)))
	buf = append(buf, m.Admin...)
	if m.TLS != "" {
		buf = binary.AppendUvarint(buf, uint64(len(m.TLS)))
		buf = append(buf, m.TLS...)
	}
	return buf, nil
}

// DecodeMeta parses what Encode produced. It rejects, with an error matching
// ErrBadMeta, an unknown format byte, role or phase code, a truncated buffer
// and trailing bytes. It reads Proto before anything else and, on error,
// returns the fields it decoded before the error, so a peer whose later
// fields changed layout still has its protocol version reported.
func DecodeMeta(b []byte) (Meta, error) {
	var m Meta
	if len(b) == 0 {
		return m, fmt.Errorf("%w: empty", ErrBadMeta)
	}
	if b[0] != metaFormat && b[0] != metaFormatTLS {
		return m, fmt.Errorf("%w: unknown format %d", ErrBadMeta, b[0])
	}
	d := decoder{b: b[1:]}
	m.Proto = d.int()
	m.Partitions = d.int()
	if d.err == nil && len(d.b) < 2 {
		d.err = errTruncated
	}
	if d.err == nil {
		role, phase := int(d.b[0]), int(d.b[1])
		d.b = d.b[2:]
		if role == 0 || role >= len(roleCodes) {
			d.err = fmt.Errorf("unknown role code %d", role)
		} else if phase == 0 || phase >= len(phaseCodes) {
			d.err = fmt.Errorf("unknown phase code %d", phase)
		} else {
			m.Role, m.Phase = roleCodes[role], phaseCodes[phase]
		}
	}
	m.RESP = d.string()
	m.Admin = d.string()
	if b[0] == metaFormatTLS {
		if m.TLS = d.string(); d.err == nil && m.TLS == "" {
			d.err = errors.New("format 2 without a TLS address")
		}
	}
	if d.err == nil && len(d.b) > 0 {
		d.err = fmt.Errorf("%d trailing bytes", len(d.b))
	}
	if d.err != nil {
		return m, fmt.Errorf("%w: %w", ErrBadMeta, d.err)
	}
	return m, nil
}

// errTruncated reports an encoded Meta that ends early.
var errTruncated = errors.New("truncated")

// decoder reads the fields of an encoded Meta, remembering the first error;
// once err is set every read returns a zero value.
type decoder struct {
	b   []byte
	err error
}

// int reads a uvarint of at most maxField.
func (d *decoder) int() int {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.b)
	switch {
	case n == 0:
		d.err = errTruncated
		return 0
	case n < 0 || v > maxField:
		d.err = errors.New("integer out of range")
		return 0
	}
	d.b = d.b[n:]
	return int(v)
}

// string reads a length-prefixed string.
func (d *decoder) string() string {
	n := d.int()
	if d.err != nil {
		return ""
	}
	if n > len(d.b) {
		d.err = errTruncated
		return ""
	}
	s := string(d.b[:n])
	d.b = d.b[n:]
	return s
}
