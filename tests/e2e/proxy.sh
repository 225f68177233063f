#!/usr/bin/env bash
# Proxies from the environment: Azurite over plain HTTP reached through
# HTTP_PROXY (upper case, which libcurl alone would ignore), Azurite over
# HTTPS through HTTPS_PROXY with a CONNECT tunnel, a proxy that wants a
# password, NO_PROXY going around it, and a proxy that is down giving a
# clear error.  The proxies log every request they carry.
. "$(dirname "$0")/lib.sh"
: "${CAIRN_TEST_AZURITE_ENDPOINT:?}" "${CAIRN_PROXY_URL:?}"
: "${CAIRN_PROXY_STATE:?}" "${CAIRN_PROXY_AUTH_URL:?}"
: "${CAIRN_PROXY_AUTH_STATE:?}" "${CAIRN_PROXY_USER:?}"
: "${CAIRN_PROXY_PASSWORD:?}"
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY all_proxy ALL_PROXY \
  no_proxy NO_PROXY || true

lines() { wc -l <"$1/requests.log" 2>/dev/null || echo 0; }

export AZURE_STORAGE_CONNECTION_STRING="DefaultEndpointsProtocol=http;\
AccountName=devstoreaccount1;AccountKey=$dev_key;\
BlobEndpoint=$CAIRN_TEST_AZURITE_ENDPOINT;"
ok artifact-store register az -f azure --path="az://proxy-$(date +%s)-$$/a"
ok stack register az -a az --set
head -c 2000000 /dev/urandom >"$work/data.bin"

# through HTTP_PROXY
before=$(lines "$CAIRN_PROXY_STATE")
HTTP_PROXY=$CAIRN_PROXY_URL ok artifact import "$work/data.bin" --name one
HTTP_PROXY=$CAIRN_PROXY_URL ok artifact get one "$work/one.bin"
cmp -s "$work/data.bin" "$work/one.bin" || fail "the file through the proxy"
after=$(lines "$CAIRN_PROXY_STATE")
checks=$((checks + 1))
[ "$after" -gt "$before" ] || fail "the proxy carried nothing"
lacks "sig=" "the output with a proxy"

# NO_PROXY goes around it
before=$(lines "$CAIRN_PROXY_STATE")
HTTP_PROXY=$CAIRN_PROXY_URL NO_PROXY=127.0.0.1 \
  ok artifact import "$work/data.bin" --name two
same "$(lines "$CAIRN_PROXY_STATE")" "$before" "requests through the proxy \
with NO_PROXY"

# a proxy with a password, which never shows
pw=$(python3 -c 'import urllib.parse,sys; print(urllib.parse.quote(sys.argv[1], safe=""))' \
  "$CAIRN_PROXY_PASSWORD")
auth_url="http://$CAIRN_PROXY_USER:$pw@${CAIRN_PROXY_AUTH_URL#http://}"
before=$(lines "$CAIRN_PROXY_AUTH_STATE")
HTTP_PROXY=$auth_url ok --log-level debug artifact get one "$work/three.bin"
lacks "$pw" "the log with a proxy password"
checks=$((checks + 1))
[ "$(lines "$CAIRN_PROXY_AUTH_STATE")" -gt "$before" ] ||
  fail "the proxy with a password carried nothing"
HTTP_PROXY=$CAIRN_PROXY_AUTH_URL refused artifact get one "$work/four.bin"
has "407" "a proxy that wants a password"

# a proxy that is not there: a clear error, soon
HTTP_PROXY=http://127.0.0.1:1 refused artifact get one "$work/five.bin"
has "127.0.0.1:1" "the proxy that is down is named"

# HTTPS through a CONNECT tunnel, with tokens
if [ -n "${CAIRN_AZURITE_OAUTH_ENDPOINT:-}" ]; then
  cat >"$CAIRN_TOKEN_ISSUER_STATE/config.json.tmp" <<JSON
{"clients": {"proxy-app": "proxy-secret"}}
JSON
  mv "$CAIRN_TOKEN_ISSUER_STATE/config.json.tmp" \
    "$CAIRN_TOKEN_ISSUER_STATE/config.json"
  unset AZURE_STORAGE_CONNECTION_STRING
  export CURL_CA_BUNDLE=$CAIRN_TEST_CA
  export AZURE_AUTHORITY_HOST=$CAIRN_TOKEN_ISSUER_URL
  ok secret create sp --account_name=devstoreaccount1 --client_id=proxy-app \
    --client_secret=proxy-secret "--tenant_id=$CAIRN_TOKEN_TENANT" \
    "--blob_endpoint=$CAIRN_AZURITE_OAUTH_ENDPOINT"
  ok artifact-store register tls -f azure \
    --path="az://proxy-tls-$(date +%s)-$$/a" --authentication_secret=sp
  ok stack register tls -a tls --set
  before=$(grep -c CONNECT "$CAIRN_PROXY_STATE/requests.log" || true)
  HTTPS_PROXY=$CAIRN_PROXY_URL ok artifact import "$work/data.bin" --name tls
  HTTPS_PROXY=$CAIRN_PROXY_URL ok artifact get tls "$work/tls.bin"
  cmp -s "$work/data.bin" "$work/tls.bin" || fail "the file through CONNECT"
  checks=$((checks + 1))
  [ "$(grep -c CONNECT "$CAIRN_PROXY_STATE/requests.log")" -gt "$before" ] ||
    fail "no CONNECT tunnel through the proxy"
fi

finish
