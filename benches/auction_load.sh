#!/usr/bin/env bash
# The auction under load: a release server on a fresh SQLite file pinned to core 0, the load
# generator (tools/loadgen, official socket.io-client) pinned to core 1. One line of JSON per
# run: ack and broadcast latency (p50/p99/max ms), delivered vs expected broadcasts, server CPU
# (cores) and peak RSS.
#
#   benches/auction_load.sh [clients...]     default: 12 100 1000
#   env: BIDDERS (10), INTERVAL_MS (20), SECONDS_PER_RUN (20),
#        SPECTATORS ("official raw": spectators on the official client, then as raw Engine.IO)
set -euo pipefail
cd "$(dirname "$0")/.."
sizes=("${@:-12 100 1000}")
read -r -a sizes <<< "${sizes[*]}"
bidders=${BIDDERS:-10}
interval=${INTERVAL_MS:-20}
seconds=${SECONDS_PER_RUN:-20}
[ -d tests/js/node_modules/socket.io-client ] || npm ci --prefix tests/js --no-audit --no-fund
cargo build --release --bin gavel
secret=load-secret-load-secret-load-secret-load
ulimit -n 65536 2>/dev/null || true
read -r -a modes <<< "${SPECTATORS:-official raw}"
for n in "${sizes[@]}"; do
for mode in "${modes[@]}"; do
  dir=$(mktemp -d)
  GAVEL_JWT_SECRET=$secret GAVEL_BIND=127.0.0.1:0 GAVEL_LOG_FORMAT=json RUST_LOG=warn,gavel=info \
    GAVEL_DATABASE_URL="sqlite://$dir/gavel.db?mode=rwc" \
    taskset -c 0 target/release/gavel serve > "$dir/log" 2>&1 &
  server=$!
  until grep -q '"address"' "$dir/log" 2>/dev/null; do sleep 0.1; done
  port=$(grep -o '"address":"[^"]*"' "$dir/log" | head -1 | sed 's/.*:\([0-9]*\)"$/\1/')
  taskset -c 1 node tools/loadgen/loadgen.mjs --base "http://127.0.0.1:$port" --secret "$secret" \
    --pid "$server" --clients "$n" --bidders "$bidders" --interval "$interval" --duration "$seconds" \
    --spectators "$mode"
  kill "$server"; wait "$server" 2>/dev/null || true
  rm -rf "$dir"
done
done
