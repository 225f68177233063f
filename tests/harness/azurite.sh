#!/usr/bin/env bash
# Start or stop an Azurite blob server on 127.0.0.1 for the tests.
#
#   azurite.sh start PORT DIR [azurite flags...]   data and pid in DIR
#   azurite.sh stop DIR
#
# Azurite comes from tests/harness/node_modules (npm install there, which
# .ci/run does); Node.js 20 or newer is a precondition.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
bin="$here/node_modules/.bin/azurite-blob"

start() {
  local port=$1 dir=$2
  shift 2
  if [ ! -x "$bin" ]; then
    echo "azurite is not installed: run 'npm install' in $here" >&2
    exit 1
  fi
  stop "$dir" 2>/dev/null || true
  rm -rf "$dir"
  mkdir -p "$dir/data"
  setsid "$bin" --blobHost 127.0.0.1 --blobPort "$port" \
    --location "$dir/data" --silent --disableTelemetry "$@" \
    >"$dir/log" 2>&1 </dev/null &
  echo $! >"$dir/pid"
  for _ in $(seq 1 100); do
    code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 1 \
      "http://127.0.0.1:$port/devstoreaccount1?comp=list" || true)
    if [ "$code" != "000" ] && [ -n "$code" ]; then
      return 0
    fi
    if ! kill -0 "$(cat "$dir/pid")" 2>/dev/null; then
      echo "azurite exited:" >&2
      cat "$dir/log" >&2
      exit 1
    fi
    sleep 0.2
  done
  echo "azurite did not answer on port $port within 20 s" >&2
  exit 1
}

stop() {
  local dir=$1 pid
  [ -f "$dir/pid" ] || return 0
  pid=$(cat "$dir/pid")
  kill "$pid" 2>/dev/null || true
  for _ in $(seq 1 50); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  kill -9 "$pid" 2>/dev/null || true
  rm -f "$dir/pid"
  rm -rf "$dir/data"
}

case "${1:-}" in
start) shift; start "$@" ;;
stop) shift; stop "$@" ;;
*) echo "usage: $0 start PORT DIR [flags] | stop DIR" >&2; exit 2 ;;
esac
