package origin

import (
	"net/http"
	"testing"
	"time"
)

func TestFreshness(t *testing.T) {
	now := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	date := func(d time.Duration) string { return now.Add(d).Format(http.TimeFormat) }
	const def = time.Minute
	tests := []struct {
		name    string
		h       http.Header
		ttl     time.Duration
		noStore bool
	}{
		{"nothing: default", http.Header{}, def, false},
		{"unrelated directives: default", http.Header{"Cache-Control": {"public, must-revalidate, immutable"}}, def, false},
		{"max-age", http.Header{"Cache-Control": {"max-age=30"}}, 30 * time.Second, false},
		{"max-age with spaces", http.Header{"Cache-Control": {"  public ,max-age = 30 , x"}}, 30 * time.Second, false},
		{"quoted max-age", http.Header{"Cache-Control": {`max-age="30"`}}, 30 * time.Second, false},
		{"upper case", http.Header{"Cache-Control": {"Max-Age=30"}}, 30 * time.Second, false},
		{"s-maxage wins", http.Header{"Cache-Control": {"max-age=30, s-maxage=10"}}, 10 * time.Second, false},
		{"s-maxage on another line", http.Header{"Cache-Control": {"max-age=30", "s-maxage=90"}}, 90 * time.Second, false},
		{"duplicate max-age: most restrictive", http.Header{"Cache-Control": {"max-age=30, max-age=20"}}, 20 * time.Second, false},
		{"invalid max-age: stale", http.Header{"Cache-Control": {"max-age=abc"}}, 0, true},
		{"negative max-age: stale", http.Header{"Cache-Control": {"max-age=-5"}}, 0, true},
		{"empty max-age: stale", http.Header{"Cache-Control": {"max-age="}}, 0, true},
		{"max-age without value: stale", http.Header{"Cache-Control": {"max-age"}}, 0, true},
		{"one invalid duplicate: stale", http.Header{"Cache-Control": {"max-age=30, max-age=x"}}, 0, true},
		{"huge max-age capped", http.Header{"Cache-Control": {"max-age=99999999999999999999999"}}, (1 << 31) * time.Second, false},
		{"Age", http.Header{"Cache-Control": {"max-age=30"}, "Age": {"10"}}, 20 * time.Second, false},
		{"Age equal to max-age", http.Header{"Cache-Control": {"max-age=30"}, "Age": {"30"}}, 0, true},
		{"invalid Age ignored", http.Header{"Cache-Control": {"max-age=30"}, "Age": {"ten"}}, 30 * time.Second, false},
		{"Age does not shorten the default", http.Header{"Age": {"10"}}, def, false},
		{"no-store", http.Header{"Cache-Control": {"no-store"}}, 0, true},
		{"NO-STORE", http.Header{"Cache-Control": {"NO-STORE"}}, 0, true},
		{"no-cache", http.Header{"Cache-Control": {"max-age=30, no-cache"}}, 0, true},
		{"private", http.Header{"Cache-Control": {"private"}}, 0, true},
		{"qualified private names fields only", http.Header{"Cache-Control": {`private="Set-Cookie", max-age=30`}}, 30 * time.Second, false},
		{"qualified no-cache names fields only", http.Header{"Cache-Control": {`no-cache="Set-Cookie, X-Foo", max-age=30`}}, 30 * time.Second, false},
		{"quoted comma is not a separator", http.Header{"Cache-Control": {`x="a, no-store", max-age=30`}}, 30 * time.Second, false},
		{"escaped quote", http.Header{"Cache-Control": {`x="a\", no-store", max-age=30`}}, 30 * time.Second, false},
		{"unterminated quote", http.Header{"Cache-Control": {`x="a, max-age=30`}}, def, false},
		{"max-age=0", http.Header{"Cache-Control": {"max-age=0"}}, 0, true},
		{"s-maxage=0 beats max-age", http.Header{"Cache-Control": {"max-age=60, s-maxage=0"}}, 0, true},
		{"Expires minus Date", http.Header{"Date": {date(-time.Hour)}, "Expires": {date(-time.Hour + 10*time.Second)}}, 10 * time.Second, false},
		{"Expires minus Date minus Age", http.Header{"Date": {date(0)}, "Expires": {date(10 * time.Second)}, "Age": {"4"}}, 6 * time.Second, false},
		{"Expires minus now", http.Header{"Expires": {date(25 * time.Second)}}, 25 * time.Second, false},
		{"Expires minus now, invalid Date", http.Header{"Date": {"yesterday"}, "Expires": {date(25 * time.Second)}}, 25 * time.Second, false},
		{"Expires in the past", http.Header{"Expires": {date(-time.Second)}}, 0, true},
		{"Expires 0", http.Header{"Expires": {"0"}}, 0, true},
		{"empty Expires", http.Header{"Expires": {""}}, 0, true},
		{"Expires in RFC 850 form", http.Header{"Expires": {now.Add(time.Minute).Format(time.RFC850)}}, time.Minute, false},
		{"max-age beats Expires", http.Header{"Cache-Control": {"max-age=5"}, "Expires": {date(time.Hour)}}, 5 * time.Second, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ttl, noStore := freshness(tt.h, now, def)
			if ttl != tt.ttl || noStore != tt.noStore {
				t.Errorf("freshness(%v) = %v, %v; want %v, %v", tt.h, ttl, noStore, tt.ttl, tt.noStore)
			}
		})
	}
	t.Run("DefaultTTL 0 is not stored", func(t *testing.T) {
		if ttl, noStore := freshness(http.Header{}, now, 0); ttl != 0 || !noStore {
			t.Errorf("freshness = %v, %v; want 0, true", ttl, noStore)
		}
	})
}

func BenchmarkFreshness(b *testing.B) {
	h := http.Header{"Cache-Control": {"public, max-age=300, s-maxage=600, stale-while-revalidate=30"}, "Age": {"12"}}
	now := time.Now()
	for b.Loop() {
		freshness(h, now, time.Minute)
	}
}
