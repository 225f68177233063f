#!/usr/bin/env bash
# Transfer benchmark: cairn side by side with azcopy, rclone, the JS and
# Python Azure SDKs and plain curl, each against a fresh Azurite on
# 127.0.0.1.  Installs the peers, builds cairn (unless --cairn is given),
# runs every measurement and prints one Markdown table.  See
# bench/README.md.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)

usage() {
  cat <<EOF
Usage: bench/run.sh [options]

Workloads: upload and download of one big random file, and of a folder of
many small files.  Clients: cairn, azcopy, rclone, js (JS SDK), python
(Python SDK), curl (the reference).

Options (environment variable in brackets):
  --quick             64 MiB big file and 200 small files
  --big-mib N         size of the big file in MiB (1024)      [BENCH_BIG_MIB]
  --files N           number of small files (2000)            [BENCH_FILES]
  --file-kib N        size of each small file in KiB (16)     [BENCH_FILE_KIB]
  -r, --reps R        repetitions of every measurement (3)    [BENCH_REPS]
  --port P            Azurite's port on 127.0.0.1 (10700)     [BENCH_PORT]
  --timeout S         limit for each command, seconds (180)   [BENCH_TIMEOUT]
  --concurrency N     parallel transfers per client (16) [BENCH_CONCURRENCY]
  --clients LIST      a comma-separated subset of
                      cairn,azcopy,rclone,js,python,curl
  --workloads LIST    a comma-separated subset of
                      up-big,down-big,up-small,down-small
  --cairn PATH        the cairn binary to measure            [BENCH_CAIRN]
                      (default: build a Release cairn in build-bench/)
  --cairn-opt K=V     an azure artifact store field for cairn, e.g.
                      --cairn-opt block_size=16777216 (repeatable)
  --out FILE          the Markdown report (bench/results/<timestamp>.md);
                      the raw records go beside it as .jsonl
  --no-install        do not install anything (apt, npm); fail if missing
  -h, --help          this text
EOF
}

big_mib=${BENCH_BIG_MIB:-1024}
files=${BENCH_FILES:-2000}
file_kib=${BENCH_FILE_KIB:-16}
reps=${BENCH_REPS:-3}
port=${BENCH_PORT:-10700}
timeout_s=${BENCH_TIMEOUT:-180}
concurrency=${BENCH_CONCURRENCY:-16}
cairn=${BENCH_CAIRN:-}
clients=cairn,azcopy,rclone,js,python,curl
workloads=up-big,down-big,up-small,down-small
out=""
install=1
cairn_opts=()

need_arg() {
  if [ $# -lt 2 ] || [ -z "$2" ]; then
    echo "run.sh: $1 needs a value" >&2
    exit 2
  fi
}

while [ $# -gt 0 ]; do
  case "$1" in
  --quick) big_mib=64; files=200 ;;
  --big-mib) need_arg "$@"; big_mib=$2; shift ;;
  --files) need_arg "$@"; files=$2; shift ;;
  --file-kib) need_arg "$@"; file_kib=$2; shift ;;
  -r|--reps) need_arg "$@"; reps=$2; shift ;;
  --port) need_arg "$@"; port=$2; shift ;;
  --timeout) need_arg "$@"; timeout_s=$2; shift ;;
  --concurrency) need_arg "$@"; concurrency=$2; shift ;;
  --clients) need_arg "$@"; clients=$2; shift ;;
  --workloads) need_arg "$@"; workloads=$2; shift ;;
  --cairn) need_arg "$@"; cairn=$2; shift ;;
  --cairn-opt) need_arg "$@"; cairn_opts+=("--cairn-opt=--${2#--}"); shift ;;
  --out) need_arg "$@"; out=$2; shift ;;
  --no-install) install=0 ;;
  -h|--help) usage; exit 0 ;;
  *) echo "run.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done

for v in big_mib files file_kib reps port timeout_s concurrency; do
  if ! [[ ${!v} =~ ^[1-9][0-9]*$ ]]; then
    echo "run.sh: ${v//_s/} must be a positive integer, not '${!v}'" >&2
    exit 2
  fi
done

sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"

# ---------------------------------------------------------------- the peers

if ! command -v node >/dev/null ||
  ! node -e 'process.exit(+process.versions.node.split(".")[0] >= 20 ? 0 : 1)'
then
  echo "run.sh: Node.js 20 or newer is needed (for Azurite and the JS SDK)" >&2
  exit 1
fi

apt_packages=(rclone python3-azure libsecret-1-0 time curl openssl diffutils)
missing=()
for p in "${apt_packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' ||
    missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ $install -eq 0 ]; then
    echo "run.sh: missing Debian packages: ${missing[*]}" >&2
    exit 1
  fi
  echo "Installing: ${missing[*]}" >&2
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq \
    --no-install-recommends "${missing[@]}" >&2
fi

