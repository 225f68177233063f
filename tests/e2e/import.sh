#!/usr/bin/env bash
# Data that no step made: a file and a folder imported into the default
# local store and into an Azure store on Azurite, read back byte-exact,
# new versions on each import; bad names and paths refused with nothing
# recorded.
. "$(dirname "$0")/lib.sh"
: "${CAIRN_TEST_AZURITE_ENDPOINT:?the Azurite endpoint}"

json() { python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }

data="$work/data"
mkdir -p "$data/tree/sub" "$data/tree/empty"
head -c 3000000 /dev/urandom >"$data/big.bin"
printf 'a,b\n1,2\n' >"$data/tree/table.csv"
printf 'x' >"$data/tree/sub/one byte.txt"
: >"$data/tree/sub/zero"

# import_round STORE_LABEL: import, get back, compare
import_round() {
  ok artifact import "$data/big.bin" --name "blob-$1"
  has "Imported '$data/big.bin' as blob-$1:1" "import of a file ($1)"
  ok artifact get "blob-$1" "$work/back-$1.bin"
  cmp -s "$data/big.bin" "$work/back-$1.bin" ||
    fail "the file imported into $1 came back different"

  ok artifact import "$data/tree" --name "tree-$1"
  ok artifact get "tree-$1" "$work/tree-$1"
  diff -r "$data/tree" "$work/tree-$1" >/dev/null ||
    fail "the folder imported into $1 came back different"
  [ -d "$work/tree-$1/empty" ] || fail "the empty folder is lost ($1)"
  # a folder artifact never merges into a folder that holds files
  refused artifact get "tree-$1" "$work/tree-$1" --overwrite
  has "give a new path" "a folder get into a full folder ($1)"
  has "not folders" "the hint on --overwrite ($1)"
  diff -r "$data/tree" "$work/tree-$1" >/dev/null ||
    fail "a refused folder get changed the folder ($1)"

  # a second import is a second version; the first stays
  ok artifact import "$data/tree/table.csv" --name "blob-$1"
  has "blob-$1:2" "the second version ($1)"
  ok artifact describe "blob-$1:1" --output json
  same "$(json "d['sha256']" <<<"$out")" \
    "$(sha256sum "$data/big.bin" | cut -d' ' -f1)" "version 1 ($1)"
  has "imports/blob-$1/" "the store layout ($1)"
  ok artifact describe "blob-$1" --output json
  same "$(json "d['version']" <<<"$out")" 2 "the latest version ($1)"
}

import_round local

export AZURE_STORAGE_CONNECTION_STRING="DefaultEndpointsProtocol=http;\
AccountName=devstoreaccount1;AccountKey=$dev_key;\
BlobEndpoint=$CAIRN_TEST_AZURITE_ENDPOINT;"
az_container="import-$(date +%s)-$$"
ok artifact-store register az_store -f azure \
  --path="az://$az_container/artifacts"
ok stack register az_stack -a az_store --set
import_round azure

# What a killed get left next to its destination goes with the next get
# to that path; the part of a process that still runs stays.
true &
dead=$!
wait "$dead"
mkdir -p "$work/parts/.tree.cairn-part-$dead/sub"
head -c 1000 /dev/zero >"$work/parts/.back.bin.cairn-part-$dead"
head -c 10 /dev/zero >"$work/parts/.back.bin.cairn-part-$$"
ok artifact get blob-azure:1 "$work/parts/back.bin"
ok artifact get tree-azure "$work/parts/tree"
checks=$((checks + 1))
[ ! -e "$work/parts/.back.bin.cairn-part-$dead" ] &&
  [ ! -e "$work/parts/.tree.cairn-part-$dead" ] ||
  fail "parts of a killed get are left: $(ls -a "$work/parts")"
[ -e "$work/parts/.back.bin.cairn-part-$$" ] ||
  fail "the part of a running process was removed"

# On a terminal a progress line shows; in a pipe, nothing but the result.
on_tty() {
  python3 - "$@" <<'PY'
import os, pty, sys
pid, fd = pty.fork()
if pid == 0:
    os.execv(sys.argv[1], sys.argv[1:])
out = b""
while True:
    try:
        chunk = os.read(fd, 65536)
    except OSError:
        break
    if not chunk:
        break
    out += chunk
_, status = os.waitpid(pid, 0)
sys.stdout.write(out.decode(errors="replace"))
sys.exit(os.waitstatus_to_exitcode(status))
PY
}
checks=$((checks + 1))
if ! on_tty "$CAIRN_BIN" artifact import "$data/big.bin" --name shown \
    --block-size 1MiB --memory-budget 4MiB --max-concurrency 2 \
    >"$work/tty.out" 2>&1; then
  fail "import on a terminal: $(cat "$work/tty.out")"
fi
grep -q 'Uploading \[#*\] 2.9 MiB / 2.9 MiB' "$work/tty.out" ||
  fail "no progress line on a terminal: $(cat "$work/tty.out")"
