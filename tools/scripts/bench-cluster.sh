#!/usr/bin/env bash
# bench-cluster.sh measures cross-node fan-out: the same SYSTEM_ALERTs, at
# the same rates, delivered to N subscribers on one node and on two nodes
# joined by Redis (N/2 each), published through the backend API of node A.
# It starts its own redis-server (no persistence) on a free loopback port and
# its own nodes, fresh for every run, runs `bellhop-bench fanout` against each
# setup in turn and writes results/cluster-<date>/results.jsonl and report.md
# (one table per rate, the setups side by side, ratio 2 nodes / 1 node).
# It stops only the processes it started, by their PIDs.
#
# The one node runs with REDIS set too, so both setups publish through the
# same Lua call and the difference is the second node alone.
#
# Environment (defaults in brackets):
#   N [10000] subscribers in all   MESSAGES [200] alerts per run
#   RATES ["20 0"] alerts per second per run; 0 sends them back to back
#   SIZE [128] alert message bytes   API_WORKERS [8] API calls in flight
#   LOOPS [1] harness event loops   ROLE [guest] the subscribers' role (staff
#   roles add a presence entry per subscriber to every node's heartbeat)
#   ROUNDS [1]   SETTLE [3] seconds between runs   OUT [results/cluster-<date>]
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/../.."
GO=${GO:-go}
N=${N:-10000}
MESSAGES=${MESSAGES:-200}
RATES=${RATES:-"20 0"}
SIZE=${SIZE:-128}
API_WORKERS=${API_WORKERS:-8}
LOOPS=${LOOPS:-1}
ROLE=${ROLE:-guest}
ROUNDS=${ROUNDS:-1}
SETTLE=${SETTLE:-3}
OUT=${OUT:-results/cluster-$(date +%Y%m%d-%H%M%S)}

JWT_SECRET=bellhop-cluster-bench-secret-of-32-bytes
API_KEY=bellhop-cluster-bench-key
PROPERTY=grand

command -v redis-server >/dev/null || { echo "bench-cluster: redis-server is not installed (make deps-redis)" >&2; exit 1; }
echo "building bin/bellhop and bin/bellhop-bench"
"$GO" build -o bin/ ./cmd/bellhop ./cmd/bellhop-bench
mkdir -p "$OUT/redis"
OUT=$(cd "$OUT" && pwd)

