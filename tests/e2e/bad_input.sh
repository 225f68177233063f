#!/usr/bin/env bash
# Bad input on purpose: each gets a clear error and exit status 1, and the
# artifacts of earlier runs stay intact and readable.
. "$(dirname "$0")/lib.sh"
: "${CAIRN_TEST_AZURITE_ENDPOINT:?the Azurite endpoint}"

json() { python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }

ok pipeline run "$example"
ok artifact describe breast_cancer_model --output json
model_sha=$(json "d['sha256']" <<<"$out")
ok artifact describe breast_cancer::split::train --output json
train_sha=$(json "d['sha256']" <<<"$out")

intact() {
  ok artifact get breast_cancer::split::train "$work/check/train.csv"
  same "$(sha256sum <"$work/check/train.csv" | cut -d' ' -f1)" \
    "$train_sha" "train data after $1"
  ok artifact describe breast_cancer_model --output json
  same "$(json "d['sha256']" <<<"$out")" "$model_sha" "model after $1"
  rm -rf "$work/check"
}

# Components
refused artifact-store register s3_store -f s3 --path=s3://bucket
has "s3" "unknown flavor error"
has "local" "unknown flavor error lists the flavors"
refused artifact-store register web -f azure \
  --path=https://acct.blob.core.windows.net/c
has "az://" "https path error lists the accepted forms"
refused artifact-store register "two words" -f local
has "is not valid" "a name with a space"
refused stack register "$(printf 'bad\nname')" -a default
has 'bad\x0aname' "a newline in a name is shown escaped"
echo not-a-folder >"$work/plain-file"
refused artifact-store register onfile -f local --path="$work/plain-file"
has "is not a folder" "a local store on a file"
refused artifact-store register under -f local \
  --path="$work/plain-file/store"
has "not a folder this user may write in" "a local store under a file"
refused artifact-store register nopath -f azure
refused artifact-store register bad_name -f azure --path=az://My_Models
has "My_Models" "container rule error names the container"
refused stack register s -a no_such_store
refused stack delete default
refused artifact-store delete default
refused pipeline run "$work/missing.yaml"
intact "bad components"

# Pipelines
mkdir -p "$work/p"
cat >"$work/p/cycle.yaml" <<'YAML'
name: cyc
steps:
  a: {run: "true", inputs: {x: b.out}, outputs: [out]}
  b: {run: "true", inputs: {x: a.out}, outputs: [out]}
YAML
refused pipeline run "$work/p/cycle.yaml"
has "cycle" "cycle error"

cat >"$work/p/missing.yaml" <<'YAML'
name: miss
steps:
  a: {run: "true", inputs: {x: nowhere.out}, outputs: [out]}
YAML
refused pipeline run "$work/p/missing.yaml"
has "nowhere" "missing step error names it"

cat >"$work/p/fails.yaml" <<'YAML'
name: fails
steps:
  ok:
    run: echo fine > "$CAIRN_OUTPUT_OUT"
    outputs: [out]
  boom:
    run: echo going down >&2; exit 3
    inputs: {x: ok.out}
    outputs: [out]
  after:
    run: cp "$CAIRN_INPUT_X" "$CAIRN_OUTPUT_OUT"
    inputs: {x: boom.out}
    outputs: [out]
YAML
refused pipeline run "$work/p/fails.yaml"
has "boom" "failing step is named"
ok run describe fails-1 --output json
same "$(json "d['status']" <<<"$out")" failed "run status"
same "$(json "[s['status'] for s in d['steps'] if s['step'] == 'after'][0]" \
  <<<"$out")" skipped "dependent of the failing step"
ok run describe fails-1
has "boom failed: exited with status 3 (its output: cairn run logs fails-1 boom)" \
  "the table's run says why a step failed"
ok run logs fails-1 boom
has "going down" "log of the failing step"
refused artifact describe fails::boom::out
intact "bad pipelines"

# Names that would leave their folder are refused before anything runs,
# and nothing in the temporary folder is touched.
mkdir -p "$work/tmp/keep"
echo keep >"$work/tmp/keep/file"
cat >"$work/p/dots.yaml" <<'YAML'
name: dots
steps:
  '..': {run: "true", outputs: [out]}
YAML
TMPDIR="$work/tmp" refused pipeline run "$work/p/dots.yaml"
has "bad step name '..'" "a step named '..'"
[ -f "$work/tmp/keep/file" ] || fail "the temporary folder was touched"

# A step whose output holds a FIFO fails at once, recording no version,
# and its run is not left running.
cat >"$work/p/fifo.yaml" <<'YAML'
name: fifo
steps:
  make: {run: 'mkdir -p "$CAIRN_OUTPUT_OUT" && mkfifo "$CAIRN_OUTPUT_OUT/pipe"', outputs: [out]}
YAML
CAIRN_WRAP="timeout 60 ${CAIRN_WRAP:-}" refused pipeline run "$work/p/fifo.yaml"
has "is neither a file nor a folder" "a FIFO in a step's output"
ok run list --output json
has '"failed"' "the run with a FIFO output failed"
lacks '"running"' "no run left running"

refused artifact get breast_cancer_model ""
has "destination is empty" "an empty destination, refused before any transfer"

