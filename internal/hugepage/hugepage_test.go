package hugepage

import "testing"

func TestThpDisabledReadsGODEBUG(t *testing.T) {
	for godebug, want := range map[string]bool{
		"":                             false,
		"disablethp=1":                 true,
		"gctrace=1,disablethp=1":       true,
		"disablethp=0":                 false,
		"disablethp=1,disablethp=0":    false,
		"madvdontneed=1, disablethp=1": true,
	} {
		if got := thpDisabled(godebug); got != want {
			t.Errorf("thpDisabled(%q) = %v, want %v", godebug, got, want)
		}
	}
}