# Everything started here is stopped on exit, by PID.
pids=()
stop() {
	local pid
	for pid in "$@"; do
		kill "$pid" 2>/dev/null || true
	done
	for pid in "$@"; do
		wait "$pid" 2>/dev/null || true
	done
}
cleanup() {
	if ((${#pids[@]})); then stop "${pids[@]}"; fi
	if [[ -n ${REDIS_PID:-} ]]; then stop "$REDIS_PID"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# free_port sets the variable named $1 to a loopback port nothing listens
# on and this script has not handed out, below the ephemeral range the
# harness's connections take their ports from; never 6379.
declare -A taken=()
free_port() {
	local p
	for _ in $(seq 1 200); do
		p=$((20000 + RANDOM % 12000))
		[[ $p == 6379 || -n ${taken[$p]:-} ]] && continue
		if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
			taken[$p]=1
			printf -v "$1" %s "$p"
			return
		fi
	done
	echo "bench-cluster: no free port" >&2
	return 1
}

# wait_port waits until 127.0.0.1:$2 accepts, while process $1 lives.
wait_port() {
	local pid=$1 port=$2
	for _ in $(seq 1 200); do
		kill -0 "$pid" 2>/dev/null || { echo "bench-cluster: process $pid exited (see $OUT/*.log)" >&2; return 1; }
		(exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && return 0
		sleep 0.05
	done
	echo "bench-cluster: nothing listens on $port after 10s" >&2
	return 1
}

free_port REDIS_PORT
redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --protected-mode yes --save "" --appendonly no \
	--dir "$OUT/redis" --logfile "$OUT/redis/redis.log" --daemonize no &
REDIS_PID=$!
wait_port "$REDIS_PID" "$REDIS_PORT"

{
	echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
	echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //') x $(nproc)"
	echo "kernel: $(uname -r)"
	echo "go: $("$GO" env GOVERSION)"
	echo "redis: $(redis-server --version | grep -o 'v=[^ ]*')"
	echo "subscribers: $N, messages: $MESSAGES, rates: $RATES, size: $SIZE, api workers: $API_WORKERS, loops: $LOOPS, role: $ROLE, rounds: $ROUNDS"
	echo "nodes, Redis and the harness share the machine's CPUs, unpinned"
} >"$OUT/machine.txt"
cat "$OUT/machine.txt"

# start_node starts node $1 on WS port $2 and admin port $3 and sets NODE_PID.
start_node() {
	local name=$1 port=$2 admin=$3
	env JWT_SECRET="$JWT_SECRET" API_KEY="$API_KEY" REDIS_HOST=127.0.0.1 REDIS_PORT="$REDIS_PORT" \
		WS_HOST=127.0.0.1 WS_PORT="$port" METRICS_HOST=127.0.0.1 METRICS_PORT="$admin" \
		MAX_CONNECTIONS=$((N + 1000)) LOG_LEVEL=warn NODE_ID="$name" \
		bin/bellhop >>"$OUT/$name.log" 2>&1 &
	NODE_PID=$!
	pids+=("$NODE_PID")
	wait_port "$NODE_PID" "$port"
	wait_port "$NODE_PID" "$admin"
}

# run_setup runs one fanout case ($1) on $2 nodes with the given rate ($3).
failed=0
run_setup() {
	local cs=$1 nodes=$2 rate=$3 label urls="" node_pids="" api="" i
	label="$nodes-node"
	((nodes > 1)) && label+="s"
	redis-cli -p "$REDIS_PORT" flushall >/dev/null # the same empty history for every run
	for ((i = 0; i < nodes; i++)); do
		local port admin
		free_port port
		free_port admin
		start_node "node-$((i + 1))" "$port" "$admin"
		urls+="${urls:+,}ws://127.0.0.1:$port/ws"
		node_pids+="${node_pids:+,}$NODE_PID"
		[[ -z $api ]] && api="http://127.0.0.1:$admin/api" # node A publishes
	done
	echo "== $cs on $label: $N subscribers over $urls"
	if ! bin/bellhop-bench fanout -urls "$urls" -node-pids "$node_pids" -redis-pid "$REDIS_PID" -role "$ROLE" \
		-conns "$N" -concurrency 200 -loops "$LOOPS" -messages "$MESSAGES" -rate "$rate" -size "$SIZE" \
		-api-url "$api" -api-key "$API_KEY" -api-workers "$API_WORKERS" -jwt-secret "$JWT_SECRET" -property "$PROPERTY" \
		-case "$cs" -label "$label" -json "$OUT/results.jsonl" -quiet; then
		echo "!! $cs on $label reported errors (see the summary above)"
		failed=1
	fi
	stop "${pids[@]}"
	pids=()
}

for round in $(seq 1 "$ROUNDS"); do
	for rate in $RATES; do
		cs="fanout-${rate}hz"
		[[ $rate == 0 ]] && cs=fanout-saturated
		# Alternate which setup goes first, so neither always follows a teardown.
		order="1 2"
		((round % 2 == 0)) && order="2 1"
		for nodes in $order; do
			sleep "$SETTLE" # let the kernel finish tearing down the previous run's sockets
			run_setup "$cs" "$nodes" "$rate"
		done
	done
done

bin/bellhop-bench report -baseline 2-nodes -goals=false -title "fan-out: 2 nodes vs 1 node" -out "$OUT" "$OUT/results.jsonl"
cat "$OUT/machine.txt" >>"$OUT/report.md"
echo
grep -E '^## |^\| metric |^\| (subscribers|subscribers_node[01]|deliveries|deliveries_per_sec|publishes_per_sec|latency_p50_us|latency_p99_us|latency_max_us|latency_node[01]_p99_us|lost|duplicated|api_errors|nodes_cpu_us_per_delivery|redis_cpu_us_per_publish|redis_net_cpu_us_per_publish|redis_idle_cpu_us_per_sec|errors) \|' "$OUT/report.md"
echo "done: $OUT/report.md"
exit $failed
