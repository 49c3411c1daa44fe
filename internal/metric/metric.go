// Package metric holds the Prometheus helpers corral's packages share.
package metric

import (
	"errors"

	"github.com/prometheus/client_golang/prometheus"
)

// Register registers c with reg and returns the collector to use: c itself,
// or the equal collector reg already holds, so that two components sharing
// a registry (the proxy and the embedded store of `corral dev`) can both
// declare the same vector. If reg refuses c for any other reason (a
// clashing metric of another shape), c is returned unregistered so the
// caller keeps working without exporting it. A nil reg registers nothing.
func Register[C prometheus.Collector](reg prometheus.Registerer, c C) C {
	if reg == nil {
		return c
	}
	if err := reg.Register(c); err != nil {
		var are prometheus.AlreadyRegisteredError
		if errors.As(err, &are) {
			if existing, ok := are.ExistingCollector.(C); ok {
				return existing
			}
		}
	}
	return c
}
