# Sourced by the load benches: starts one server under test pinned to core 0 (the load tools run
# on core 1). `start_server gavel|node` sets $server (pid), $port and $dir (its scratch
# directory); `stop_server` ends it and removes $dir. Whatever way a bench exits, the server it
# started is stopped and its files removed.
secret=load-secret-load-secret-load-secret-load
server= dir= results=

on_exit() {
  if [ -n "$server" ]; then kill "$server" 2>/dev/null || true; fi
  if [ -n "$dir" ]; then rm -rf "$dir"; fi
  if [ -n "$results" ]; then rm -f "$results"; fi
}
trap on_exit EXIT

start_server() {
  dir=$(mktemp -d)
  case $1 in
    gavel) # the release build on a fresh SQLite file: every bid persisted
      GAVEL_JWT_SECRET=$secret GAVEL_BIND=127.0.0.1:0 GAVEL_LOG_FORMAT=json RUST_LOG=warn,gavel=info \
        GAVEL_DATABASE_URL="sqlite://$dir/gavel.db?mode=rwc" \
        taskset -c 0 target/release/gavel serve > "$dir/log" 2>&1 &
      ;;
    node) # the bar: Node socket.io 4, an in-memory toy auction
      taskset -c 0 node tools/loadgen/node_bar.mjs --secret "$secret" > "$dir/log" 2>&1 &
      ;;
    *) echo "unknown server: $1 (gavel or node)" >&2; exit 2 ;;
  esac
  server=$!
  local waited=0
  until grep -q '"address"' "$dir/log" 2>/dev/null; do
    if ! kill -0 "$server" 2>/dev/null || [ "$waited" -ge 300 ]; then
      echo "$1 did not start listening:" >&2; cat "$dir/log" >&2; exit 1
    fi
    sleep 0.1; waited=$((waited + 1))
  done
  port=$(grep -o '"address":"[^"]*"' "$dir/log" | head -1 | sed 's/.*:\([0-9]*\)"$/\1/')
}

stop_server() {
  kill "$server" 2>/dev/null || true
  wait "$server" 2>/dev/null || true
  rm -rf "$dir"
  server= dir=
}

# What both benches need: the load tools' packages and the release server.
prepare() {
  npm ci --prefix tools/loadgen --no-audit --no-fund --silent
  cargo build --release --bin gavel
  ulimit -n 65536 2>/dev/null || true
}
