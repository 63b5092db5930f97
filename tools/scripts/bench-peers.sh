#!/usr/bin/env bash
# bench-peers.sh runs every bellhop-bench scenario against bellhop and the
# peer servers of bench/peers (gws, gorilla, nbio, Node ws) in one run, the
# server pinned to one core and the load to the other, and writes
# results/peers-<date>/results.jsonl and report.md (one table per case with
# the ratio bellhop / best peer, the goals met or missed, latency plots).
#
# Every server is started fresh for every run by the harness (-server-cmd) and
# stopped after it, and the servers take turns within each case (in an order
# rotated every round, with a pause between runs) so a noisy minute hurts all
# of them alike. With ROUNDS > 1 every case runs ROUNDS times
# per server and the report shows medians.
#
# Environment (defaults in brackets):
#   ROUNDS [1]  SERVER_CPU [0]  LOAD_CPU [1]  PORT [3700]
#   SERVERS ["bellhop gws gorilla nbio node-ws"]
#   CASES ["connect hold echo-128 broadcast-saturated broadcast-2hz connect-wss hold-wss hotel"]
#   HOLD_CONNS [19000]  CONNECT_CONNS [10000]  ECHO_CONNS [1000]  ECHO_SECONDS [10s]
#   BCAST_CONNS [10000]  BCAST_MESSAGES [20]  BCAST_2HZ_MESSAGES [20]  WSS_CONNS [5000]
#   HOTEL_SECONDS [10s]  OUT [results/peers-<date>]  SETTLE [3] (seconds between runs)
# The wss cases and the hotel case run against bellhop only: the peers speak
# plain ws, and only bellhop has the hotel protocol.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/../.."
GO=${GO:-go}
ROUNDS=${ROUNDS:-1}
SERVER_CPU=${SERVER_CPU:-0}
LOAD_CPU=${LOAD_CPU:-1}
PORT=${PORT:-3700}
SERVERS=${SERVERS:-"bellhop gws gorilla nbio node-ws"}
CASES=${CASES:-"connect hold echo-128 broadcast-saturated broadcast-2hz connect-wss hold-wss hotel"}
HOLD_CONNS=${HOLD_CONNS:-19000}
CONNECT_CONNS=${CONNECT_CONNS:-10000}
ECHO_CONNS=${ECHO_CONNS:-1000}
ECHO_SECONDS=${ECHO_SECONDS:-10s}
BCAST_CONNS=${BCAST_CONNS:-10000}
BCAST_MESSAGES=${BCAST_MESSAGES:-20}
BCAST_2HZ_MESSAGES=${BCAST_2HZ_MESSAGES:-20}
WSS_CONNS=${WSS_CONNS:-5000}
HOTEL_SECONDS=${HOTEL_SECONDS:-10s}
OUT=${OUT:-results/peers-$(date +%Y%m%d-%H%M%S)}
SETTLE=${SETTLE:-3}

DEV_JWT_SECRET=bellhop-development-secret-do-not-use-in-prod
DEV_API_KEY=bellhop-dev-api-key

echo "building bellhop, bellhop-bench, gencert and the peers"
"$GO" build -o bin/ ./cmd/bellhop ./cmd/bellhop-bench ./tools/gencert
GO="$GO" bash bench/peers/build.sh bin/peers
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
if [[ ! -f $OUT/cert.pem ]]; then
	bin/gencert -out-cert "$OUT/cert.pem" -out-key "$OUT/key.pem" -hosts localhost,127.0.0.1 >/dev/null
fi
{
	echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
	echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //') x $(nproc)"
	echo "kernel: $(uname -r)"
	echo "go: $("$GO" env GOVERSION)"
	echo "node: $(node --version 2>/dev/null || echo none)"
	echo "server cpu: $SERVER_CPU, load cpu: $LOAD_CPU, rounds: $ROUNDS"
} >"$OUT/machine.txt"
cat "$OUT/machine.txt"

