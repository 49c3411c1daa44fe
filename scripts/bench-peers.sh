#!/usr/bin/env bash
# bench-peers: the zipf workload of `corral bench zipf` against
#   redis-server                      (the bar),
#   nutcracker (twemproxy) in front of that redis-server,
#   corral dev, L1 on (--l1-max-age 1s, the default),
#   corral dev, L1 off (--l1-max-age 0: every GET goes to the store),
# in one run, alternating targets within each round, medians of ROUNDS,
# printing throughput and p99 and their ratios to redis-server.
#
#   make bench-peers              # or: ROUNDS=5 DURATION=20s scripts/bench-peers.sh
#
# Needs redis-server and nutcracker on PATH:
#   apt-get install -y redis-server nutcracker
# Every target runs on loopback ports and stops with the script. Each
# measurement is `corral bench zipf --addr ...`, which first MSETs the
# keyspace into the target, so all four serve the same data.
set -euo pipefail
cd "$(dirname "$0")/.."

ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-10s}
CLIENTS=${CLIENTS:-50}
PIPELINE=${PIPELINE:-1}
KEYS=${KEYS:-100000}
SKEW=${SKEW:-0.99}
READ_RATIO=${READ_RATIO:-0.9}
SIZE=${SIZE:-100}
BIN=${BIN:-bin/corral}

for tool in redis-server redis-cli nutcracker; do
	command -v "$tool" >/dev/null || { echo "bench-peers: $tool not found (apt-get install -y redis-server redis-tools nutcracker)" >&2; exit 1; }
done
[ -x "$BIN" ] || { echo "bench-peers: $BIN missing (make build)" >&2; exit 1; }

SCRIPT=bench-peers
# shellcheck source=scripts/lib.sh
. scripts/lib.sh

REDIS_PORT=$(free_port)
redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save '' --appendonly no --daemonize no --logfile "$tmp/redis.log" &
pids+=($!)

TWEM_PORT=$(free_port)
cat >"$tmp/nutcracker.yml" <<YML
bench:
  listen: 127.0.0.1:$TWEM_PORT
  hash: fnv1a_64
  distribution: ketama
  redis: true
  auto_eject_hosts: false
  servers:
   - 127.0.0.1:$REDIS_PORT:1
YML
nutcracker -c "$tmp/nutcracker.yml" -o "$tmp/nutcracker.log" -s "$(free_port)" -a 127.0.0.1 -p "$tmp/nutcracker.pid" &
pids+=($!)

L1_PORT=$(free_port) L1_ADMIN=$(free_port)
"$BIN" dev --listen "127.0.0.1:$L1_PORT" --admin "127.0.0.1:$L1_ADMIN" --log-level warn --log-format text >"$tmp/corral-l1.out" 2>"$tmp/corral-l1.log" &
pids+=($!)
NOL1_PORT=$(free_port) NOL1_ADMIN=$(free_port)
"$BIN" dev --listen "127.0.0.1:$NOL1_PORT" --admin "127.0.0.1:$NOL1_ADMIN" --l1-max-age 0 --log-level warn --log-format text >"$tmp/corral-nol1.out" 2>"$tmp/corral-nol1.log" &
pids+=($!)

wait_ping "$REDIS_PORT"
wait_ping "$TWEM_PORT"
wait_ping "$L1_PORT"
wait_ping "$NOL1_PORT"

targets=(redis nutcracker corral corral-nol1)
declare -A port=([redis]=$REDIS_PORT [nutcracker]=$TWEM_PORT [corral]=$L1_PORT [corral-nol1]=$NOL1_PORT)
declare -A admin=([redis]="" [nutcracker]="" [corral]="127.0.0.1:$L1_ADMIN" [corral-nol1]="127.0.0.1:$NOL1_ADMIN")

field() { # file name -> the run's value of "name"
	awk -v k="\"$2\":" '$1 == k { gsub(/,/, "", $2); print $2; exit }' "$1"
}

declare -A ops p99
for round in $(seq 1 "$ROUNDS"); do
	for t in "${targets[@]}"; do
		out="$tmp/$t.$round.json"
		"$BIN" bench zipf --addr "127.0.0.1:${port[$t]}" --admin-addr "${admin[$t]}" --name "$t" \
			--duration "$DURATION" --clients "$CLIENTS" --pipeline "$PIPELINE" --keys "$KEYS" --skew "$SKEW" \
			--read-ratio "$READ_RATIO" --value-size "$SIZE" --quiet --json "$out" >/dev/null
		o=$(field "$out" ops_per_s) q=$(field "$out" p99_ms) e=$(field "$out" errors)
		ops[$t]+="$o " p99[$t]+="$q "
		printf 'round %d  %-12s %12.0f ops/s  p99 %8.2f ms  errors %s\n' "$round" "$t" "$o" "$q" "$e"
	done
done

median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }

echo
echo "zipf (skew $SKEW over $KEYS keys, read ratio $READ_RATIO, $SIZE-byte values), $CLIENTS clients closed loop, pipeline $PIPELINE,"
echo "$DURATION per run, medians of $ROUNDS alternating rounds ($(nproc) cores; load average $(cut -d' ' -f1-3 /proc/loadavg))"
printf '%-14s %12s %10s %12s\n' target ops/s p99-ms "vs redis"
r=$(echo "${ops[redis]}" | median)
for t in "${targets[@]}"; do
	o=$(echo "${ops[$t]}" | median)
	q=$(echo "${p99[$t]}" | median)
	printf '%-14s %12.0f %10.2f %11.2fx\n' "$t" "$o" "$q" "$(awk -v o="$o" -v r="$r" 'BEGIN {print o / r}')"
done
