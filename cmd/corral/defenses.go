package main

import (
	"errors"
	"fmt"
	"time"

	"corral/cluster"
	"corral/origin"
	"corral/proxy"
	"corral/shed"
	"corral/xfetch"
)

// defenseFlags are the stampede, shedding and breaker knobs. Both roles
// take them (the proxy guards its upstream, the store its origin); each
// defense can be switched off, so a bench can show what it buys.
type defenseFlags struct {
	xf       xfetch.Config
	collapse bool

	maxInflight, minInflight int
	queueTimeout             time.Duration
	rate, clientRate         float64

	breaker        bool
	breakerRatio   float64
	breakerMin     uint
	breakerWindow  time.Duration
	breakerTimeout time.Duration
	breakerProbes  uint
}

func (f *flags) defenses(d *defenseFlags) {
	def := xfetch.DefaultConfig()
	f.BoolVar(&d.collapse, "collapse", true, "collapse concurrent misses of a key into one fetch (false only to measure what it buys, as corral bench ablation does)")
	f.Float64Var(&d.xf.Beta, "xfetch-beta", def.Beta, "XFetch's beta: how early hot entries refresh in the background before they expire (0 disables early refresh)")
	f.DurationVar(&d.xf.StaleWhileRevalidate, "stale-while-revalidate", def.StaleWhileRevalidate, "how long past expiry a store serves a loaded value at once while one background refresh runs (0 disables; the proxy accepts it and leaves it to the store)")
	f.DurationVar(&d.xf.StaleIfError, "stale-if-error", def.StaleIfError, "how long past expiry a value is still served while refreshing it fails (0 disables)")
	f.Float64Var(&d.xf.Jitter, "ttl-jitter", def.Jitter, "spread of the TTLs the tier chooses (origin loads, negative entries, L1 lifetimes): up to this fraction longer, never shorter (0 disables)")

	lim := shed.DefaultLimiterConfig()
	f.IntVar(&d.maxInflight, "max-inflight", lim.MaxInflight, "upper bound of the adaptive limit on concurrent fetches (upstream round trips on the proxy, origin loads on the store); 0 disables the limit")
	f.IntVar(&d.minInflight, "min-inflight", shed.DefaultMinLimit, "lower bound of the adaptive fetch limit")
	f.DurationVar(&d.queueTimeout, "queue-timeout", lim.QueueTimeout, "longest wait for a fetch slot before the request is shed with a SHED error (or served stale)")
	f.Float64Var(&d.rate, "rate-limit", 0, "fetches per second allowed in all (0 disables)")
	f.Float64Var(&d.clientRate, "rate-limit-per-client", 0, "fetches per second allowed per client address (0 disables)")

	brk := shed.DefaultBreakerConfig()
	f.BoolVar(&d.breaker, "breaker", true, "trip a circuit breaker on a failing upstream or origin (false disables)")
	f.Float64Var(&d.breakerRatio, "breaker-failure-ratio", brk.FailureRatio, "share of failed fetches in the window at which the breaker opens")
	f.UintVar(&d.breakerMin, "breaker-min-requests", uint(brk.MinRequests), "fetches the window must hold before the failure ratio counts")
	f.DurationVar(&d.breakerWindow, "breaker-window", brk.Window, "rolling window of fetch outcomes the breaker judges")
	f.DurationVar(&d.breakerTimeout, "breaker-open-timeout", brk.Timeout, "how long an open breaker fails fast before letting probes through")
	f.UintVar(&d.breakerProbes, "breaker-probes", uint(brk.HalfOpenRequests), "probes a half-open breaker lets through; all must succeed to close it")
}

// check names the flag of every out-of-range value, which the configs
// below would only name by field.
func (d *defenseFlags) check() error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if d.maxInflight < 0 {
		bad("--max-inflight %d must not be negative", d.maxInflight)
	}
	if d.minInflight < 1 {
		bad("--min-inflight %d must be at least 1", d.minInflight)
	}
	if d.queueTimeout < 0 {
		bad("--queue-timeout %v must not be negative", d.queueTimeout)
	}
	if !(d.rate >= 0) || !(d.clientRate >= 0) {
		bad("--rate-limit and --rate-limit-per-client must not be negative")
	}
	if !(d.breakerRatio > 0 && d.breakerRatio <= 1) {
		bad("--breaker-failure-ratio %v must be in (0, 1]", d.breakerRatio)
	}
	if d.breakerMin > 1<<32-1 || d.breakerProbes > 1<<32-1 {
		bad("--breaker-min-requests and --breaker-probes must fit in 32 bits")
	}
	if d.breakerWindow <= 0 || d.breakerTimeout <= 0 {
		bad("--breaker-window and --breaker-open-timeout must be positive")
	}
	return errors.Join(errs...)
}

