#!/usr/bin/env bash
# The example pipeline on Azurite with its store authenticated by a
# secret, in each way a secret can hold Azure credentials: a connection
# string, an account name and key, an account SAS (with and without its
# '?', percent-encoded or not) and a container SAS.  Then credentials that
# fail: a wrong key, an expired SAS, a SAS without write permission; each
# a clear error, and the artifacts already stored stay intact.
. "$(dirname "$0")/lib.sh"
: "${CAIRN_TEST_AZURITE_ENDPOINT:?the Azurite endpoint}"

json() { python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }
sas() { node "$CAIRN_SOURCE_DIR/tests/e2e/make_sas.js" "$@"; }

ep=$CAIRN_TEST_AZURITE_ENDPOINT
base="methods-$(date +%s)-$$"
# A store that names a secret ignores the environment's credentials.
export AZURE_STORAGE_CONNECTION_STRING="AccountName=devstoreaccount1;\
AccountKey=$(printf 'wrong-key-wrong-key-wrong-key!!' | base64 -w0);\
BlobEndpoint=$ep"

# run_on METHOD CONTAINER SECRET: the example on a store using SECRET
run_on() {
  ok artifact-store register "store_$1" -f azure --path="az://$2/art" \
    --authentication_secret="$3"
  ok stack register "stack_$1" -a "store_$1" --set
  ok pipeline run "$example"
  has "completed." "the example with $1"
  has "evaluate: accuracy=" "metrics with $1"
  lacks "$dev_key" "pipeline output with $1"
  ok artifact-store describe "store_$1"
  has "secret '$3'" "describe names the secret ($1)"
  lacks "$dev_key" "describe with $1"
}

# (a) a connection string
ok secret create s_cs "--connection_string=DefaultEndpointsProtocol=http;\
AccountName=devstoreaccount1;AccountKey=$dev_key;BlobEndpoint=$ep;"
run_on cs "$base-cs" s_cs
has "connection string" "the method of (a)"
ok artifact describe breast_cancer_model --output json
model_sha=$(json "d['sha256']" <<<"$out")
model_version=$(json "d['version']" <<<"$out")

# (b) an account name and key
ok secret create s_key --account_name=devstoreaccount1 \
  "--account_key=$dev_key" "--blob_endpoint=$ep"
run_on key "$base-key" s_key
has "account key (shared key)" "the method of (b)"

# (c) an account SAS, as given by the portal (with '?') ...
ok secret create s_sas --account_name=devstoreaccount1 \
  "--sas_token=?$(sas account rwdlac 3600)" "--blob_endpoint=$ep"
run_on sas "$base-sas" s_sas
has "SAS token (SAS)" "the method of (c)"
# ... without '?' and with its values percent-decoded.
raw=$(sas account rwdlac 3600 | python3 -c \
  "import sys, urllib.parse; print(urllib.parse.unquote(sys.stdin.read().strip()))")
ok secret create s_raw --account_name=devstoreaccount1 "--sas_token=$raw" \
  "--blob_endpoint=$ep"
run_on raw "$base-raw" s_raw

# A container SAS reaches its container (made by (b)) and nothing else:
# no account-level call is needed.
ok secret create s_csas "--sas_token=$(sas container "$base-key" racwdl 3600)" \
  "--blob_endpoint=$ep"
run_on csas "$base-key" s_csas

earlier() {
  ok artifact get "breast_cancer_model:$model_version" "$work/check-$1"
  ok artifact describe "breast_cancer_model:$model_version" --output json
  same "$(json "d['sha256']" <<<"$out")" "$model_sha" "the model after $1"
  rm -rf "$work/check-$1"
}
earlier "five methods"

# Credentials that fail give a clear error and exit status 1.
wrong=$(printf 'not-the-key-of-this-account-at-all!!' | base64 -w0)
ok secret create s_wrong --account_name=devstoreaccount1 \
  "--account_key=$wrong" "--blob_endpoint=$ep"
ok artifact-store register store_wrong -f azure --path="az://$base-cs/art" \
  --authentication_secret=s_wrong
ok stack register stack_wrong -a store_wrong --set
refused pipeline run "$example"
has "key" "a wrong key"
lacks "$wrong" "the wrong key's error"
earlier "a wrong key"

ok secret create s_expired --account_name=devstoreaccount1 \
  "--sas_token=$(sas account rwdlac -60)" "--blob_endpoint=$ep"
ok artifact-store update store_wrong --authentication_secret=s_expired
refused pipeline run "$example"
has "SAS" "an expired SAS"
earlier "an expired SAS"

ok secret create s_readonly --account_name=devstoreaccount1 \
  "--sas_token=$(sas account rl 3600)" "--blob_endpoint=$ep"
ok artifact-store update store_wrong --authentication_secret=s_readonly
refused pipeline run "$example" --no-cache
has "permission" "a SAS without write permission"
earlier "a read-only SAS"

ok stack set stack_cs
ok artifact get breast_cancer::evaluate::report "$work/report"
[ -s "$work/report" ] || [ -d "$work/report" ] || fail "the report"

finish
