#!/usr/bin/env bash
# Three Parley nodes sharing one Redis on this machine, for trying scale-out
# (docs/scale-out.md):
#   npm run nodes                     # Redis on 6390, Parley on 8081, 8082, 8083
#   REDIS_PORT=7000 PORTS="9001 9002" REDIS_DIR=/tmp/r npm run nodes
# Redis runs with appendonly yes and appendfsync always (an acknowledged Send
# survives a crash), its files in REDIS_DIR (default ./data/redis-nodes, kept
# between runs). The nodes listen on PARLEY_HOST (default 127.0.0.1) and share
# one PARLEY_AUTH_SECRET_FILE (default REDIS_DIR/auth-secret, made on the
# first run); every other PARLEY_* setting in the environment reaches them
# too. Ctrl-C stops everything; a node that exits (or is killed) leaves the
# others running.
# Put a load balancer in front of the ports (docs/scale-out.md), or point
# clients at any one of them: every node serves every room.
set -euo pipefail
cd "$(dirname "$0")/.."

REDIS_PORT="${REDIS_PORT:-6390}"
PORTS="${PORTS:-8081 8082 8083}"
DIR="${REDIS_DIR:-./data/redis-nodes}"
for tool in redis-server redis-cli; do
  command -v "$tool" >/dev/null || { echo "$tool is not installed (apt-get install redis-server)" >&2; exit 1; }
done
export PARLEY_HOST="${PARLEY_HOST:-127.0.0.1}"
mkdir -p "$DIR"
# Guest tokens are signed with this secret: every node needs the same one, or
# each refuses the tokens the others hand out. Made once, kept beside Redis's
# files.
if [ -z "${PARLEY_AUTH_SECRET_FILE:-}" ] && [ -z "${PARLEY_AUTH_JWKS:-}" ]; then
  export PARLEY_AUTH_SECRET_FILE="$DIR/auth-secret"
  if [ ! -s "$PARLEY_AUTH_SECRET_FILE" ]; then
    (umask 077 && head -c 48 /dev/urandom | base64 | tr -d '\n' >"$PARLEY_AUTH_SECRET_FILE")
  fi
fi

# Each process in its own process group (job control): Ctrl-C reaches this
# script alone, which then sends each one SIGTERM once, a graceful stop (a
# second signal would make a Parley node exit at once).
set -m
nodes=()
redis=""
# The nodes first (they finish their calls against Redis), then Redis.
stop() {
  trap - INT TERM HUP EXIT
  for pid in "${nodes[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${nodes[@]}"; do wait "$pid" 2>/dev/null || true; done
  if [ -n "$redis" ]; then kill "$redis" 2>/dev/null || true; fi
  wait 2>/dev/null || true
}
trap stop EXIT
trap 'stop; exit 130' INT TERM
trap 'stop; exit 129' HUP

# (--logfile is relative to --dir.)
redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --dir "$DIR" --save "" \
  --appendonly yes --appendfsync always --logfile redis.log &
redis=$!
# Ready once the Redis answering on the port is this one (not another
# already there, while ours fails to bind).
until [ "$(redis-cli -p "$REDIS_PORT" info server 2>/dev/null | tr -d '\r' | sed -n 's/^process_id://p')" = "$redis" ]; do
  kill -0 "$redis" 2>/dev/null || { echo "redis-server did not start: see $DIR/redis.log" >&2; exit 1; }
  sleep 0.1
done
echo "redis on 127.0.0.1:$REDIS_PORT (AOF always, files in $DIR)"

npm run --silent build
listed=""
for port in $PORTS; do
  node dist/src/main.js --port "$port" --store "redis://127.0.0.1:$REDIS_PORT" &
  nodes+=("$!")
  listed+="${listed:+, }$port (pid $!)"
done
echo "parley nodes on $PARLEY_HOST: $listed; Ctrl-C stops them and Redis"
# A node that stops (or is killed, to try a failover) leaves the others
# running; Redis stopping ends everything.
status=0
wait "$redis" || status=$?
echo "redis-server exited (status $status): stopping the nodes" >&2
exit "$status"