# A get that fails leaves what is at DEST as it was.
ok artifact describe breast_cancer::split::train --output json
train_file="$(json "d['uri']" <<<"$out")/train"
cp "$train_file" "$work/train.saved"
printf 'tampered' >>"$train_file"
echo precious >"$work/dest.csv"
refused artifact get breast_cancer::split::train "$work/dest.csv"
has "--overwrite" "a file at DEST is kept without --overwrite"
same "$(cat "$work/dest.csv")" precious "DEST after a refused get"
refused artifact get breast_cancer::split::train "$work/dest.csv" \
  --overwrite
has "SHA-256" "a tampered file is caught"
same "$(cat "$work/dest.csv")" precious "DEST after a failed get"
[ -z "$(ls -A "$work" | grep cairn-part)" ] || fail "a partial file is left"
cp "$work/train.saved" "$train_file"
ok artifact get breast_cancer::split::train "$work/dest.csv" --overwrite
same "$(sha256sum <"$work/dest.csv")" "$(sha256sum <"$train_file")" \
  "DEST replaced with --overwrite"

# A folder artifact is not poured into a folder that holds files.
mkdir -p "$work/full"
echo mine >"$work/full/model.json"
refused artifact get breast_cancer_model "$work/full"
has "not an empty folder" "folder get into a full folder"
same "$(cat "$work/full/model.json")" mine "files in the full folder"
intact "failed gets"

# A store whose path changes keeps its earlier versions readable, and a
# store that holds versions is not deleted.
ok artifact-store register moving -f local --path="$work/store-a"
ok stack register moving_stack -a moving --set
ok pipeline run "$example"
ok artifact describe breast_cancer::split::train --output json
moved_version=$(json "d['version']" <<<"$out")
ok artifact-store update moving --path="$work/store-b"
ok artifact get "breast_cancer::split::train:$moved_version" \
  "$work/moved/train.csv"
same "$(sha256sum <"$work/moved/train.csv" | cut -d' ' -f1)" "$train_sha" \
  "a version from the store's old path"
ok run list --output json
moved_run=$(json "d[0]['run_name']" <<<"$out")
ok run logs "$moved_run" train
has "train" "a log from the store's old path"
ok pipeline run "$example"
has "completed" "a cached run reads inputs from the old path"
ok stack set default
ok stack delete moving_stack -y
refused artifact-store delete moving
has "recorded artifact version" "deleting a store that holds versions"

# The same step in another pipeline makes its own artifacts.
cat >"$work/p/one.yaml" <<'YAML'
name: one
steps:
  make: {run: "echo same > \"$CAIRN_OUTPUT_OUT\"", outputs: [out]}
YAML
sed 's/^name: one/name: two/' "$work/p/one.yaml" >"$work/p/two.yaml"
ok pipeline run "$work/p/one.yaml"
ok pipeline run "$work/p/two.yaml"
ok artifact describe two::make::out
has "two::make::out" "the second pipeline's artifact"

# A wrong account key: valid base64, refused by the service.
wrong_key=$(printf 'not-the-key-of-this-account-at-all!!' | base64 -w0)
export AZURE_STORAGE_CONNECTION_STRING="DefaultEndpointsProtocol=http;\
AccountName=devstoreaccount1;AccountKey=$wrong_key;\
BlobEndpoint=$CAIRN_TEST_AZURITE_ENDPOINT;"
ok artifact-store register az_bad -f azure --path=az://bad-key/artifacts
ok stack register bad_stack -a az_bad
refused pipeline run "$example" --stack bad_stack
has "key" "wrong key error"
lacks "$wrong_key" "wrong key error"

# A key that is not base64 at all.
export AZURE_STORAGE_CONNECTION_STRING="AccountName=devstoreaccount1;\
AccountKey=abc def;BlobEndpoint=$CAIRN_TEST_AZURITE_ENDPOINT;"
refused pipeline run "$example" --stack bad_stack
has "base64" "malformed key error"
unset AZURE_STORAGE_CONNECTION_STRING
intact "a wrong account key"

# Text that is not UTF-8 is refused, never dropped on the way to JSON
printf 'abc\377\376' >"$work/latin.bin"
refused secret create notutf --a=@"$work/latin.bin" --z=ok
has "is not UTF-8 text" "a secret value read from a file"
refused secret create notutf --a="$(printf 'x\377y')" --z=ok
has "the value of --a is not UTF-8 text" "a secret value given"
refused secret get notutf
ok secret create utf --a="$(printf 'h\303\251')"
refused pipeline run "$example" --param "k=$(printf 'a\377b')"
has "parameter 'k' is not UTF-8 text" "a parameter"
refused service-connector register badtext --type azure \
  --auth-method account-key --account_name=devstoreaccount1 \
  --account_key="$dev_key" --description="$(printf 'd\377')" --no-verify
has "the description is not UTF-8 text" "a connector description"
refused service-connector describe badtext

# A step's env value too long for the system is refused when read
python3 -c "print('name: bigenv\nsteps:\n  a:\n    run: \"true\"\n    env:\n      BIG: \"' + 'x' * 200000 + '\"')" \
  >"$work/p/bigenv.yaml"
refused pipeline run "$work/p/bigenv.yaml"
has "'BIG' has 200000 bytes" "an env value too long"

ok stack get
has "default" "the active stack is unchanged"

finish
