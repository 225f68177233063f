#!/usr/bin/env bash
# Local store benchmark: `cairn artifact import` of one big file into the
# default local store, side by side with `cp --reflink=never` of the same
# file on the same file system.  Interleaved runs, medians; prints one
# Markdown table.  See bench/README.md.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)

usage() {
  cat <<EOF
Usage: bench/local.sh [--mib N] [-r REPS] [--cairn PATH] [--out FILE]

  --mib N        size of the file in MiB (1024)
  -r, --reps R   runs of each command, interleaved (5)
  --cairn PATH   the cairn binary (default: build a Release cairn in
                 build-bench/)
  --out FILE     also write the table to FILE
EOF
}

mib=1024 reps=5 cairn="" out=""
while [ $# -gt 0 ]; do
  case "$1" in
  --mib) mib=${2:?--mib needs a value}; shift ;;
  -r|--reps) reps=${2:?--reps needs a value}; shift ;;
  --cairn) cairn=${2:?--cairn needs a value}; shift ;;
  --out) out=${2:?--out needs a value}; shift ;;
  -h|--help) usage; exit 0 ;;
  *) echo "local.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done
case "$mib$reps" in *[!0-9]*) echo "local.sh: --mib and --reps take whole numbers" >&2; exit 2 ;; esac
[ "$mib" -ge 1 ] && [ "$reps" -ge 1 ] || { echo "local.sh: --mib and --reps must be at least 1" >&2; exit 2; }

if [ ! -x /usr/bin/time ]; then
  echo "local.sh: needs /usr/bin/time (Debian package 'time')" >&2
  exit 1
fi
if [ -z "$cairn" ]; then
  cmake -S "$root" -B "$root/build-bench" -DCMAKE_BUILD_TYPE=Release \
    -DCAIRN_BUILD_TESTS=OFF >/dev/null
  cmake --build "$root/build-bench" -j"$(nproc)" >/dev/null
  cairn=$root/build-bench/cairn
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/cairn-bench-local.XXXXXX")
trap 'rm -rf "$work"' EXIT
export CAIRN_HOME=$work/home XDG_CONFIG_HOME=$work/config
unset CAIRN_SECRETS_KEY
"$cairn" status >/dev/null

echo "making a ${mib} MiB random file..." >&2
head -c $((mib << 20)) /dev/urandom >"$work/src"
cat "$work/src" >/dev/null # in the page cache for both, as after a step

# measure NAME CMD...: one timed run; its output is removed afterwards,
# so that every run writes to pages the previous one freed
measure() {
  local name=$1
  shift
  /usr/bin/time -f "%e %U %S %M" -o "$work/time" "$@" >/dev/null
  read -r wall user sys rss <"$work/time"
  cpu=$(awk -v u="$user" -v s="$sys" 'BEGIN { printf "%.2f", u + s }')
  echo "$name $wall $cpu $((rss / 1024))" >>"$work/records"
  printf '  %-6s %6s s wall, %5s s CPU, %4s MiB\n' "$name" "$wall" "$cpu" \
    "$((rss / 1024))" >&2
  rm -rf "$work/dst" "$CAIRN_HOME"/local_stores/*/imports
}

for i in $(seq "$reps"); do
  echo "run $i of $reps" >&2
  measure cp cp --reflink=never "$work/src" "$work/dst"
  measure cairn "$cairn" artifact import "$work/src" --name big
done

# median NAME COLUMN
median() {
  awk -v n="$1" -v c="$2" '$1 == n { print $c }' "$work/records" | sort -g |
    awk '{ v[NR] = $1 }
         END { printf "%.2f", (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
range() {
  awk -v n="$1" -v c="$2" '$1 == n { print $c }' "$work/records" | sort -g |
    awk 'NR == 1 { lo = $1 } { hi = $1 } END { printf "%.2f–%.2f", lo, hi }'
}
# ratio COLUMN: cairn's median over cp's
ratio() {
  awk -v a="$(median cairn "$1")" -v b="$(median cp "$1")" \
    'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }'
}

{
  echo "Local store: import of a ${mib} MiB file (medians of $reps interleaved runs, [min–max])"
  echo
  echo "| command | wall s | CPU s | peak RSS MiB |"
  echo "|---|---|---:|---:|"
  for n in cp cairn; do
    label=$([ "$n" = cp ] && echo '`cp --reflink=never`' || echo '`cairn artifact import`')
    echo "| $label | $(median $n 2) [$(range $n 2)] | $(median $n 3) | $(median $n 4 | cut -d. -f1) |"
  done
  echo "| *cairn ÷ cp* | $(ratio 2)× | $(ratio 3)× | |"
} | tee "${out:-/dev/null}"
