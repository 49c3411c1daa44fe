# Shared by the bench scripts: free ports, background processes that are
# stopped on exit, and waiting for a RESP server to answer PING.
# Source it after setting SCRIPT (the name used in error messages).

free_port() {
	local p
	while :; do
		p=$((20000 + RANDOM % 20000))
		if ! (exec 3<>/dev/tcp/127.0.0.1/$p) 2>/dev/null; then echo "$p"; return; fi
	done
}

pids=()
tmp=$(mktemp -d)
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
	rm -rf "$tmp"
}
trap cleanup EXIT

wait_ping() {
	for _ in $(seq 1 100); do
		redis-cli -p "$1" ping 2>/dev/null | grep -q PONG && return 0
		sleep 0.1
	done
	echo "$SCRIPT: nothing answers PING on port $1" >&2
	exit 1
}
