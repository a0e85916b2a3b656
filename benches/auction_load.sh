#!/usr/bin/env bash
# The auction under load, Gavel against the bar, in one run: each server in turn — the release
# Gavel on a fresh SQLite file (every bid persisted), then the Node socket.io 4 in-memory toy
# auction (tools/loadgen/node_bar.mjs) — pinned to core 0, the load generator (tools/loadgen)
# pinned to core 1. One line of JSON per run (ack and broadcast latency p50/p99/max ms,
# delivered vs expected broadcasts, server CPU in cores, peak RSS), then one summary line per
# case: the medians over the repeats and Gavel's ratio to the bar (< 1 = Gavel lower).
#
#   benches/auction_load.sh [clients...]     default: 12 100 1000
#   env: BIDDERS (10), INTERVAL_MS (20), SECONDS_PER_RUN (20), REPEAT (1),
#        SPECTATORS ("official raw": spectators on the official client, then as raw Engine.IO),
#        SERVERS ("gavel node")
set -euo pipefail
cd "$(dirname "$0")/.."
sizes=("${@:-12 100 1000}")
read -r -a sizes <<< "${sizes[*]}"
bidders=${BIDDERS:-10}
interval=${INTERVAL_MS:-20}
seconds=${SECONDS_PER_RUN:-20}
repeat=${REPEAT:-1}
read -r -a modes <<< "${SPECTATORS:-official raw}"
read -r -a servers <<< "${SERVERS:-gavel node}"
source benches/lib/servers.sh
prepare
results=$(mktemp)

for n in "${sizes[@]}"; do
for mode in "${modes[@]}"; do
for ((r = 1; r <= repeat; r++)); do
for s in "${servers[@]}"; do
  start_server "$s"
  taskset -c 1 node tools/loadgen/loadgen.mjs --base "http://127.0.0.1:$port" --secret "$secret" \
    --pid "$server" --clients "$n" --bidders "$bidders" --interval "$interval" --duration "$seconds" \
    --spectators "$mode" --label "$s" | tee -a "$results"
  stop_server
done
done
done
done
node tools/loadgen/summarize.mjs < "$results"
rm -f "$results"
