package origin

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
)

func TestRedact(t *testing.T) {
	tests := []struct{ in, want string }{
		{"http://h/v/{key}", "http://h/v/{key}"},
		{"http://u:p@h/v/{key}", "http://u:xxxxx@h/v/{key}"},
		{"http://u@h/v/{key}", "http://u@h/v/{key}"},
		{"https://u:p@ss@h:8443/v/{key}?x=@:y", "https://u:xxxxx@h:8443/v/{key}?x=@:y"},
		{"http://h/a:b@c/{key}", "http://h/a:b@c/{key}"},
		{"redis://:secret@127.0.0.1:6379/2", "redis://:xxxxx@127.0.0.1:6379/2"},
		{"redis://default:secret@127.0.0.1:6379", "redis://default:xxxxx@127.0.0.1:6379"},
		{"redis://default:@h", "redis://default:xxxxx@h"},
		{"redis://127.0.0.1:6379", "redis://127.0.0.1:6379"},
		{"no-scheme:pw@h", "no-scheme:pw@h"},
		{"", ""},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if got := redact(tt.in); got != tt.want {
				t.Errorf("redact(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestString(t *testing.T) {
	tests := []struct{ url, want string }{
		{"http://127.0.0.1:8080/v/{key}", "http://127.0.0.1:8080/v/{key}"},
		{"https://user:pw@origin.example/v/{key}?a=b", "https://user:xxxxx@origin.example/v/{key}?a=b"},
		{"redis://:pw@127.0.0.1:6379/1", "redis://:xxxxx@127.0.0.1:6379/1"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			o := newTestOrigin(t, tt.url, nil)
			if got := o.String(); got != tt.want {
				t.Errorf("String() = %q, want %q", got, tt.want)
			}
			if got := fmt.Sprint(o); got != tt.want {
				t.Errorf("fmt.Sprint = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestCloseTwice(t *testing.T) {
	for _, url := range []string{"http://127.0.0.1:1/{key}", "redis://127.0.0.1:1"} {
		t.Run(url, func(t *testing.T) {
			cfg := DefaultConfig()
			cfg.URL = url
			o, err := New(cfg)
			if err != nil {
				t.Fatal(err)
			}
			first := o.Close()
			if second := o.Close(); second != first {
				t.Errorf("second Close = %v, want the first's %v", second, first)
			}
		})
	}
}

func TestWithContextErr(t *testing.T) {
	expired, cancel := context.WithTimeout(t.Context(), 0)
	defer cancel()
	<-expired.Done()
	ioTimeout := errors.New("origin: GET x: i/o timeout")
	tests := []struct {
		name    string
		ctx     context.Context
		err     error
		want    error // errors.Is target
		wantMsg string
	}{
		{"live ctx: unchanged", t.Context(), ioTimeout, ioTimeout, "origin: GET x: i/o timeout"},
		{"expired ctx: deadline added", expired, ioTimeout, context.DeadlineExceeded, "origin: GET x: i/o timeout (context deadline exceeded)"},
		{"already says so", expired, fmt.Errorf("origin: GET x: %w", context.DeadlineExceeded), context.DeadlineExceeded, "origin: GET x: context deadline exceeded"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := withContextErr(tt.ctx, tt.err)
			if !errors.Is(got, tt.want) || !errors.Is(got, tt.err) {
				t.Errorf("withContextErr = %v, want it to wrap %v and %v", got, tt.err, tt.want)
			}
			if got.Error() != tt.wantMsg {
				t.Errorf("withContextErr = %q, want %q", got, tt.wantMsg)
			}
			if strings.Count(got.Error(), "origin:") != 1 {
				t.Errorf("withContextErr = %q, repeats the prefix", got)
			}
		})
	}
}
