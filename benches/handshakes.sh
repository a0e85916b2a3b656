#!/usr/bin/env bash
# Socket.IO handshakes per second over websocket (Engine.IO open + CONNECT to /auction with a
# JWT), Gavel against the Node socket.io bar in one run: each server in turn pinned to core 0,
# tools/loadgen/handshakes.mjs pinned to core 1. One line of JSON per run, then the medians
# over the repeats and Gavel's ratio to the bar.
#
#   benches/handshakes.sh
#   env: TOTAL (5000 per run), CONCURRENCY (50), REPEAT (3), SERVERS ("gavel node")
set -euo pipefail
cd "$(dirname "$0")/.."
source benches/lib/servers.sh
read -r -a servers <<< "${SERVERS:-gavel node}"
prepare
results=$(mktemp)
for ((r = 1; r <= ${REPEAT:-3}; r++)); do
  for s in "${servers[@]}"; do
    start_server "$s"
    taskset -c 1 node tools/loadgen/handshakes.mjs --base "http://127.0.0.1:$port" --secret "$secret" \
      --pid "$server" --total "${TOTAL:-5000}" --concurrency "${CONCURRENCY:-50}" --label "$s" | tee -a "$results"
    stop_server
  done
done
node tools/loadgen/summarize.mjs < "$results"
rm -f "$results"