# server_cmd prints the command that starts server $1 on port $2 with the
# echo protocol on /echo (for bellhop-bench -server-cmd: no shell, split on
# spaces).
server_cmd() {
	local name=$1 port=$2
	case $name in
	bellhop) echo "bin/bellhop -host 127.0.0.1 -port $port -echo-path /echo -metrics=false -loops 1 -max-connections 19500 -ping-interval 0 -idle-timeout 10m" ;;
	bellhop-wss) echo "bin/bellhop -host 127.0.0.1 -port $port -echo-path /echo -metrics=false -loops 1 -max-connections 19500 -ping-interval 0 -idle-timeout 10m -ssl -ssl-cert $OUT/cert.pem -ssl-key $OUT/key.pem" ;;
	gws | gorilla) echo "bin/peers/peer-$name -addr 127.0.0.1:$port -path /echo" ;;
	nbio) echo "bin/peers/peer-nbio -addr 127.0.0.1:$port -path /echo -loops 1" ;;
	node-ws) echo "node bench/peers/node/server.mjs --addr 127.0.0.1:$port --path /echo" ;;
	*) echo "unknown server $name" >&2; return 1 ;;
	esac
}

# case_args prints the scenario and flags of case $1.
case_args() {
	case $1 in
	connect) echo "connect -conns $CONNECT_CONNS -concurrency 200" ;;
	hold) echo "hold -conns $HOLD_CONNS -concurrency 200" ;;
	echo-128) echo "echo -conns $ECHO_CONNS -size 128 -duration $ECHO_SECONDS" ;;
	broadcast-saturated) echo "broadcast -conns $BCAST_CONNS -messages $BCAST_MESSAGES -rate 0 -size 256" ;;
	broadcast-2hz) echo "broadcast -conns $BCAST_CONNS -messages $BCAST_2HZ_MESSAGES -rate 2 -size 256" ;;
	connect-wss) echo "connect -conns $WSS_CONNS -concurrency 50" ;;
	hold-wss) echo "hold -conns $WSS_CONNS -concurrency 50" ;;
	hotel) echo "hotel -duration $HOTEL_SECONDS" ;;
	*) echo "unknown case $1" >&2; return 1 ;;
	esac
}

# rotated prints SERVERS starting at the (round-1)-th, so no server always
# runs first in a case, right after the previous case's teardown.
rotated() {
	local -a list=($SERVERS)
	local n=${#list[@]} i
	for ((i = 0; i < n; i++)); do
		echo "${list[$(((i + $1 - 1) % n))]}"
	done
}

failed=0
for round in $(seq 1 "$ROUNDS"); do
	for c in $CASES; do
		for s in $(rotated "$round"); do
			name=$s url_scheme=ws path=/echo
			case $c in
			*-wss) [[ $s == bellhop ]] || continue; name=bellhop-wss url_scheme=wss ;;
			hotel) [[ $s == bellhop ]] || continue; path=/ws ;;
			esac
			PORT=$((PORT + 1))
			cmd=$(server_cmd "$name" "$PORT")
			extra=()
			env_prefix=()
			if [[ $c == hotel ]]; then
				admin=$((PORT + 1000))
				cmd="$cmd -metrics-port $admin -metrics-host 127.0.0.1 -metrics=true"
				extra=(-api-url "http://127.0.0.1:$admin/api" -api-key "$DEV_API_KEY" -jwt-secret "$DEV_JWT_SECRET")
				env_prefix=(env JWT_SECRET="$DEV_JWT_SECRET" API_KEY="$DEV_API_KEY")
			fi
			[[ $url_scheme == wss ]] && extra+=(-ca "$OUT/cert.pem")
			sleep "$SETTLE" # let the kernel finish tearing down the previous run's sockets
			echo "== round $round: $c on $s"
			# shellcheck disable=SC2046 # case_args is split on purpose
			if ! "${env_prefix[@]}" bin/bellhop-bench $(case_args "$c") \
				-url "$url_scheme://127.0.0.1:$PORT$path" -server-cmd "$cmd" \
				-server-cpu "$SERVER_CPU" -load-cpu "$LOAD_CPU" -gc \
				-case "$c" -label "$s" -json "$OUT/results.jsonl" -quiet "${extra[@]}"; then
				echo "!! $c on $s reported errors (see the summary above)"
				failed=1
			fi
		done
	done
done

bin/bellhop-bench report -title "bellhop vs peers" -out "$OUT" "$OUT/results.jsonl"
cat "$OUT/machine.txt" >>"$OUT/report.md"
echo "done: $OUT/report.md"
exit $failed
