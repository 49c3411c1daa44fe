package proxy

import (
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"corral/internal/clock"
	"corral/internal/testkit"
	"corral/shed"
)

// shutdown stops the upstream redis-server for good.
func shutdown(t *testing.T, admin *testkit.RawConn) {
	t.Helper()
	admin.Send(testkit.Command("SHUTDOWN", "NOSAVE"))
	admin.ExpectClosed(10 * time.Second)
}

func TestStaleIfErrorServesExpiredL1EntryWhenUpstreamDies(t *testing.T) {
	up := testkit.StartRedis(t)
	admin := testkit.Dial(t, up)
	admin.Do("SET", "hot", "v1")
	admin.Do("SET", "cold", "c1")
	clk := clock.NewFake(time.Now())
	reg := prometheus.NewRegistry()
	p := startProxy(t, up, func(c *Config) {
		c.Clock = clk
		c.Registerer = reg
		c.Defenses.StaleIfError = time.Minute
		c.Defenses.Jitter = 0
		c.UpstreamTimeout = time.Second
	})
	c := testkit.Dial(t, p.Addr())
	if got := c.Do("GET", "hot"); got != "$2\r\nv1\r\n" {
		t.Fatalf("GET hot = %q", got)
	}
	shutdown(t, admin)

	clk.Advance(30 * time.Second) // the L1 entry (1s) is long expired
	if got := c.Do("GET", "hot"); got != "$2\r\nv1\r\n" {
		t.Fatalf("GET hot with the upstream dead, within stale-if-error = %q, want the stale v1", got)
	}
	if got := c.Do("GET", "cold"); !strings.HasPrefix(got, "-UPSTREAM") {
		t.Fatalf("GET of a key never cached with the upstream dead = %q, want an UPSTREAM error", got)
	}
	if n := testutil.ToFloat64(p.metrics.staleServed.WithLabelValues("error")); n != 1 {
		t.Fatalf("corral_stale_served_total{role=proxy,reason=error} = %v, want 1", n)
	}
	clk.Advance(time.Minute) // past stale-if-error
	if got := c.Do("GET", "hot"); !strings.HasPrefix(got, "-") {
		t.Fatalf("GET hot past stale-if-error = %q, want an error", got)
	}
}

func TestXFetchRefreshesHotL1EntryBeforeExpiry(t *testing.T) {
	for _, tt := range []struct {
		name    string
		beta    float64
		r       float64 // what Rand returns; XFetch uses 1-r
		refresh bool
	}{
		{"early refresh when the draw says so", 1e6, 0.999999, true},
		{"never before expiry with r=1", 1e6, 0, false},
		{"beta 0 disables", 0, 0.999999, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			up := testkit.StartRedis(t)
			admin := testkit.Dial(t, up)
			admin.Do("SET", "hot", "v1")
			reg := prometheus.NewRegistry()
			p := startProxy(t, up, func(c *Config) {
				c.L1MaxAge = time.Hour
				c.Registerer = reg
				c.Defenses.Beta = tt.beta
				c.Rand = func() float64 { return tt.r }
			})
			c := testkit.Dial(t, p.Addr())
			c.Do("GET", "hot") // fills the L1
			admin.Do("SET", "hot", "v2")
			// A hit on the filled entry: served from the L1 (v1) at once.
			if got := c.Do("GET", "hot"); got != "$2\r\nv1\r\n" {
				t.Fatalf("hit = %q, want the cached v1", got)
			}
			if !tt.refresh {
				if n := testutil.ToFloat64(p.metrics.earlyRefresh); n != 0 {
					t.Fatalf("early refreshes = %v, want 0", n)
				}
				if got := c.Do("GET", "hot"); got != "$2\r\nv1\r\n" {
					t.Fatalf("GET = %q, want v1 still cached", got)
				}
				return
			}
			testkit.Eventually(t, func() bool { return c.Do("GET", "hot") == "$2\r\nv2\r\n" }, 10*time.Second,
				"the L1 never picked up v2 through an early refresh")
			if n := testutil.ToFloat64(p.metrics.earlyRefresh); n < 1 {
				t.Fatalf("early refreshes = %v, want at least 1", n)
			}
		})
	}
}

func TestBreakerOpensOnDeadUpstreamAndFailsFast(t *testing.T) {
	up := testkit.StartRedis(t)
	admin := testkit.Dial(t, up)
	p := startProxy(t, up, func(c *Config) {
		c.L1MaxAge = 0
		c.Breaker.MinRequests = 3
		c.Breaker.Timeout = time.Hour
	})
	shutdown(t, admin)
	c := testkit.Dial(t, p.Addr())
	for i := range 3 {
		if got := c.Do("GET", "k"); !strings.HasPrefix(got, "-UPSTREAM unavailable") {
			t.Fatalf("GET %d on a dead upstream = %q, want an UPSTREAM error", i, got)
		}
	}
	if got := c.Do("GET", "k"); !strings.HasPrefix(got, "-BREAKER open") {
		t.Fatalf("GET after 3 failures = %q, want BREAKER open", got)
	}
	if got := c.Do("SET", "k", "v"); !strings.HasPrefix(got, "-BREAKER open") {
		t.Fatalf("SET with the breaker open = %q, want BREAKER open", got)
	}
	if s := p.up.fixed.brk.State(); s != shed.Open {
		t.Fatalf("breaker state %v, want open", s)
	}
}

func TestAdmissionShedsUpstreamFetchesPastTheLimit(t *testing.T) {
	up := testkit.StartRedis(t)
	admin := testkit.Dial(t, up)
	p := startProxy(t, up, func(c *Config) {
		c.Admission.Limiter.MaxInflight = 1
		c.Admission.Limiter.MinLimit = 1
		c.Admission.Limiter.InitialLimit = 1
		c.Admission.Limiter.QueueTimeout = 20 * time.Millisecond
	})
	// Hold the upstream for a while: the one admitted fetch waits on it.
	admin.Send(testkit.Command("CLIENT", "PAUSE", "1000", "ALL"))
	if got := admin.ReadReply(); got != "+OK\r\n" {
		t.Fatalf("CLIENT PAUSE = %q", got)
	}
	const readers = 8
	replies := make([]string, readers)
	var wg sync.WaitGroup
	for i := range readers {
		wg.Go(func() {
			c := testkit.Dial(t, p.Addr())
			defer c.Close()
			c.SetTimeout(10 * time.Second)
			replies[i] = c.Do("GET", "key"+string(rune('a'+i)))
		})
	}
	wg.Wait()
	shedN, okN := 0, 0
	for _, r := range replies {
		switch {
		case strings.HasPrefix(r, "-SHED overloaded"):
			shedN++
		case r == "$-1\r\n":
			okN++
		default:
			t.Errorf("reply %q, want a nil or SHED overloaded", r)
		}
	}
	if okN < 1 || shedN < 1 {
		t.Fatalf("%d answered, %d shed; want at least one of each with one fetch slot", okN, shedN)
	}
}
