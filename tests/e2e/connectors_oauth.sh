#!/usr/bin/env bash
# Service connectors with Entra ID tokens, on Azurite in OAuth mode
# (HTTPS) and the local token issuer: a service principal, an access
# token and the implicit method (the environment's Azure CLI login) each
# back a store on which the example pipeline runs, the store getting
# bearer tokens; then a refusing issuer, a token Azure refuses and an
# expired token, each in the table and the exit status.
. "$(dirname "$0")/lib.sh"
: "${CAIRN_TOKEN_ISSUER_URL:?}" "${CAIRN_TOKEN_ISSUER_STATE:?}"
: "${CAIRN_AZURITE_OAUTH_ENDPOINT:?}" "${CAIRN_TEST_CA:?}"
: "${CAIRN_TOKEN_TENANT:?}" "${CAIRN_FAKE_AZ_DIR:?}"

json() { python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }

tenant=$CAIRN_TOKEN_TENANT
ep=$CAIRN_AZURITE_OAUTH_ENDPOINT
base="conn-tok-$(date +%s)-$$"
client=$(python3 -c 'import uuid; print(uuid.uuid4())')
client_secret="connector-secret-$$-value"

export CURL_CA_BUNDLE=$CAIRN_TEST_CA
export AZURE_AUTHORITY_HOST=$CAIRN_TOKEN_ISSUER_URL
unset AZURE_CLIENT_ID AZURE_CLIENT_SECRET AZURE_TENANT_ID \
  AZURE_CLIENT_CERTIFICATE_PATH AZURE_FEDERATED_TOKEN_FILE IDENTITY_ENDPOINT \
  IDENTITY_HEADER AZURE_USE_IMDS AZURE_STORAGE_CLIENT_ID \
  AZURE_STORAGE_CLIENT_SECRET AZURE_STORAGE_TENANT_ID \
  CAIRN_ENABLE_IMPLICIT_AUTH_METHODS || true
# the fake Azure CLI only where a check puts it on the PATH
PATH=$(tr ':' '\n' <<<"$PATH" | grep -v fake-az | paste -sd:)

configure() {
  cat >"$CAIRN_TOKEN_ISSUER_STATE/config.json.tmp" <<JSON
{"clients": {"$client": "$client_secret"}, "refuse": ${1:-false}}
JSON
  mv "$CAIRN_TOKEN_ISSUER_STATE/config.json.tmp" \
    "$CAIRN_TOKEN_ISSUER_STATE/config.json"
}
configure false

# A token for storage from the issuer, as 'az account get-access-token'
# would print it (with its trailing newline), into FILE.
fetch_token() {
  python3 - "$CAIRN_TOKEN_ISSUER_URL/$tenant/oauth2/v2.0/token" "$client" \
    "$client_secret" "$CAIRN_TEST_CA" >"$1" <<'PY'
import json, ssl, sys, urllib.parse, urllib.request
url, client, secret, ca = sys.argv[1:5]
body = urllib.parse.urlencode({
    "grant_type": "client_credentials", "client_id": client,
    "client_secret": secret,
    "scope": "https://storage.azure.com/.default"}).encode()
context = ssl.create_default_context(cafile=ca)
with urllib.request.urlopen(url, body, timeout=20, context=context) as r:
    print(json.load(r)["access_token"])
PY
}

# run_on STORE: the example on STORE, its own stack
run_on() {
  ok stack register "stack_$1" -a "$1" --set
  ok --log-level debug pipeline run "$example"
  has "completed." "the example on $1"
  has "evaluate: accuracy=" "metrics on $1"
  has "bearer tokens" "the store on $1 gets tokens"
}

# --- service-principal ----------------------------------------------------
ok service-connector register az-sp --type azure \
  --auth-method service-principal "--tenant_id=$tenant" \
  "--client_id=$client" "--client_secret=$client_secret" \
  --storage_account=devstoreaccount1 "--blob_endpoint=$ep"
has "Successfully registered service connector \`az-sp\` with access to" \
  "register a service principal"
lacks "$client_secret" "register's output"
ok service-connector describe az-sp
has "[HIDDEN]" "describe hides the client secret"
lacks "$client_secret" "describe"
ok artifact-store register store_sp -f azure --path="az://$base-sp/art" \
  --connector az-sp
has "Created the container az://$base-sp" "a principal creates the container"
run_on store_sp
lacks "$client_secret" "the pipeline's output"
ok artifact-store describe store_sp
has "service connector 'az-sp', service-principal (bearer token" \
  "describe: the source and the method"

# --- access-token ---------------------------------------------------------
fetch_token "$work/token" || fail "no token from the issuer"
token=$(cat "$work/token")
ok service-connector register az-at --type azure --auth-method access-token \
  "--token=@$work/token" --storage_account=devstoreaccount1 \
  "--blob_endpoint=$ep" -r blob-container
