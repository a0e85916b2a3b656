#!/usr/bin/env bash
# The issue-9 probes at full size against the release binary, each figure beside its limit:
# held connections and /healthz latency under 20,000 idle connections and 500 slowloris ones,
# RSS under 8 × 100 MB bodies and 8 × 60 MB websocket frames, 20,000 handshakes that never
# connect, log bytes for 30,000 unique denied origins, and what a costly policy costs to check.
# Not part of the test command: it takes about two minutes and wants the machine to itself.
# Server pinned to core 0, probes to core 1.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

dir=$(mktemp -d)
server=
trap '[ -n "$server" ] && kill "$server" 2>/dev/null; rm -rf "$dir"' EXIT
ops_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cat > "$dir/gavel.toml" <<TOML
bind = "127.0.0.1:0"
ops_bind = "127.0.0.1:$ops_port"
policy = "$PWD/policies/development.toml"
jwt_secret = "abuse-bench-secret-abuse-bench-secret"
database_url = "sqlite://$dir/gavel.db?mode=rwc"
log_format = "json"
TOML
GAVEL_LOG_FORMAT=json taskset -c 0 target/release/gavel serve --config "$dir/gavel.toml" > "$dir/log" 2>&1 &
server=$!
until grep -q '"address"' "$dir/log" 2>/dev/null; do
  kill -0 "$server" 2>/dev/null || { cat "$dir/log" >&2; exit 1; }
  sleep 0.1
done
port=$(grep -o '"address":"[^"]*"' "$dir/log" | head -1 | sed 's/.*:\([0-9]*\)"$/\1/')
rss() { awk '/VmRSS/ {print int($2/1024)}' "/proc/$server/status"; }
echo "limits: defaults (docs/security.md): 10,000 connections, 256 per address, headers in 10 s," \
  "idle 60 s, bodies 16 KiB (import 1 MiB), maxPayload 100000, 10,000 sessions, 64 per address, connect 5 s"
echo "server RSS at start: $(rss) MiB"
taskset -c 1 python3 benches/abuse.py --fds "$(ulimit -n)" --port "$port" --ops-port "$ops_port" --pid "$server" --log "$dir/log"
echo "server RSS at the end: $(rss) MiB, database $(du -cb "$dir"/gavel.db* | tail -1 | cut -f1) bytes," \
  "log $(stat -c %s "$dir/log") bytes"

# Row 11: a policy whose one regex would compile to gigabytes.
printf 'version = 1\n[[allow]]\nregex = '"'"'^https://(?:\\w{100}){100}$'"'"'\n' > "$dir/costly.toml"
/usr/bin/time -f "row 11: policy check of a regex that would compile to gigabytes: refused in %e s, peak RSS %M KiB" \
  target/release/gavel policy check "$dir/costly.toml" 2>&1 | grep -E "^row 11|error" | cut -c1-160 || true