grep -q 'Imported ' "$work/tty.out" || fail "import on a terminal: no result"
checks=$((checks + 1))
if ! on_tty "$CAIRN_BIN" artifact get shown "$work/shown.bin" \
    >"$work/tty.out" 2>&1; then
  fail "get on a terminal: $(cat "$work/tty.out")"
fi
grep -q 'Downloading \[#*\] 2.9 MiB / 2.9 MiB' "$work/tty.out" ||
  fail "no download progress line: $(cat "$work/tty.out")"
cmp -s "$data/big.bin" "$work/shown.bin" || fail "the file got on a terminal"
ok artifact import "$data/big.bin" --name quiet
lacks "Uploading" "an import in a pipe"
refused artifact import "$data/big.bin" --name x --block-size 1k
has "between 64KiB and 4000MiB" "a tiny block size"
refused artifact get shown "$work/x.bin" --memory-budget lots
has "is not a size" "a memory budget that is no size"
refused artifact import "$data/big.bin" --name x --max-concurrency 0
has "from 1 to 256" "no concurrency"
# the command line takes what the store's fields take, no more
refused artifact get shown "$work/x.bin" --memory-budget 1TiB
has "between 1MiB and 64GiB" "a memory budget too large"
refused artifact-store update az_store --memory_budget=1TiB
has "memory_budget must be between" "the same as a field"
# The same settings as fields of the store.
ok artifact-store update az_store --block_size=1MiB --memory_budget=8MiB \
  --max_concurrency=4 --content_md5=yes
ok artifact-store describe az_store --output json
has '"block_size": 1048576' "block_size stored in bytes"
has '"content_md5": true' "content_md5 stored as a flag"
ok artifact import "$data/big.bin" --name fielded
ok artifact get fielded "$work/fielded.bin"
cmp -s "$data/big.bin" "$work/fielded.bin" || fail "through the store's fields"
refused artifact-store update az_store --block_size=12
has "block_size" "a block size below 64 KiB"

# An import killed in the middle of its upload, run again, sends only
# the blocks that are missing and commits once.
head -c 120000000 /dev/urandom >"$data/resumed.bin"
set +e
"$CAIRN_BIN" --log-level debug artifact import "$data/resumed.bin" \
  --name resumed --block-size 1MiB --max-concurrency 2 \
  >"$work/kill.out" 2>"$work/kill.err" &
pid=$!
for _ in $(seq 1 400); do
  [ "$(grep -c 'sent a block of' "$work/kill.err")" -ge 30 ] && break
  sleep 0.05
done
kill -KILL "$pid"
wait "$pid"
set -e
checks=$((checks + 1))
sent_before=$(grep -c 'sent a block of' "$work/kill.err" || true)
[ "$sent_before" -ge 30 ] && [ "$sent_before" -lt 115 ] ||
  fail "the import was killed after $sent_before of 115 blocks"
refused artifact describe resumed
ok --log-level debug artifact import "$data/resumed.bin" --name resumed \
  --block-size 1MiB --max-concurrency 2
has "were there from an earlier upload and were not sent again" \
  "the second import goes on"
sent_after=$(grep -c 'sent a block of' <<<"$err" || true)
echo "resume: $sent_before blocks sent before the kill, $sent_after after"
checks=$((checks + 1))
[ "$sent_after" -le $((115 - sent_before + 4)) ] ||
  fail "the second import sent $sent_after blocks after $sent_before"
[ "$(grep -c 'committing 115 blocks' <<<"$err")" -ge 1 ] ||
  fail "no block list committed"
ok artifact get resumed "$work/resumed.back"
cmp -s "$data/resumed.bin" "$work/resumed.back" ||
  fail "the resumed import came back different"
ok artifact describe resumed --output json
same "$(json "d['version']" <<<"$out")" 1 "one version after a resume"
[ -z "$(ls -A "$CAIRN_HOME/transfers" 2>/dev/null)" ] ||
  fail "an upload note is left: $(ls "$CAIRN_HOME/transfers")"

# wait_for TEXT FILE: until FILE holds TEXT, for 10 s at most
wait_for() {
  for _ in $(seq 1 1000); do
    grep -q "$1" "$2" && return
    sleep 0.01
  done
}

# stopped_cleanly RC STDERR_FILE WHAT: it exited 1 and said it stopped
stopped_cleanly() {
  checks=$((checks + 1))
  [ "$1" -eq 1 ] || fail "$3 exited $1, expected 1"
  grep -q "^Error: interrupted" "$2" || fail "$3 says: $(grep Error "$2")"
}

# An import stopped by Ctrl-C records nothing and leaves no blob behind.
head -c 400000000 /dev/zero >"$data/large.bin"
set +e
${CAIRN_WRAP:-} "$CAIRN_BIN" --log-level debug artifact import \
  "$data/large.bin" --name stopped >"$work/stop.out" 2>"$work/stop.err" &
