// Package workload describes what a load generator asks for: which keys
// (uniform, zipfian or a hot set), the share of reads and writes, and the
// size of written values. Every draw takes the caller's *rand.Rand, so a
// seeded source makes a run's sequence of operations reproducible.
package workload

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
)

// Dist names a key distribution.
type Dist string

// The key distributions.
const (
	// Uniform picks every key of the keyspace equally often.
	Uniform Dist = "uniform"
	// Zipfian picks key k (0-based) with probability proportional to
	// 1/(k+1)^Skew.
	Zipfian Dist = "zipf"
	// HotSet picks uniformly among Keys keys that are loaded together and
	// so expire together: the shape of a stampede.
	HotSet Dist = "hotset"
)

// Config describes a workload.
type Config struct {
	// Dist is the key distribution. Default Uniform.
	Dist Dist
	// Keys is the size of the keyspace (the hot set for HotSet). Default 1000.
	Keys uint64
	// Skew is the zipfian exponent, >= 0 (Zipfian only). Default 0.99.
	Skew float64
	// ReadRatio is the share of operations that are reads (GET), in [0, 1];
	// the rest are writes (SET). Default 1.
	ReadRatio float64
	// ValueSize is the size in bytes of written values. Default 100.
	ValueSize int
	// Prefix starts every key name. Default "key:".
	Prefix string
}

// DefaultConfig returns a uniform, read-only workload over 1000 keys with
// 100-byte values.
func DefaultConfig() Config {
	return Config{Dist: Uniform, Keys: 1000, Skew: 0.99, ReadRatio: 1, ValueSize: 100, Prefix: "key:"}
}

// Validate reports every problem with c at once.
func (c Config) Validate() error {
	var errs []error
	switch c.Dist {
	case Uniform, Zipfian, HotSet:
	default:
		errs = append(errs, fmt.Errorf("workload: distribution %q: use uniform, zipf or hotset", c.Dist))
	}
	if c.Keys < 1 {
		errs = append(errs, errors.New("workload: keys must be at least 1"))
	}
	if !(c.Skew >= 0) {
		errs = append(errs, fmt.Errorf("workload: skew %v must be >= 0", c.Skew))
	}
	if !(c.ReadRatio >= 0 && c.ReadRatio <= 1) {
		errs = append(errs, fmt.Errorf("workload: read ratio %v must be in [0, 1]", c.ReadRatio))
	}
	if c.ValueSize < 0 {
		errs = append(errs, fmt.Errorf("workload: value size %d must not be negative", c.ValueSize))
	}
	return errors.Join(errs...)
}

// Workload draws operations. It is safe for concurrent use when each
// goroutine passes its own *rand.Rand.
type Workload struct {
	cfg   Config
	zipf  *Zipf  // for Zipfian
	value []byte // shared, read-only payload of every write
}

// New returns the Workload c describes.
func New(c Config) (*Workload, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	w := &Workload{cfg: c, value: make([]byte, c.ValueSize)}
	for i := range w.value {
		w.value[i] = 'a' + byte(i%26)
	}
	if c.Dist == Zipfian {
		z, err := NewZipf(c.Keys, c.Skew)
		if err != nil {
			return nil, err
		}
		w.zipf = z
	}
	return w, nil
}

// Config returns the workload's configuration.
func (w *Workload) Config() Config { return w.cfg }

// Index draws a key index in [0, Keys).
func (w *Workload) Index(r *rand.Rand) uint64 {
	if w.zipf != nil {
		return w.zipf.Next(r)
	}
	return r.Uint64N(w.cfg.Keys)
}

// Key returns the name of key index i.
func (w *Workload) Key(i uint64) string {
	return w.cfg.Prefix + strconv.FormatUint(i, 10)
}

// Next draws one operation: its key, and whether it is a write.
func (w *Workload) Next(r *rand.Rand) (key string, write bool) {
	key = w.Key(w.Index(r))
	write = w.cfg.ReadRatio < 1 && r.Float64() >= w.cfg.ReadRatio
	return key, write
}

// Value returns the payload of writes. The caller must not modify it.
func (w *Workload) Value() []byte { return w.value }
