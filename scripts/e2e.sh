#!/usr/bin/env bash
# make e2e: runs deploy/e2e's TestE2E (the Kubernetes manifests on Docker
# containers) against the image in $CORRAL_E2E_IMAGE, and removes this run's
# containers and network on any exit, even if the test binary is killed.
# Timings go to bin/e2e-report.txt.
set -euo pipefail
cd "$(dirname "$0")/.."

: "${CORRAL_E2E_IMAGE:?set CORRAL_E2E_IMAGE to the image to test (make e2e builds and sets it)}"
docker version --format '{{.Server.Version}}' >/dev/null

run=$(od -An -N3 -tx1 /dev/urandom | tr -d ' \n')
export CORRAL_E2E_RUN=$run
mkdir -p bin
export CORRAL_E2E_REPORT=$PWD/bin/e2e-report.txt
rm -f "$CORRAL_E2E_REPORT"
# The stores' persistent volumes (one directory per pod, as PVCs).
export CORRAL_E2E_VOLUMES=$PWD/bin/e2e-volumes-$run

cleanup() {
	local ids nets
	ids=$(docker ps -aq --filter "label=corral.e2e.run=$run" 2>/dev/null || true)
	if [ -n "$ids" ]; then docker rm -f -v $ids >/dev/null 2>&1 || true; fi
	nets=$(docker network ls -q --filter "label=corral.e2e.run=$run" 2>/dev/null || true)
	if [ -n "$nets" ]; then docker network rm $nets >/dev/null 2>&1 || true; fi
	rm -rf "$CORRAL_E2E_VOLUMES"
}
trap cleanup EXIT

echo "e2e run $run with image $CORRAL_E2E_IMAGE"
start=$(date +%s)
go test -tags e2e -count=1 -v -timeout 10m -run '^TestE2E$' ./deploy/e2e/
echo
echo "e2e passed in $(($(date +%s) - start))s. Timings ($CORRAL_E2E_REPORT):"
cat "$CORRAL_E2E_REPORT"
