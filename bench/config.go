package bench

import (
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"corral/bench/originsim"
	"corral/bench/report"
	"corral/bench/workload"
)

// Scenarios lists the scenario names Run accepts.
var Scenarios = []string{"stampede", "recovery", "zipf", "ablation"}

// Config configures a scenario.
type Config struct {
	// Scenario is one of Scenarios.
	Scenario string

	// Duration is the measured time of the whole scenario, split evenly
	// among its runs (--duration). Setup (starting targets, warming the
	// cache) comes on top, a few seconds at most.
	Duration time.Duration

	// Interval is the width of one point of the time series (--interval).
	Interval time.Duration

	// Clients is the number of client connections (--clients).
	Clients int

	// Rate is the arrival rate in requests per second (--rate); 0 runs
	// closed loop, each client sending its next request when the last is
	// answered.
	Rate float64

	// Pipeline is the number of commands per round trip (--pipeline).
	Pipeline int

	// Workload is what the clients ask for (--dist, --keys, --skew,
	// --read-ratio, --value-size).
	Workload workload.Config

	// Origin configures the in-process origin simulator (--latency,
	// --jitter, --max-concurrency, --max-age, --value-size). Its Addr is
	// ignored: it listens on a loopback ephemeral port.
	Origin originsim.Config

	// OutageStart and OutageLength place the recovery scenario's origin
	// outage within each run (--outage-start, --outage-length).
	OutageStart, OutageLength time.Duration

	// NaiveRetries is how many times a naive client retries a failed
	// origin load at once (--naive-retries).
	NaiveRetries int

	// Addr, when set, points the scenario at a running corral proxy (or
	// any RESP server) instead of starting one (--addr).
	Addr string
	// Password authenticates to Addr and PlainAddr (--password).
	Password string
	// AdminAddr is Addr's admin HTTP address, for its /metrics (--admin-addr).
	AdminAddr string
	// PlainAddr is a plain store or Redis for the naive runs (--plain-addr);
	// empty starts a corral store in-process, or skips naive runs when Addr
	// is set.
	PlainAddr string
	// OriginURL is the origin naive clients load from when the origin is
	// not started in-process (--origin): http://host:port/k/{key}.
	OriginURL string
	// OriginStats is the /stats URL of a running origin simulator, to count
	// origin loads (and switch it off and on in the recovery scenario)
	// when it is not started in-process (--origin-stats).
	OriginStats string
	// Name names the run against Addr (--name). Default "corral".
	Name string

	// CorralFlags are extra `corral dev` flags for every corral started
	// in-process (--corral-flags).
	CorralFlags []string

	// Launcher starts corral roles in-process. Required unless Addr is set.
	Launcher Launcher

	// Seed seeds every random choice (--seed).
	Seed uint64

	// Progress shows a live status line; nil is quiet.
	Progress *report.Progress

	// Logger receives setup messages. Nil discards them.
	Logger *slog.Logger

	// Command is the command line, recorded in the report.
	Command string
}

// DefaultConfig returns the defaults of scenario, chosen so that it runs
// in seconds on a small machine and still shows the effect it is about.
func DefaultConfig(scenario string) (Config, error) {
	c := Config{
		Scenario:     scenario,
		Interval:     250 * time.Millisecond,
		Clients:      1000,
		Rate:         10000,
		Pipeline:     1,
		Workload:     workload.DefaultConfig(),
		Origin:       originsim.DefaultConfig(),
		NaiveRetries: 0,
		Name:         "corral",
		Seed:         1,
	}
	c.Origin.Addr = "127.0.0.1:0"
	c.Origin.MaxConcurrency = 64
	c.Origin.MaxAge = time.Second
	c.Workload.Dist, c.Workload.Keys = workload.HotSet, 8
	switch scenario {
	case "stampede":
		c.Duration = 8 * time.Second
	case "ablation":
		c.Duration = 36 * time.Second
	case "recovery":
		c.Duration = 20 * time.Second
		c.Clients, c.Rate = 200, 5000
		c.Workload.Dist, c.Workload.Keys = workload.Uniform, 100
		c.OutageStart, c.OutageLength = 3*time.Second, 4*time.Second
		c.NaiveRetries = 3
	case "zipf":
		c.Duration = 20 * time.Second
		c.Interval = time.Second
		c.Clients, c.Rate = 50, 0
		c.Workload.Dist, c.Workload.Keys, c.Workload.Skew, c.Workload.ReadRatio = workload.Zipfian, 100000, 0.99, 0.9
		c.Origin.MaxAge = time.Minute
	default:
		return Config{}, fmt.Errorf("bench: unknown scenario %q (use %v)", scenario, Scenarios)
	}
	return c, nil
}

// Validate reports every problem with c at once.
func (c Config) Validate() error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf("bench: "+format, args...)) }
	if !slices.Contains(Scenarios, c.Scenario) {
		bad("unknown scenario %q (use %v)", c.Scenario, Scenarios)
	}
	if c.Duration <= 0 || c.Interval <= 0 {
		bad("--duration %v and --interval %v must be positive", c.Duration, c.Interval)
	}
	if c.Clients < 1 {
		bad("--clients %d must be at least 1", c.Clients)
	}
	if !(c.Rate >= 0) {
		bad("--rate %v must not be negative", c.Rate)
	}
	if c.Pipeline < 1 {
		bad("--pipeline %d must be at least 1", c.Pipeline)
	}
	if c.NaiveRetries < 0 {
		bad("--naive-retries %d must not be negative", c.NaiveRetries)
	}
	if c.OutageStart < 0 || c.OutageLength < 0 {
		bad("--outage-start and --outage-length must not be negative")
	}
	if err := c.Workload.Validate(); err != nil {
		errs = append(errs, err)
	}
	o := c.Origin
	o.Addr = "127.0.0.1:0"
	if err := o.Validate(); err != nil {
		errs = append(errs, err)
	}
	if c.Addr == "" && c.Launcher == nil {
		bad("no launcher to start corral in-process, and no --addr")
	}
	if c.Addr != "" && c.Scenario == "ablation" {
		bad("ablation starts a corral of its own per defense; it cannot use --addr")
	}
	if c.Addr != "" && c.Scenario == "recovery" && c.OriginStats == "" {
		bad("recovery against --addr needs --origin-stats, the /stats URL of a `corral bench origin` it can switch off and on")
	}
	if c.Addr != "" && c.PlainAddr != "" && c.OriginURL == "" {
		bad("--plain-addr with --addr needs --origin, the URL naive clients load from")
	}
	return errors.Join(errs...)
}
