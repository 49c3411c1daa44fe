package collapse

import (
	"errors"
	"testing"
)

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
		want error
	}{
		{"default", DefaultConfig(), nil},
		{"named", Config{Name: "proxy"}, nil},
		{"bad utf8", Config{Name: "a\xffb"}, ErrInvalidName},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.cfg.Validate(); !errors.Is(err, tt.want) {
				t.Fatalf("Validate = %v, want %v", err, tt.want)
			}
			New[int](tt.cfg) // never panics
		})
	}
}
