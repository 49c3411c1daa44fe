package membership

import (
	"errors"
	"strings"
	"testing"
)

func TestMetaRoundTrip(t *testing.T) {
	tests := []struct {
		name string
		meta Meta
	}{
		{"store joining", Meta{Role: RoleStore, Phase: PhaseJoining, RESP: "10.0.0.3:7379", Admin: "10.0.0.3:9121", Partitions: 4096, Proto: 1}},
		{"proxy active", Meta{Role: RoleProxy, Phase: PhaseActive, RESP: "[fd00::1]:6379", Admin: "[fd00::1]:9121", Partitions: 1, Proto: 0}},
		{"leaving, no addresses", Meta{Role: RoleStore, Phase: PhaseLeaving, Partitions: maxField, Proto: maxField}},
		{"longest addresses", Meta{Role: RoleStore, Phase: PhaseActive, RESP: host(240) + ":7379", Admin: host(240) + ":9121", Partitions: 4096, Proto: 1}},
		{"with TLS", Meta{Role: RoleStore, Phase: PhaseActive, RESP: "10.0.0.3:7379", Admin: "10.0.0.3:9121", TLS: "10.0.0.3:7380", Partitions: 4096, Proto: 1}},
		{"TLS only", Meta{Role: RoleStore, Phase: PhaseActive, Admin: "10.0.0.3:9121", TLS: "10.0.0.3:7380", Partitions: 4096, Proto: 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := tt.meta.Encode()
			if err != nil {
				t.Fatalf("Encode: %v", err)
			}
			if len(b) != tt.meta.encodedLen() || len(b) > MaxMetaSize {
				t.Errorf("encoded %d bytes, encodedLen %d, limit %d", len(b), tt.meta.encodedLen(), MaxMetaSize)
			}
			got, err := DecodeMeta(b)
			if err != nil {
				t.Fatalf("DecodeMeta: %v", err)
			}
			if got != tt.meta {
				t.Errorf("round trip = %+v, want %+v", got, tt.meta)
			}
		})
	}
}

// TestMetaFormatCompat: a Meta without a TLS address encodes in format 1,
// byte for byte what builds before TLS wrote and read; one with a TLS
// address in format 2.
func TestMetaFormatCompat(t *testing.T) {
	m := Meta{Role: RoleStore, Phase: PhaseActive, RESP: "a:1", Admin: "b:2", Partitions: 300, Proto: 1}
	b, err := m.Encode()
	if err != nil {
		t.Fatal(err)
	}
	// format 1, proto 1, partitions 300, store, active, "a:1", "b:2"
	want := []byte{1, 1, 0xac, 0x02, 1, 2, 3, 'a', ':', '1', 3, 'b', ':', '2'}
	if string(b) != string(want) {
		t.Errorf("format 1 encoding = %x, want %x", b, want)
	}
	m.TLS = "c:3"
	if b, err = m.Encode(); err != nil || b[0] != 2 || string(b[len(b)-4:]) != "\x03c:3" {
		t.Errorf("with TLS: %x, %v; want format 2 ending in the TLS address", b, err)
	}
	if err := (Meta{Role: RoleStore, Phase: PhaseActive, Partitions: 1, TLS: "nope"}).Validate(); !errors.Is(err, ErrBadMeta) {
		t.Errorf("Validate of a bad TLS address = %v", err)
	}
}

// host returns a host name of n characters.
func host(n int) string { return strings.Repeat("h", n) }

func TestMetaEncodeCompact(t *testing.T) {
	m := Meta{Role: RoleStore, Phase: PhaseActive, RESP: "10.0.0.3:7379", Admin: "10.0.0.3:9121", Partitions: 4096, Proto: 1}
	b, err := m.Encode()
	if err != nil {
		t.Fatal(err)
	}
	if len(b) > 40 {
		t.Errorf("encoded %d bytes, want at most 40: %x", len(b), b)
	}
}

