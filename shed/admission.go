package shed

import "context"

// Admission is the front door of fetches to one target: a Rate, then a
// Limiter. Build one with New; the zero value is not usable. All methods
// are safe for concurrent use.
type Admission struct {
	limiter *Limiter
	rate    *Rate
}

// New returns an Admission configured by cfg, or an error matching
// ErrInvalidConfig when cfg.Validate rejects it.
func New(cfg Config) (*Admission, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.merged()
	l, err := NewLimiter(cfg.Limiter)
	if err != nil {
		return nil, err
	}
	r, err := NewRate(cfg.Rate)
	if err != nil {
		return nil, err
	}
	return &Admission{limiter: l, rate: r}, nil
}

// Admit admits one fetch on behalf of client (an address without port): it
// takes a token from the rate limits, then waits for a fetch slot as
// Limiter.Acquire does. It returns an error matching ErrRateLimited or
// ErrOverloaded when the request is shed, and ctx.Err() when ctx ends
// first. On success the caller must Release the Ticket.
func (a *Admission) Admit(ctx context.Context, client string) (Ticket, error) {
	if err := a.rate.Allow(client); err != nil {
		return Ticket{}, err
	}
	return a.limiter.Acquire(ctx)
}

// Limiter returns the Admission's Limiter, for callers that limit
// concurrency apart from the rate (for example only on cache misses).
func (a *Admission) Limiter() *Limiter { return a.limiter }

// Rate returns the Admission's Rate, for callers that apply rate limits to
// every command and concurrency limits only to fetches.
func (a *Admission) Rate() *Rate { return a.rate }