func (d *defenseFlags) admission() shed.Config {
	cfg := shed.DefaultConfig()
	cfg.Limiter.MaxInflight = d.maxInflight
	cfg.Limiter.MinLimit = min(d.minInflight, max(d.maxInflight, 1))
	cfg.Limiter.QueueTimeout = d.queueTimeout
	cfg.Rate.Rate = d.rate
	cfg.Rate.PerClientRate = d.clientRate
	return cfg
}

func (d *defenseFlags) breakerConfig() (shed.BreakerConfig, error) {
	if err := d.check(); err != nil {
		return shed.BreakerConfig{}, err
	}
	cfg := shed.DefaultBreakerConfig()
	cfg.Disabled = !d.breaker
	cfg.FailureRatio = d.breakerRatio
	cfg.MinRequests = uint32(d.breakerMin)
	cfg.Window = d.breakerWindow
	cfg.Timeout = d.breakerTimeout
	cfg.HalfOpenRequests = uint32(d.breakerProbes)
	return cfg, nil
}

// applyProxy sets the proxy's defenses.
func (d *defenseFlags) applyProxy(cfg *proxy.Config) error {
	brk, err := d.breakerConfig()
	if err != nil {
		return err
	}
	cfg.Defenses = d.xf
	cfg.NoCollapse = !d.collapse
	cfg.Admission = d.admission()
	cfg.Breaker = brk
	return nil
}

// originFlags configure the store's read-through origin.
type originFlags struct {
	url             string
	cfg             origin.Config
	staleMaxBytes   int64
	jitterClientTTL bool
}

func (f *flags) originKnobs(o *originFlags) {
	o.cfg = origin.DefaultConfig()
	f.StringVar(&o.url, "origin", "", "read-through origin for GET misses: `URL` http(s)://host/path/{key} or redis://host:port/db (empty: none)")
	f.DurationVar(&o.cfg.DefaultTTL, "origin-ttl", o.cfg.DefaultTTL, "TTL of an origin value when the origin gives none (Cache-Control, Expires, PTTL)")
	f.DurationVar(&o.cfg.NegativeTTL, "negative-ttl", o.cfg.NegativeTTL, "how long a 404/410 (or Redis nil) from the origin is cached as a miss")
	f.DurationVar(&o.cfg.Timeout, "origin-timeout", o.cfg.Timeout, "bound on one origin load")
	f.size(&o.cfg.MaxBytes, "origin-max-bytes", o.cfg.MaxBytes, "largest origin value accepted (`size`)")
	f.size(&o.staleMaxBytes, "stale-max-bytes", 64<<20, "memory for stale copies and negative entries kept beside the store's data (`size`)")
	f.BoolVar(&o.jitterClientTTL, "jitter-client-ttl", false, "spread TTLs that clients give (SET EX, EXPIRE, ...) by --ttl-jitter too")
}

// applyStore sets the store's read-through and defenses; the caller
// closes the returned origin (nil without --origin).
func (o *originFlags) applyStore(cfg *cluster.Config, d *defenseFlags) (*origin.Origin, error) {
	brk, err := d.breakerConfig()
	if err != nil {
		return nil, err
	}
	cfg.Defenses = d.xf
	cfg.NoCollapse = !d.collapse
	cfg.Admission = d.admission()
	cfg.Breaker = brk
	cfg.LoadedMaxBytes = o.staleMaxBytes
	cfg.JitterClientTTL = o.jitterClientTTL
	if o.url == "" {
		return nil, nil
	}
	ocfg := o.cfg
	ocfg.URL = o.url
	ocfg.Logger = cfg.Logger
	org, err := origin.New(ocfg)
	if err != nil {
		return nil, err
	}
	cfg.Origin = org
	cfg.OriginName = "origin " + org.String()
	return org, nil
}
