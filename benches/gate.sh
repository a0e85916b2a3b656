#!/usr/bin/env bash
# Throughput of a trivial route without and with the origin gate, in one run: the same
# request with an allowed Origin to the plain route, to one that writes the same CORS headers
# by hand, and to the gated one, plus the gated route without Origin. The server (one
# tokio thread) is pinned to core 0, wrk to core 1; rounds alternate; medians are printed.
#
#   benches/gate.sh [seconds-per-run] [rounds]        (needs wrk: apt-get install wrk)
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-5}
rounds=${2:-5}
cargo build --release --example gate_bench_server
rm -f /tmp/gate_bench_ports
taskset -c 0 target/release/examples/gate_bench_server policies/development.toml > /tmp/gate_bench_ports &
server=$!
trap 'kill $server' EXIT
until [ -s /tmp/gate_bench_ports ]; do sleep 0.1; done
eval "$(cat /tmp/gate_bench_ports)"
rps() { # port [origin]
  local h=()
  [ -n "${2:-}" ] && h=(-H "Origin: $2")
  taskset -c 1 wrk -t1 -c32 -d"${secs}s" "${h[@]}" "http://127.0.0.1:$1/hello" | awk '/Requests\/sec/ {print $2}'
}
results=$(mktemp)
for _ in $(seq "$rounds"); do
  echo "plain $(rps "$plain" http://localhost:5173)" >> "$results"
  echo "static-cors $(rps "$static_cors" http://localhost:5173)" >> "$results"
  echo "gated $(rps "$gated" http://localhost:5173)" >> "$results"
  echo "gated-no-origin $(rps "$gated")" >> "$results"
done
cat "$results"
median() { grep "^$1 " "$results" | awk '{print $2}' | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
less() { awk -v a="$1" -v b="$2" 'BEGIN{printf "%.1f", (1-a/b)*100}'; }
p=$(median plain); c=$(median static-cors); g=$(median gated); n=$(median gated-no-origin)
echo "median requests/s: plain $p; hand-written static CORS headers $c ($(less "$c" "$p")% less);"
echo "  gated, allowed Origin $g ($(less "$g" "$p")% less than plain, $(less "$g" "$c")% less than static CORS);"
echo "  gated, no Origin $n ($(less "$n" "$p")% less than plain)"
