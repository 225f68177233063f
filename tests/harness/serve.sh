#!/usr/bin/env bash
# Start or stop one of the python test servers (token_issuer.py, proxy.py)
# in the background, with its state directory.
#
#   serve.sh start DIR COMMAND [ARGS...]   start COMMAND, wait until it
#                                          writes DIR/ready (at most 20 s)
#   serve.sh stop DIR                      stop it and remove its data
#
# The server writes DIR/pid and DIR/ready itself once it listens; its
# output goes to DIR/log, which is printed when it fails to start.  Stop
# keeps DIR/log and removes everything else in DIR.
set -euo pipefail

# started PID: when process PID started (clock ticks after boot), to tell
# it from a later process that reuses the number
started() {
  sed 's/^.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f20
}

# alive PID DIR: PID is still the server started with DIR, and not a
# zombie waiting to be reaped
alive() {
  local pid=$1 dir=$2 stat
  [ -n "$pid" ] && [ -f "$dir/started" ] || return 1
  stat=$(sed 's/^.*) //' "/proc/$pid/stat" 2>/dev/null) || return 1
  [ "${stat%% *}" != Z ] &&
    [ "$(cut -d' ' -f20 <<<"$stat")" = "$(cat "$dir/started")" ]
}

stop() {
  local dir=$1 pid=""
  [ -d "$dir" ] || return 0
  dir=$(cd "$dir" && pwd)
  [ -f "$dir/launcher.pid" ] && pid=$(cat "$dir/launcher.pid")
  if alive "$pid" "$dir"; then
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do
      alive "$pid" "$dir" || break
      sleep 0.1
    done
    if alive "$pid" "$dir"; then
      kill -9 "$pid" 2>/dev/null || true
    fi
  fi
  find "$dir" -mindepth 1 -maxdepth 1 ! -name log -exec rm -rf {} +
}

start() {
  local dir=$1 pid
  shift
  mkdir -p "$dir"
  dir=$(cd "$dir" && pwd)
  stop "$dir"
  rm -f "$dir/log"
  setsid "$@" >>"$dir/log" 2>&1 </dev/null &
  pid=$!
  echo "$pid" >"$dir/launcher.pid"
  started "$pid" >"$dir/started"
  for _ in $(seq 1 200); do
    if [ -f "$dir/ready" ]; then
      return 0
    fi
    if ! kill -0 "$pid" 2>/dev/null; then
      echo "$* exited before it was ready; its log:" >&2
      cat "$dir/log" >&2
      stop "$dir"
      exit 1
    fi
    sleep 0.1
  done
  echo "$* was not ready within 20 s; its log:" >&2
  cat "$dir/log" >&2
  stop "$dir"
  exit 1
}

case "${1:-}" in
start)
  [ $# -ge 3 ] || { echo "usage: $0 start DIR COMMAND [ARGS...]" >&2; exit 2; }
  shift
  start "$@"
  ;;
stop)
  [ $# -eq 2 ] || { echo "usage: $0 stop DIR" >&2; exit 2; }
  stop "$2"
  ;;
*)
  echo "usage: $0 start DIR COMMAND [ARGS...] | stop DIR" >&2
  exit 2
  ;;
esac
