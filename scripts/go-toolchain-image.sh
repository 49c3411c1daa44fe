#!/usr/bin/env bash
# Makes a Go build image from this machine's toolchain, for building corral's
# image from source where no Go image can be pulled:
#
#   scripts/go-toolchain-image.sh [IMAGE]          # default corral-go:local
#   make image-source GO_IMAGE=corral-go:local
#
# The image holds the host's GOROOT, a shell with the libraries it links, and
# the CA bundle (the Go stage downloads modules through GOPROXY). Nothing is
# pulled.
set -euo pipefail
image=${1:-corral-go:local}
goroot=$(go env GOROOT)
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT

mkdir -p "$root/bin" "$root/etc/ssl/certs" "$root/tmp" "$root/usr/local"
chmod 1777 "$root/tmp"
cp -L /bin/sh "$root/bin/sh"
# The shell's shared libraries and loader, at the paths it looks for them.
for lib in $(ldd /bin/sh | grep -o '/[^ ]*'); do
	mkdir -p "$root$(dirname "$lib")"
	cp -L "$lib" "$root$lib"
done
cp /etc/ssl/certs/ca-certificates.crt "$root/etc/ssl/certs/"
cp -a "$goroot" "$root/usr/local/go"

tar -C "$root" -c . | docker import \
	--change 'ENV PATH=/usr/local/go/bin:/bin' \
	--change 'ENV GOTOOLCHAIN=local' \
	--change 'ENV HOME=/tmp' \
	- "$image" >/dev/null
docker run --rm "$image" go version
echo "built $image; now: make image-source GO_IMAGE=$image"
