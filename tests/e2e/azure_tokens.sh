#!/usr/bin/env bash
# The example pipeline on Azurite in OAuth mode (HTTPS), its store reached
# with Entra ID tokens from the local token issuer: (d) the service
# principal's environment variables, (e) a secret holding an account name
# and a service principal; then every other source of the environment's
# token chain (client certificate, workload identity, managed identity,
# the Azure CLI) with an import read back byte-exact.  A refusing issuer
# and a wrong client secret each give a clear error, and what was stored
# before stays readable.
. "$(dirname "$0")/lib.sh"
: "${CAIRN_TOKEN_ISSUER_URL:?}" "${CAIRN_TOKEN_ISSUER_STATE:?}"
: "${CAIRN_AZURITE_OAUTH_ENDPOINT:?}" "${CAIRN_TEST_CA:?}"
: "${CAIRN_TEST_CERT_DIR:?}" "${CAIRN_TOKEN_TENANT:?}" "${CAIRN_FAKE_AZ_DIR:?}"

json() { python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }

tenant=$CAIRN_TOKEN_TENANT
ep=$CAIRN_AZURITE_OAUTH_ENDPOINT
base="tok-$(date +%s)-$$"
sp_secret="sp-secret-$$-value"
env_secret="env-secret-$$-value"
fed_text="federated-token-$$"
id_header="identity-header-$$"

export CURL_CA_BUNDLE=$CAIRN_TEST_CA
export AZURE_AUTHORITY_HOST=$CAIRN_TOKEN_ISSUER_URL
unset AZURE_CLIENT_ID AZURE_CLIENT_SECRET AZURE_TENANT_ID \
  AZURE_CLIENT_CERTIFICATE_PATH AZURE_FEDERATED_TOKEN_FILE IDENTITY_ENDPOINT \
  IDENTITY_HEADER AZURE_USE_IMDS AZURE_STORAGE_CLIENT_ID \
  AZURE_STORAGE_CLIENT_SECRET AZURE_STORAGE_TENANT_ID || true
# only the fake Azure CLI, and only where a test puts it on the PATH
PATH=$(tr ':' '\n' <<<"$PATH" | grep -v fake-az | paste -sd:)

configure() {
  cat >"$CAIRN_TOKEN_ISSUER_STATE/config.json.tmp" <<JSON
{"clients": {"app-sp": "$sp_secret", "app-env": "$env_secret"},
 "certificates": {"app-cert": "$CAIRN_TEST_CERT_DIR/client-cert.pem"},
 "federated": {"app-fed": "$fed_text"},
 "identity_header": "$id_header",
 "refuse": ${1:-false}}
JSON
  mv "$CAIRN_TOKEN_ISSUER_STATE/config.json.tmp" \
    "$CAIRN_TOKEN_ISSUER_STATE/config.json"
}
configure false

# run_example STORE PATH: the example on a store of its own
run_example() {
  ok artifact-store register "$1" -f azure --path="$2" "${@:3}"
  ok stack register "stack_$1" -a "$1" --set
  ok pipeline run "$example"
  has "completed." "the example with $1"
  has "evaluate: accuracy=" "metrics with $1"
}

# (d) the service principal's environment variables
export AZURE_STORAGE_ACCOUNT_NAME=devstoreaccount1
export AZURE_STORAGE_BLOB_ENDPOINT=$ep
export AZURE_STORAGE_CLIENT_ID=app-env AZURE_STORAGE_CLIENT_SECRET=$env_secret
export AZURE_STORAGE_TENANT_ID=$tenant
run_example store_env "az://$base-env/art"
lacks "$env_secret" "pipeline output"
ok artifact-store describe store_env
has "AZURE_STORAGE_CLIENT_ID" "describe names the variables"
has "service principal with a client secret" "describe names the method"
lacks "$env_secret" "describe"
ok artifact describe breast_cancer_model --output json
model_version=$(json "d['version']" <<<"$out")
model_sha=$(json "d['sha256']" <<<"$out")
unset AZURE_STORAGE_CLIENT_ID AZURE_STORAGE_CLIENT_SECRET \
  AZURE_STORAGE_TENANT_ID AZURE_STORAGE_ACCOUNT_NAME AZURE_STORAGE_BLOB_ENDPOINT

