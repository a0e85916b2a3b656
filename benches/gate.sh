#!/usr/bin/env bash
# Throughput of a trivial route without and with the origin gate, in one run.
# The server (one tokio thread) is pinned to core 0, wrk to core 1.
#
#   benches/gate.sh [seconds]        (needs wrk: apt-get install wrk)
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-10}
cargo build --release --example gate_bench_server
taskset -c 0 target/release/examples/gate_bench_server policies/development.toml > /tmp/gate_bench_ports &
server=$!
trap 'kill $server' EXIT
until [ -s /tmp/gate_bench_ports ]; do sleep 0.1; done
eval "$(cat /tmp/gate_bench_ports)"
run() { # name port
  taskset -c 1 wrk -t1 -c32 -d"${secs}s" -H 'Origin: http://localhost:5173' "http://127.0.0.1:$2/hello" \
    | awk -v n="$1" '/Requests\/sec/ {print n, $2} /Latency/ && !l {print n "-latency-avg", $2; l=1}'
}
for round in 1 2 3; do
  run plain "$plain"
  run gated "$gated"
done