pid=$!
wait_for "uploading" "$work/stop.err"
kill -INT "$pid"
wait "$pid"
rc=$?
set -e
stopped_cleanly "$rc" "$work/stop.err" "a stopped import"
refused artifact describe stopped
left=$(node "$CAIRN_SOURCE_DIR/tests/e2e/list_blobs.js" "$az_container" \
  artifacts/imports/stopped/)
same "$left" "" "blobs left by a stopped import"

# The same for a folder of many small files, stopped while whole blobs
# are in flight: none of them may land after the clean-up.
mkdir -p "$data/many"
for i in $(seq 1 1500); do printf '%02000d' "$i" >"$data/many/f$i.bin"; done
set +e
"$CAIRN_BIN" --log-level debug artifact import "$data/many" --name many \
  >"$work/many.out" 2>"$work/many.err" &
pid=$!
for _ in $(seq 1 200); do
  [ "$(grep -c 'PUT' "$work/many.err")" -ge 1 ] && break
  grep -q "uploading\|files" "$work/many.err" && break
  sleep 0.05
done
sleep 0.3
kill -INT "$pid"
wait "$pid"
rc=$?
set -e
checks=$((checks + 1))
if [ "$rc" -eq 1 ]; then
  refused artifact describe many
  left=$(node "$CAIRN_SOURCE_DIR/tests/e2e/list_blobs.js" "$az_container" \
    artifacts/imports/many/)
  same "$left" "" "blobs left by a stopped folder import"
elif [ "$rc" -ne 0 ]; then
  fail "a stopped folder import exited $rc: $(tail -3 "$work/many.err")"
fi

# On the local store too: stopped while it copies, it records nothing.
# Held with SIGSTOP as it starts, so that the copy cannot finish first.
set +e
"$CAIRN_BIN" --log-level info artifact import "$data/large.bin" \
  --name stopped-local --stack default >"$work/lstop.out" \
  2>"$work/lstop.err" &
pid=$!
wait_for "importing" "$work/lstop.err"
kill -STOP "$pid"
kill -INT "$pid"
kill -CONT "$pid"
wait "$pid"
rc=$?
set -e
stopped_cleanly "$rc" "$work/lstop.err" "a stopped local import"
refused artifact describe stopped-local
left=$(find "$CAIRN_HOME/local_stores" -path '*stopped-local*' -type f)
same "$left" "" "files left by a stopped local import"

# Bad input: nothing recorded, and a clear error.
ok artifact list --output json
before=$out
refused artifact import "$data/missing" --name nothing
has "$data/missing" "the missing path is named"
refused artifact import "$data/big.bin" --name "bad."
has "not valid" "a name ending in '.'"
refused artifact import "$data/big.bin" --name "a/b"
refused artifact import "$data/big.bin"
has "--name" "a missing name"
long=$(printf 'n%.0s' $(seq 1 300))
refused artifact import "$data/big.bin" --name "$long"
has "has 300 characters: give one of at most 128" "a name too long"
# a version is a number from 1, or "latest"
for ref in blob-azure:abc blob-azure: blob-azure:0 blob-azure:-1; do
  refused artifact describe "$ref"
  has "bad version in '$ref'" "the version in $ref"
done
ok artifact describe blob-azure:latest --output json
same "$(json "d['version']" <<<"$out")" 2 "blob-azure:latest"
# a tree holding a name with '\' would come back under another name
mkdir -p "$data/slashed"
printf 'x' >"$data/slashed/a\\b"
refused artifact import "$data/slashed" --name slashed
has "has a '\\' in its name" "a backslash in an imported folder"
mkdir -p "$data/manifest"
echo '{}' >"$data/manifest/cairn-manifest.json"
refused artifact import "$data/manifest" --name manifest
has "cairn-manifest.json" "a folder holding a manifest at its top"
# What a folder may hold: a link to a file is stored as the file; a FIFO,
# a link to a folder (a loop here) and a dangling link are refused at
# once, before anything is stored.
mkdir -p "$data/special"
printf 'target' >"$data/target.txt"
ln -s "$data/target.txt" "$data/special/link"
ok artifact import "$data/special" --name linked
ok artifact get linked "$work/linked"
[ -f "$work/linked/link" ] && [ ! -L "$work/linked/link" ] &&
  [ "$(cat "$work/linked/link")" = target ] ||
  fail "a link to a file is not stored as the file"
ok artifact list --output json
before=$out
mkfifo "$data/special/pipe"
CAIRN_WRAP="timeout 60 ${CAIRN_WRAP:-}" refused artifact import \
  "$data/special" --name fifo
has "is neither a file nor a folder" "a FIFO in an imported folder"
rm "$data/special/pipe"
ln -s . "$data/special/loop"
refused artifact import "$data/special" --name loop
has "link to a folder" "a link to a folder"
rm "$data/special/loop"
ln -s "$data/nowhere" "$data/special/dangling"
refused artifact import "$data/special" --name dangling
has "cannot follow the link" "a dangling link"
ok artifact list --output json
same "$out" "$before" "artifacts after refused imports"

finish
