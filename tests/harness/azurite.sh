#!/usr/bin/env bash
# Start or stop an Azurite blob server on 127.0.0.1 for the tests.
#
#   azurite.sh start PORT DIR [azurite flags...]   data and pid in DIR
#   azurite.sh stop DIR
#
# With --cert among the flags Azurite serves HTTPS, and the readiness probe
# checks its certificate against the CA named by $AZURITE_CA (default: the
# ca.pem beside the certificate).  For OAuth, for instance:
#   azurite.sh start PORT DIR --oauth basic --cert server.pem --key server.key
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
  local scheme=http cert="" arg prev=""
  local -a probe=()
  for arg in "$@"; do
    case "$prev" in --cert) cert=$arg ;; esac
    case "$arg" in --cert=*) cert=${arg#--cert=} ;; esac
    prev=$arg
  done
  if [ -n "$cert" ]; then
    scheme=https
    local ca=${AZURITE_CA:-$(dirname "$cert")/ca.pem}
    if [ ! -r "$ca" ]; then
      echo "no CA to check Azurite's certificate: set AZURITE_CA" >&2
      exit 1
    fi
    probe=(--cacert "$ca")
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
      "${probe[@]}" "$scheme://127.0.0.1:$port/devstoreaccount1?comp=list" \
      || true)
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
  echo "azurite did not answer on port $port within 20 s; its log:" >&2
  cat "$dir/log" >&2
  stop "$dir"
  exit 1
}

# running PID: the process exists and is not a zombie waiting to be reaped
running() {
  local stat
  stat=$(sed 's/^.*) //' "/proc/$1/stat" 2>/dev/null) || return 1
  [ "${stat%% *}" != Z ]
}

stop() {
  local dir=$1 pid
  [ -f "$dir/pid" ] || return 0
  pid=$(cat "$dir/pid")
  kill "$pid" 2>/dev/null || true
  for _ in $(seq 1 50); do
    running "$pid" || break
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