# (e) a secret with the account name and a service principal
ok secret create s_sp --account_name=devstoreaccount1 --client_id=app-sp \
  "--client_secret=$sp_secret" "--tenant_id=$tenant" "--blob_endpoint=$ep"
run_example store_sp "az://$base-sp/art" --authentication_secret=s_sp
ok artifact-store describe store_sp
has "secret 's_sp': service principal" "describe names the secret"
lacks "$sp_secret" "describe"

# The other sources of the environment's token chain, each for an import.
head -c 3000000 /dev/urandom >"$work/data.bin"
export AZURE_STORAGE_ACCOUNT_NAME=devstoreaccount1 AZURE_STORAGE_BLOB_ENDPOINT=$ep
# source NAME WORDS: a store on that source; import, get, compare
source_round() {
  ok artifact-store register "store_$1" -f azure --path="az://$base-$1/art"
  ok stack register "stack_$1" -a "store_$1" --set
  ok artifact-store describe "store_$1"
  has "$2" "the method of $1"
  ok artifact import "$work/data.bin" --name "data-$1"
  ok artifact get "data-$1" "$work/back-$1.bin"
  cmp -s "$work/data.bin" "$work/back-$1.bin" ||
    fail "the file read back through $1 differs"
}

export AZURE_CLIENT_CERTIFICATE_PATH=$CAIRN_TEST_CERT_DIR/client.pem
export AZURE_CLIENT_ID=app-cert AZURE_TENANT_ID=$tenant
source_round cert "service principal with a client certificate"
unset AZURE_CLIENT_CERTIFICATE_PATH

printf '%s\n' "$fed_text" >"$work/federated"
export AZURE_FEDERATED_TOKEN_FILE=$work/federated AZURE_CLIENT_ID=app-fed
source_round fed "workload identity"
unset AZURE_FEDERATED_TOKEN_FILE AZURE_CLIENT_ID AZURE_TENANT_ID

export IDENTITY_ENDPOINT=$CAIRN_TOKEN_ISSUER_URL/msi/token
export IDENTITY_HEADER=$id_header
source_round msi "managed identity"
unset IDENTITY_ENDPOINT IDENTITY_HEADER

PATH_BEFORE=$PATH
export PATH=$CAIRN_FAKE_AZ_DIR:$PATH
export FAKE_AZ_LOG=$work/az.log
source_round cli "Azure CLI login"
grep -q "get-access-token" "$work/az.log" || fail "the Azure CLI was not asked"
# a CLI that is not logged in says so
export FAKE_AZ_FAIL=1
refused artifact get data-cli "$work/again.bin"
has "az login" "the CLI's own words"
unset FAKE_AZ_FAIL FAKE_AZ_LOG
export PATH=$PATH_BEFORE
unset AZURE_STORAGE_ACCOUNT_NAME AZURE_STORAGE_BLOB_ENDPOINT

# An issuer that refuses: a clear error, exit 1, nothing lost.
ok stack set stack_store_sp
configure true
refused pipeline run "$example" --no-cache
has "invalid_client" "a refusing issuer"
lacks "$sp_secret" "the refused run's output"
configure false

# A wrong client secret is named as such, without showing it.
ok secret create s_wrong --account_name=devstoreaccount1 --client_id=app-sp \
  --client_secret=not-the-secret "--tenant_id=$tenant" "--blob_endpoint=$ep"
ok artifact-store update store_sp --authentication_secret=s_wrong
refused pipeline run "$example" --no-cache
has "AADSTS7000215" "a wrong client secret"
lacks "not-the-secret" "the wrong secret's error"
ok artifact-store update store_sp --authentication_secret=s_sp

# What was stored before is intact and readable.
ok stack set stack_store_env
export AZURE_STORAGE_ACCOUNT_NAME=devstoreaccount1 AZURE_STORAGE_BLOB_ENDPOINT=$ep
export AZURE_STORAGE_CLIENT_ID=app-env AZURE_STORAGE_CLIENT_SECRET=$env_secret
export AZURE_STORAGE_TENANT_ID=$tenant
ok artifact get "breast_cancer_model:$model_version" "$work/model-check"
ok artifact describe "breast_cancer_model:$model_version" --output json
same "$(json "d['sha256']" <<<"$out")" "$model_sha" "the model after failures"

finish
