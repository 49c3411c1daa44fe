package collapse

import (
	"errors"
	"unicode/utf8"

	"github.com/prometheus/client_golang/prometheus"
)

// Config configures a Group.
type Config struct {
	// Registerer receives the Group's metrics. Nil registers nothing (the
	// metrics are still kept, just not exported). Several Groups may share
	// one Registerer; Groups with the same Name then share their series.
	Registerer prometheus.Registerer

	// Name is the value of the "role" label on the Group's metrics, for
	// example "proxy" or "store". Default "" (an empty label value).
	Name string
}

// DefaultConfig returns a Config with no Registerer and an empty Name.
func DefaultConfig() Config { return Config{} }

// ErrInvalidName reports a Config.Name that is not valid UTF-8 and so cannot
// be a Prometheus label value.
var ErrInvalidName = errors.New("collapse: name must be valid UTF-8")

// Validate reports whether c is usable as given. New never fails: it repairs
// what Validate would reject, so Validate exists for callers (cmd) that want
// to refuse bad input up front.
func (c Config) Validate() error {
	if !utf8.ValidString(c.Name) {
		return ErrInvalidName
	}
	return nil
}
