package shed

import (
	"log/slog"

	"github.com/prometheus/client_golang/prometheus"

	"corral/internal/clock"
)

// Deps are what a component embedding admission and a breaker shares with
// them; NewGuard fills the configs' empty fields from it.
type Deps struct {
	Target     string // the Admission's Name and the Breaker's Target
	Clock      clock.Clock
	Logger     *slog.Logger
	Registerer prometheus.Registerer
}

// NewGuard builds the Admission and the Breaker that stand in front of one
// target, filling fields that acfg and bcfg leave empty from deps.
func NewGuard(acfg Config, bcfg BreakerConfig, deps Deps) (*Admission, *Breaker, error) {
	if acfg.Name == "" {
		acfg.Name = deps.Target
	}
	if acfg.Clock == nil {
		acfg.Clock = deps.Clock
	}
	if acfg.Registerer == nil {
		acfg.Registerer = deps.Registerer
	}
	adm, err := New(acfg)
	if err != nil {
		return nil, nil, err
	}
	if bcfg.Target == "" {
		bcfg.Target = deps.Target
	}
	if bcfg.Clock == nil {
		bcfg.Clock = deps.Clock
	}
	if bcfg.Logger == nil {
		bcfg.Logger = deps.Logger
	}
	if bcfg.Registerer == nil {
		bcfg.Registerer = deps.Registerer
	}
	brk, err := NewBreaker(bcfg)
	if err != nil {
		return nil, nil, err
	}
	return adm, brk, nil
}