azcopy=$here/node_modules/@azure-tools/azcopy-linux/dist/bin/azcopy_linux_amd64
sdk=$here/node_modules/@azure/storage-blob/package.json
if [ ! -f "$azcopy" ] || [ ! -f "$sdk" ]; then
  if [ $install -eq 0 ]; then
    echo "run.sh: npm packages missing in bench/node_modules" >&2
    exit 1
  fi
  echo "Installing the npm peers into bench/node_modules..." >&2
  if [ -f "$here/package-lock.json" ]; then
    (cd "$here" && timeout 600 npm ci --no-audit --no-fund >&2)
  else
    (cd "$here" && timeout 600 npm install --no-audit --no-fund >&2)
  fi
fi
# The tarball ships the binary without its exec bit.
[ -x "$azcopy" ] || chmod +x "$azcopy"

harness=$root/tests/harness
azurite=$harness/node_modules/azurite/dist/src/blob/main.js
if [ ! -f "$azurite" ]; then
  if [ $install -eq 0 ]; then
    echo "run.sh: Azurite is not installed in tests/harness" >&2
    exit 1
  fi
  echo "Installing Azurite into tests/harness/node_modules..." >&2
  (cd "$harness" && timeout 600 npm ci --no-audit --no-fund >&2)
fi

# ------------------------------------------------------------------- cairn

if [ -z "$out" ]; then
  out=$here/results/$(date +%Y%m%d-%H%M%S).md
fi
mkdir -p "$(dirname "$out")"
out=$(cd "$(dirname "$out")" && pwd)/$(basename "$out")

# A cairn that cannot be built or found is reported as failed in the
# table; the peers are measured all the same.
cairn_broken=""
if [[ ",$clients," == *,cairn,* ]]; then
  if [ -z "$cairn" ]; then
    if [ $install -eq 1 ]; then
      "$root/scripts/deps.sh" >&2
    fi
    echo "Building cairn (Release) in build-bench/..." >&2
    build_log=${out%.md}.build.log
    if cmake -S "$root" -B "$root/build-bench" -DCMAKE_BUILD_TYPE=Release \
      -DCAIRN_BUILD_TESTS=OFF >"$build_log" 2>&1 &&
      cmake --build "$root/build-bench" -j2 >>"$build_log" 2>&1; then
      rm -f "$build_log"
    else
      echo "run.sh: building cairn failed; its log: $build_log" >&2
      cairn_broken="the build failed (log: $build_log)"
    fi
    cairn=$root/build-bench/cairn
  fi
  if [ -z "$cairn_broken" ] && [ ! -x "$cairn" ]; then
    echo "run.sh: no cairn binary at $cairn" >&2
    cairn_broken="no cairn binary at $cairn"
  fi
  if [ -z "$cairn_broken" ]; then
    cairn=$(cd "$(dirname "$cairn")" && pwd)/$(basename "$cairn")
  fi
fi

# ----------------------------------------------------------------- the run

work=$(mktemp -d "${TMPDIR:-/tmp}/cairn-bench.XXXXXX")
bench_pid=""

# Ends the orchestrator and any Azurite it left, and removes the data.
cleanup() {
  local pid _
  if [ -n "$bench_pid" ] && kill -0 "$bench_pid" 2>/dev/null; then
    kill -TERM "$bench_pid" 2>/dev/null || true
    for _ in $(seq 1 300); do
      kill -0 "$bench_pid" 2>/dev/null || break
      sleep 0.1
    done
    kill -KILL "$bench_pid" 2>/dev/null || true
  fi
  # Azurite runs in a session (and process group) of its own.
  if [ -f "$work/azurite.pid" ]; then
    pid=$(cat "$work/azurite.pid")
    if [ -n "$pid" ] && grep -q azurite "/proc/$pid/cmdline" 2>/dev/null
    then
      kill -TERM -- "-$pid" 2>/dev/null || true
      for _ in $(seq 1 50); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
      done
      kill -KILL -- "-$pid" 2>/dev/null || true
    fi
  fi
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

free_kib=$(df -Pk "$work" | awk 'NR==2 {print $4}')
need_kib=$(( (big_mib * 1024 + files * file_kib) * 4 ))
if [ "$free_kib" -lt "$need_kib" ]; then
  echo "run.sh: $work has $((free_kib / 1024)) MiB free;" \
    "the run needs about $((need_kib / 1024)) MiB" >&2
  exit 1
fi

# The orchestrator runs in the background so that a signal reaches the
# trap at once; it ends its own children and reports what it measured.
/usr/bin/python3 "$here/bench.py" --work "$work" --out "$out" \
  --cairn "${cairn:-cairn}" --cairn-broken "$cairn_broken" \
  "${cairn_opts[@]}" \
  --big-bytes $((big_mib * 1024 * 1024)) --files "$files" \
  --file-bytes $((file_kib * 1024)) --reps "$reps" --port "$port" \
  --timeout "$timeout_s" --concurrency "$concurrency" \
  --clients "$clients" --workloads "$workloads" \
  --node "$(command -v node)" --python /usr/bin/python3 \
  --curl "$(command -v curl)" --rclone "$(command -v rclone)" \
  --azcopy "$azcopy" --azurite "$azurite" </dev/null &
bench_pid=$!
rc=0
wait "$bench_pid" || rc=$?
bench_pid=""
exit "$rc"
