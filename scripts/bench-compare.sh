#!/usr/bin/env bash
# bench-compare: redis-benchmark GET against a redis-server and against
# `corral dev`, in one run, alternating, medians of ROUNDS, printing the
# ratio corral/redis at pipeline depths 1 and 16.
#
#   make bench-compare            # or: ROUNDS=5 scripts/bench-compare.sh
#
# Workload (the foundation issue's): -c 50 -d 100 -r 100000, GET, after the
# keyspace is loaded with SET. corral runs with a long --l1-max-age so the
# measured path is the L1 hit; a warm-up pass fills the L1 first.
# Everything runs on loopback and stops by itself.
set -euo pipefail
cd "$(dirname "$0")/.."

ROUNDS=${ROUNDS:-3}
CLIENTS=${CLIENTS:-50}
KEYSPACE=${KEYSPACE:-100000}
SIZE=${SIZE:-100}
N1=${N1:-400000}     # requests per run at pipeline 1
N16=${N16:-2000000}  # requests per run at pipeline 16
BIN=${BIN:-bin/corral}

for tool in redis-server redis-benchmark redis-cli; do
	command -v "$tool" >/dev/null || { echo "bench-compare: $tool not found (apt-get install redis-server redis-tools)" >&2; exit 1; }
done
[ -x "$BIN" ] || { echo "bench-compare: $BIN missing (make build)" >&2; exit 1; }

SCRIPT=bench-compare
# shellcheck source=scripts/lib.sh
. scripts/lib.sh

REDIS_PORT=$(free_port)
redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save '' --appendonly no --daemonize no --logfile "$tmp/redis.log" &
pids+=($!)
CORRAL_PORT=$(free_port)
"$BIN" dev --listen "127.0.0.1:$CORRAL_PORT" --admin '' --l1-max-age 1h --log-level warn --log-format text >"$tmp/corral.out" 2>"$tmp/corral.log" &
pids+=($!)
wait_ping "$REDIS_PORT"
wait_ping "$CORRAL_PORT"

bench() { # port pipeline requests -> requests per second
	redis-benchmark -h 127.0.0.1 -p "$1" -c "$CLIENTS" -d "$SIZE" -r "$KEYSPACE" -n "$3" -P "$2" -t get -q 2>/dev/null |
		tr '\r' '\n' | awk '/^GET:/ {print $2}' | tail -1
}

echo "loading $KEYSPACE keys of $SIZE bytes into both targets..."
for port in "$REDIS_PORT" "$CORRAL_PORT"; do
	redis-benchmark -h 127.0.0.1 -p "$port" -c "$CLIENTS" -d "$SIZE" -r "$KEYSPACE" -n $((KEYSPACE * 3)) -P 16 -t set -q >/dev/null 2>&1
	bench "$port" 16 $((KEYSPACE * 5)) >/dev/null # warm-up: fills corral's L1
done

declare -A runs
for round in $(seq 1 "$ROUNDS"); do
	for p in 1 16; do
		n=$N1; [ "$p" = 16 ] && n=$N16
		for target in redis corral; do
			port=$REDIS_PORT; [ "$target" = corral ] && port=$CORRAL_PORT
			rps=$(bench "$port" "$p" "$n")
			runs[$target,$p]+="$rps "
			printf 'round %d  P%-2s  %-7s %12s req/s\n' "$round" "$p" "$target" "$rps"
		done
	done
done

median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }

echo
echo "GET, -c $CLIENTS -d $SIZE -r $KEYSPACE, medians of $ROUNDS alternating runs ($(nproc) cores)"
printf '%-10s %14s %14s %8s\n' pipeline redis-server corral ratio
for p in 1 16; do
	r=$(echo "${runs[redis,$p]}" | median)
	c=$(echo "${runs[corral,$p]}" | median)
	printf '%-10s %14.0f %14.0f %8.2fx\n' "P$p" "$r" "$c" "$(awk -v c="$c" -v r="$r" 'BEGIN {print c / r}')"
done
