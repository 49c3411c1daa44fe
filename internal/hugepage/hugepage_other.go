//go:build !linux

package hugepage

// Supported reports false: only Linux has transparent huge pages.
func Supported() bool { return false }

type marker struct{}

func newMarker() *marker { return &marker{} }

func (*marker) mark() (advised, collapsed int64, err error) { return 0, 0, nil }