has "az://$base-sp" "an access token lists the containers"
lacks "$token" "register's output"
ok service-connector list --output json
expires=$(json "[c['expires_at'] for c in d if c['name'] == 'az-at'][0]" \
  <<<"$out")
now=$(date +%s)
[ "$expires" -gt $((now + 3000)) ] && [ "$expires" -le $((now + 3700)) ] ||
  fail "the access token's own expiry ($expires, now $now)"
ok artifact-store register store_at -f azure --path="az://$base-at/art" \
  --connector az-at
run_on store_at
lacks "$token" "the pipeline's output"
ok artifact-store describe store_at
has "service connector 'az-at', access-token (bearer token" \
  "describe: access token"

# --- implicit: whatever the environment offers (the Azure CLI here) ------
refused service-connector register az-imp --type azure --auth-method implicit \
  --storage_account=devstoreaccount1 "--blob_endpoint=$ep"
has "CAIRN_ENABLE_IMPLICIT_AUTH_METHODS" "implicit is off by default"
export CAIRN_ENABLE_IMPLICIT_AUTH_METHODS=true
PATH="$CAIRN_FAKE_AZ_DIR:$PATH" ok service-connector register az-imp \
  --type azure --auth-method implicit --storage_account=devstoreaccount1 \
  "--blob_endpoint=$ep"
has "az://$base-sp" "implicit lists the containers"
PATH="$CAIRN_FAKE_AZ_DIR:$PATH" ok artifact-store register store_imp \
  -f azure --path="az://$base-imp/art" --connector az-imp
PATH="$CAIRN_FAKE_AZ_DIR:$PATH" run_on store_imp
PATH="$CAIRN_FAKE_AZ_DIR:$PATH" ok artifact-store describe store_imp
has "service connector 'az-imp', implicit (bearer token: Azure CLI" \
  "describe: implicit, through the Azure CLI"
# Without a source in the environment, the same connector fails clearly.
refused service-connector verify az-imp
has "error: " "implicit without a token source"
unset CAIRN_ENABLE_IMPLICIT_AUTH_METHODS
refused service-connector verify az-imp
has "CAIRN_ENABLE_IMPLICIT_AUTH_METHODS" "implicit when disabled again"

# --- Refused tokens: in the table and the exit status ---------------------
configure true
refused service-connector verify az-sp
has "error: " "a refusing issuer shows in the table"
has "invalid_client" "the issuer's reason"
refused service-connector list-resources -r blob-container
has "az-sp" "list-resources shows the refused connector"
has "az://$base-sp" "the access token still reaches its containers"
ok service-connector list-resources -r blob-container -e
lacks "az-sp" "-e leaves it out"
ok stack set stack_store_sp
refused pipeline run "$example" --no-cache
has "invalid_client" "a run when the issuer refuses"
configure false
ok service-connector verify az-sp
has "correctly configured" "verify once the issuer accepts again"

# A token Azure refuses (another audience) is not registered.
python3 -c "import sys; sys.path.insert(0, sys.argv[1]); import tokens; \
print(tokens.make_token(sys.argv[2], 3600, sys.argv[3], \
audience='https://management.azure.com')[0])" \
  "$CAIRN_SOURCE_DIR/tests/harness" "$tenant" "$client" >"$work/other.jwt"
refused service-connector register az-aud --type azure \
  --auth-method access-token "--token=@$work/other.jwt" \
  --storage_account=devstoreaccount1 "--blob_endpoint=$ep" -r blob-container
has "error: " "a refused token shows in the table"
has "AuthenticationFailed" "the service's reason"
refused service-connector describe az-aud

# An expired token: the connector says so, and so does a run.
ok service-connector register az-old --type azure --auth-method access-token \
  "--token=@$work/token" --storage_account=devstoreaccount1 \
  "--blob_endpoint=$ep" --expires_at=2020-01-01T00:00:00Z --no-verify
refused service-connector verify az-old
has "expired at 2020-01-01T00:00:00Z" "verify of an expired token"
ok artifact-store disconnect store_at
ok artifact-store connect store_at --connector az-old --no-verify
ok stack set stack_store_at
refused pipeline run "$example" --no-cache
has "service connector 'az-old' expired" "a run on an expired token"
# An update that keeps the token keeps its expiry; a new token (a JWT
# that says when it expires) brings the connector back.
refused service-connector update az-old --description="still old"
has "expired" "an update without a new token"
fetch_token "$work/token2" || fail "no second token"
ok service-connector update az-old "--token=@$work/token2"
ok service-connector verify az-old
has "correctly configured" "verify after the update"
ok pipeline run "$example"
has "completed." "a run after the update"

finish