func TestMetaValidate(t *testing.T) {
	good := Meta{Role: RoleStore, Phase: PhaseJoining, Partitions: 8, Proto: 1}
	tests := []struct {
		name  string
		tweak func(*Meta)
		want  []error
		text  []string
	}{
		{"good", func(*Meta) {}, nil, nil},
		{"unknown role", func(m *Meta) { m.Role = "cache" }, []error{ErrBadMeta}, []string{`role "cache"`}},
		{"unknown phase", func(m *Meta) { m.Phase = "" }, []error{ErrBadMeta}, []string{`phase ""`}},
		{"no partitions", func(m *Meta) { m.Partitions = 0 }, []error{ErrBadMeta}, []string{"partitions 0"}},
		{"negative proto", func(m *Meta) { m.Proto = -1 }, []error{ErrBadMeta}, []string{"protocol version -1"}},
		{"bad address", func(m *Meta) { m.RESP = "nohostport" }, []error{ErrBadMeta}, []string{`RESP address "nohostport"`}},
		{"too large", func(m *Meta) { m.RESP, m.Admin = host(300)+":1", host(300)+":2" }, []error{ErrMetaTooLarge},
			[]string{"bytes encoded, the limit is 512"}},
		{"every problem at once", func(m *Meta) { m.Role, m.Phase, m.Partitions = "", "", -1 }, []error{ErrBadMeta},
			[]string{"role", "phase", "partitions -1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := good
			tt.tweak(&m)
			err := m.Validate()
			if tt.want == nil {
				if err != nil {
					t.Fatalf("Validate = %v, want nil", err)
				}
				return
			}
			for _, w := range tt.want {
				if !errors.Is(err, w) {
					t.Errorf("Validate = %v, want %v", err, w)
				}
			}
			for _, s := range tt.text {
				if err == nil || !strings.Contains(err.Error(), s) {
					t.Errorf("Validate = %v, want it to mention %q", err, s)
				}
			}
			if _, encErr := m.Encode(); encErr == nil {
				t.Error("Encode succeeded on an invalid Meta")
			}
		})
	}
}

func TestDecodeMetaRejects(t *testing.T) {
	good, err := Meta{Role: RoleProxy, Phase: PhaseActive, RESP: "a:1", Admin: "b:2", Partitions: 300, Proto: 7}.Encode()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name      string
		b         []byte
		wantProto int // the Proto DecodeMeta reports despite the error
	}{
		{"empty", nil, 0},
		{"unknown format", append([]byte{3}, good[1:]...), 0},
		{"format 2 without a TLS address", append([]byte{2}, good[1:]...), 7},
		{"format 2 with an empty TLS address", append(append([]byte{2}, good[1:]...), 0), 7},
		{"truncated", good[:len(good)-1], 7},
		{"trailing byte", append(append([]byte{}, good...), 0), 7},
		// good is: format, proto 7, partitions 300 (two bytes), role, phase,
		// then the strings.
		{"role code 0", replace(good, 4, 0), 7},
		{"role code 9", replace(good, 4, 9), 7},
		{"phase code 0", replace(good, 5, 0), 7},
		{"phase code 4", replace(good, 5, 4), 7},
		{"string longer than buffer", replace(good, 6, 100), 7},
		{"proto out of range", []byte{1, 0xff, 0xff, 0xff, 0xff, 0x0f}, 0},
		{"only format", []byte{1}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := DecodeMeta(tt.b)
			if !errors.Is(err, ErrBadMeta) {
				t.Fatalf("DecodeMeta = %+v, %v; want ErrBadMeta", m, err)
			}
			if m.Proto != tt.wantProto {
				t.Errorf("Proto = %d, want %d", m.Proto, tt.wantProto)
			}
		})
	}
}

// replace returns a copy of b with b[i] set to v.
func replace(b []byte, i int, v byte) []byte {
	c := append([]byte{}, b...)
	c[i] = v
	return c
}

func TestRolePhaseValid(t *testing.T) {
	for _, r := range []Role{RoleStore, RoleProxy} {
		if !r.Valid() {
			t.Errorf("%q not valid", r)
		}
	}
	for _, p := range []Phase{PhaseJoining, PhaseActive, PhaseLeaving} {
		if !p.Valid() {
			t.Errorf("%q not valid", p)
		}
	}
	if Role("").Valid() || Phase("ACTIVE").Valid() {
		t.Error("invalid role or phase accepted")
	}
}
