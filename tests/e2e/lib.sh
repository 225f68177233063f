# Helpers for the end-to-end tests: run the cairn binary as a user would
# and check what it prints.  Sourced by each test script.
set -euo pipefail

: "${CAIRN_BIN:?CAIRN_BIN must name the cairn binary}"
: "${CAIRN_SOURCE_DIR:?CAIRN_SOURCE_DIR must name the source tree}"

work=$(mktemp -d "${TMPDIR:-/tmp}/cairn-e2e.XXXXXX")
trap 'rm -rf "$work"' EXIT
export CAIRN_HOME="$work/home"
export XDG_CONFIG_HOME="$work/config"
unset AZURE_STORAGE_CONNECTION_STRING AZURE_STORAGE_ACCOUNT_NAME \
  AZURE_STORAGE_ACCOUNT_KEY AZURE_STORAGE_SAS_TOKEN AZURE_STORAGE_ACCOUNT \
  AZURE_STORAGE_KEY AZURE_STORAGE_BLOB_ENDPOINT CAIRN_LOG_LEVEL || true

failures=0
checks=0

fail() {
  echo "FAIL: $*" >&2
  failures=$((failures + 1))
}

# cairn ARGS...: run the binary (under $CAIRN_WRAP, such as valgrind, when
# set); output in $out, errors in $err, status $rc
cairn() {
  set +e
  # shellcheck disable=SC2086 # CAIRN_WRAP is a command with its flags
  ${CAIRN_WRAP:-} "$CAIRN_BIN" "$@" >"$work/out" 2>"$work/err"
  rc=$?
  set -e
  out=$(cat "$work/out")
  err=$(cat "$work/err")
}

# ok ARGS...: cairn must succeed
ok() {
  checks=$((checks + 1))
  cairn "$@"
  if [ "$rc" -ne 0 ]; then
    fail "cairn $* exited $rc"
    echo "$out" >&2
    echo "$err" >&2
  fi
}

# refused ARGS...: cairn must exit 1 with "Error: " on stderr
refused() {
  checks=$((checks + 1))
  cairn "$@"
  if [ "$rc" -ne 1 ]; then
    fail "cairn $* exited $rc, expected 1"
    echo "$out" >&2
    echo "$err" >&2
  elif ! grep -q '^Error: ' "$work/err"; then
    fail "cairn $* printed no 'Error: ' line: $err"
  fi
}

# has TEXT WHAT: the last output ($out and $err) contains TEXT
has() {
  checks=$((checks + 1))
  if ! grep -qF -- "$1" <<<"$out$err"; then
    fail "${2:-output} lacks '$1'"
    echo "--- stdout:" >&2
    echo "$out" >&2
    echo "--- stderr:" >&2
    echo "$err" >&2
  fi
}

# lacks TEXT WHAT: the last output does not contain TEXT
lacks() {
  checks=$((checks + 1))
  if grep -qF -- "$1" <<<"$out$err"; then
    fail "${2:-output} contains '$1'"
  fi
}

# same A B: two strings are equal
same() {
  checks=$((checks + 1))
  if [ "$1" != "$2" ]; then
    fail "${3:-values differ}: '$1' != '$2'"
  fi
}

finish() {
  echo "$((checks - failures)) passed, $failures failed"
  [ "$failures" -eq 0 ]
}

example="$CAIRN_SOURCE_DIR/examples/breast_cancer/pipeline.yaml"
dev_key='Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=='
