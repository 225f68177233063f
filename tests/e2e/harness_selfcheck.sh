#!/usr/bin/env bash
# Self-check of the test servers in tests/harness (token issuer, mock blob
# endpoint, fake Azure CLI, proxies, Azurite with HTTPS and OAuth), with
# curl and python3 alone: the tests of the C side rely on their answers.
# Run by CTest as harness.selfcheck, which starts the servers and sets the
# variables below (tests/harness/oauth.cmake).
set -euo pipefail

for var in CAIRN_TEST_CA CAIRN_TEST_CERT_DIR CAIRN_TOKEN_TENANT \
  CAIRN_TOKEN_ISSUER_URL CAIRN_TOKEN_ISSUER_STATE \
  CAIRN_AZURITE_OAUTH_ENDPOINT CAIRN_TEST_AZURITE_ENDPOINT CAIRN_PROXY_URL \
  CAIRN_PROXY_STATE CAIRN_PROXY_AUTH_URL CAIRN_PROXY_AUTH_STATE \
  CAIRN_PROXY_USER CAIRN_PROXY_PASSWORD CAIRN_FAKE_AZ_DIR CAIRN_HARNESS \
  CAIRN_SELFCHECK_PORT; do
  if [ -z "${!var:-}" ]; then
    echo "$var is not set: run this through ctest -R harness.selfcheck" >&2
    exit 2
  fi
done

ca=$CAIRN_TEST_CA
certs=$CAIRN_TEST_CERT_DIR
tenant=$CAIRN_TOKEN_TENANT
issuer=$CAIRN_TOKEN_ISSUER_URL
state=$CAIRN_TOKEN_ISSUER_STATE
log=$state/requests.log
token_url="$issuer/$tenant/oauth2/v2.0/token"
msi_url="$issuer/msi/token?resource=https://storage.azure.com/"
msi_url+="&api-version=2019-08-01"
mock="$issuer/mockblob/devstoreaccount1"
scope=https://storage.azure.com/.default
secret=selfcheck-secret-value-1
federated=selfcheck-federated-token-text
identity=selfcheck-identity-header
started=$(date +%s)

work=$(mktemp -d "${TMPDIR:-/tmp}/cairn-harness.XXXXXX")
sink_pid=""
cleanup() {
  if [ -n "$sink_pid" ]; then
    kill "$sink_pid" 2>/dev/null || true
    wait "$sink_pid" 2>/dev/null || true
  fi
  rm -f "$state/config.json"
  rm -rf "$work"
}
trap cleanup EXIT

checks=0
failures=0

fail() {
  echo "FAIL: $*" >&2
  failures=$((failures + 1))
}

# same WHAT ACTUAL EXPECTED
same() {
  checks=$((checks + 1))
  if [ "$2" != "$3" ]; then
    fail "$1: got '$2', expected '$3'"
    if [ -s "$work/body" ]; then
      echo "--- last response body:" >&2
      head -c 2000 "$work/body" >&2
      echo >&2
    fi
  fi
}

# has WHAT FILE TEXT: FILE contains TEXT
has() {
  checks=$((checks + 1))
  if ! grep -qiF -- "$3" "$2"; then
    fail "$1: '$3' not in $(basename "$2")"
    head -c 2000 "$2" >&2
    echo >&2
  fi
}

# lacks WHAT FILE TEXT: FILE does not contain TEXT
lacks() {
  checks=$((checks + 1))
  if grep -qF -- "$3" "$2"; then
    fail "$1: '$3' found in $2"
  fi
}

# ok WHAT COMMAND...: COMMAND succeeds
ok() {
  local what=$1
  shift
  checks=$((checks + 1))
  if ! "$@"; then
    fail "$what"
  fi
}

# req CURL-ARGS...: response in $work/body and $work/headers, status $code
req() {
  code=$(curl -sS --max-time 20 --cacert "$ca" -o "$work/body" \
    -D "$work/headers" -w '%{http_code}' "$@" 2>"$work/curl.err") ||
    code="curl exit $? ($(cat "$work/curl.err"))"
}

# jq_ EXPR [FILE]: a field of a JSON document (default: the last body),
# EXPR a python expression over d
jq_() {
  python3 - "$1" "${2:-$work/body}" <<'EOF'
import json, sys
try:
    d = json.load(open(sys.argv[2]))
    v = eval("(%s)" % sys.argv[1], {"d": d})
except Exception as exc:
    print("<%s>" % exc.__class__.__name__)
    sys.exit(0)
print(v if isinstance(v, str) else json.dumps(v))
EOF
}

# claims TOKEN: the claims of a JWT, as JSON in $work/claims
claims() {
  python3 - "$1" >"$work/claims" <<'EOF'
import base64, sys
part = sys.argv[1].split(".")[1]
print(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)).decode())
EOF
}

# config JSON: replace the issuer's configuration (a new file each time)
config() {
  printf '%s\n' "$1" >"$state/config.json.tmp"
  mv "$state/config.json.tmp" "$state/config.json"
}

# logged FILE FILTER: how many lines of a requests.log match FILTER, a
# python expression over the entry e
logged() {
  python3 - "$1" "$2" <<'EOF'
import json, sys
count = 0
try:
    lines = open(sys.argv[1]).read().splitlines()
except FileNotFoundError:
    lines = []
for line in lines:
    e = json.loads(line)
    if eval("(%s)" % sys.argv[2], {"e": e}):
        count += 1
print(count)
EOF
}

# grants KIND: "ok,refused": how many KIND token requests the issuer
# granted and refused, from its requests.log
grants() {
  echo "$(logged "$log" "e.get('grant') == '$1' and e['ok']"),$(logged \
    "$log" "e.get('grant') == '$1' and not e['ok']")"
}

# token_request NAME=VALUE...: a form post to the token endpoint
token_request() {
  local kv
  local -a form=()
  for kv in "$@"; do
    form+=(--data-urlencode "$kv")
  done
  req "${form[@]}" "$token_url"
}

b64url() {
  openssl base64 -A | tr '+/' '-_' | tr -d '='
}

# assertion KEY AUD SUB LIFETIME: a client assertion JWT signed by KEY
# for the client certificate
assertion() {
  local key=$1 aud=$2 sub=$3 lifetime=$4 now x5t header claims input sig
  now=$(date +%s)
  x5t=$(openssl x509 -in "$certs/client-cert.pem" -outform DER |
    openssl dgst -sha1 -binary | b64url)
  header=$(printf '{"alg":"RS256","typ":"JWT","x5t":"%s"}' "$x5t" | b64url)
  claims=$(printf '{"aud":"%s","iss":"%s","sub":"%s","jti":"%s",%s}' \
    "$aud" "$sub" "$sub" "$(openssl rand -hex 16)" \
    "\"nbf\":$now,\"exp\":$((now + lifetime))" | b64url)
  input="$header.$claims"
  sig=$(printf '%s' "$input" | openssl dgst -sha256 -sign "$key" -binary |
    b64url)
  printf '%s.%s' "$input" "$sig"
}

: >"$log"
config "{\"tenant\": \"$tenant\",
  \"clients\": {\"app-secret\": \"$secret\"},
  \"certificates\": {\"app-cert\": \"$certs/client-cert.pem\"},
  \"federated\": {\"app-fed\": \"$federated\"},
  \"identity_header\": \"$identity\",
  \"lifetime\": 1234}"

echo "== client secret"
token_request grant_type=client_credentials client_id=app-secret \
  "client_secret=$secret" "scope=$scope"
same "secret: status" "$code" 200
same "secret: token_type" "$(jq_ 'd["token_type"]')" Bearer
same "secret: expires_in is the lifetime" "$(jq_ 'd["expires_in"]')" 1234
same "secret: ext_expires_in" "$(jq_ 'd["ext_expires_in"]')" 1234
first=$(jq_ 'd["access_token"]')
claims "$first"
same "token: aud" "$(jq_ 'd["aud"]' "$work/claims")" https://storage.azure.com
same "token: iss" "$(jq_ 'd["iss"]' "$work/claims")" \
  "https://sts.windows.net/$tenant/"
same "token: tid" "$(jq_ 'd["tid"]' "$work/claims")" "$tenant"
same "token: appid" "$(jq_ 'd["appid"]' "$work/claims")" app-secret
same "token: has iat, nbf, oid, sub, jti" \
  "$(jq_ 'all(k in d for k in ("iat", "nbf", "oid", "sub", "jti"))' \
    "$work/claims")" true
same "token: exp is now + lifetime" "$(jq_ \
  "abs(d['exp'] - $(date +%s) - 1234) <= 5" "$work/claims")" true
same "token: header" "$(python3 -c '
import base64, json, sys
h = sys.argv[1].split(".")[0]
print(json.loads(base64.urlsafe_b64decode(h + "=" * (-len(h) % 4)))["alg"])
' "$first")" RS256
token_request grant_type=client_credentials client_id=app-secret \
  "client_secret=$secret" "scope=$scope"
second=$(jq_ 'd["access_token"]')
same "secret: each token is distinct" \
  "$([ -n "$second" ] && [ "$first" != "$second" ] && echo distinct)" distinct

token_request grant_type=client_credentials client_id=app-secret \
  client_secret=not-the-secret "scope=$scope"
same "wrong secret: status" "$code" 401
same "wrong secret: error" "$(jq_ 'd["error"]')" invalid_client
same "wrong secret: error code" "$(jq_ 'd["error_codes"]')" "[7000215]"
has "wrong secret: description" "$work/body" \
  "AADSTS7000215: Invalid client secret"
lacks "wrong secret: no secret in the answer" "$work/body" not-the-secret

token_request grant_type=client_credentials client_id=app-unknown \
  "client_secret=$secret" "scope=$scope"
same "unknown client: status" "$code" 400
same "unknown client: error" "$(jq_ 'd["error"]')" unauthorized_client

req --data-urlencode grant_type=client_credentials \
  --data-urlencode client_id=app-secret \
  --data-urlencode "client_secret=$secret" --data-urlencode "scope=$scope" \
  "$issuer/00000000-0000-0000-0000-000000000000/oauth2/v2.0/token"
same "unknown tenant: status" "$code" 400
same "unknown tenant: error" "$(jq_ 'd["error"]')" invalid_request
same "unknown tenant: error code" "$(jq_ 'd["error_codes"]')" "[90002]"

token_request grant_type=client_credentials client_id=app-secret \
  "client_secret=$secret" scope=https://vault.azure.net/.default
same "wrong scope: status" "$code" 400
same "wrong scope: error" "$(jq_ 'd["error"]')" invalid_scope

echo "== client certificate"
assertion_type=urn:ietf:params:oauth:client-assertion-type:jwt-bearer
good=$(assertion "$certs/client.pem" "$token_url" app-cert 600)
token_request grant_type=client_credentials client_id=app-cert \
  "client_assertion_type=$assertion_type" "client_assertion=$good" \
  "scope=$scope"
same "certificate: status" "$code" 200
claims "$(jq_ 'd["access_token"]')"
same "certificate: appid" "$(jq_ 'd["appid"]' "$work/claims")" app-cert

openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 \
  -out "$work/other.key" 2>/dev/null
forged=$(assertion "$work/other.key" "$token_url" app-cert 600)
token_request grant_type=client_credentials client_id=app-cert \
  "client_assertion_type=$assertion_type" "client_assertion=$forged" \
  "scope=$scope"
same "certificate, other key: status" "$code" 401
same "certificate, other key: error" "$(jq_ 'd["error"]')" invalid_client
same "certificate, other key: error code" "$(jq_ 'd["error_codes"]')" \
  "[700027]"

misaimed=$(assertion "$certs/client.pem" "$issuer/other/oauth2/v2.0/token" \
  app-cert 600)
token_request grant_type=client_credentials client_id=app-cert \
  "client_assertion_type=$assertion_type" "client_assertion=$misaimed" \
  "scope=$scope"
same "certificate, wrong aud: status" "$code" 401
has "certificate, wrong aud: description" "$work/body" "audience claim"

expired=$(assertion "$certs/client.pem" "$token_url" app-cert -400)
token_request grant_type=client_credentials client_id=app-cert \
  "client_assertion_type=$assertion_type" "client_assertion=$expired" \
  "scope=$scope"
same "certificate, expired: status" "$code" 401
same "certificate, expired: error code" "$(jq_ 'd["error_codes"]')" \
  "[700024]"

echo "== federated token"
token_request grant_type=client_credentials client_id=app-fed \
  "client_assertion_type=$assertion_type" "client_assertion=$federated" \
  "scope=$scope"
same "federated: status" "$code" 200
same "federated: token_type" "$(jq_ 'd["token_type"]')" Bearer
token_request grant_type=client_credentials client_id=app-fed \
  "client_assertion_type=$assertion_type" \
  "client_assertion=${federated}x" "scope=$scope"
same "federated, wrong token: status" "$code" 401
same "federated, wrong token: error" "$(jq_ 'd["error"]')" invalid_client

echo "== managed identity"
req -H "X-IDENTITY-HEADER: $identity" "$msi_url&client_id=app-msi"
same "msi: status" "$code" 200
same "msi: token_type" "$(jq_ 'd["token_type"]')" Bearer
same "msi: resource" "$(jq_ 'd["resource"]')" https://storage.azure.com/
same "msi: expires_on is a string" "$(jq_ 'type(d["expires_on"]).__name__')" \
  str
same "msi: expires_on is now + lifetime" \
  "$(jq_ "abs(int(d['expires_on']) - $(date +%s) - 1234) <= 5")" true
claims "$(jq_ 'd["access_token"]')"
same "msi: appid is the client_id" "$(jq_ 'd["appid"]' "$work/claims")" \
  app-msi
req -H "X-IDENTITY-HEADER: wrong-$identity" "$msi_url"
same "msi, wrong header: status" "$code" 401
req "$msi_url"
same "msi, no header: status" "$code" 400

echo "== requests.log"
same "log: successful secret grants" \
  "$(logged "$log" 'e.get("grant") == "secret" and e["ok"]')" 2
same "log: refused secret grants" \
  "$(logged "$log" 'e.get("grant") == "secret" and not e["ok"]')" 4
same "log: certificate grants, ok and refused" "$(grants certificate)" 1,3
same "log: federated grants, ok and refused" "$(grants federated)" 1,1
same "log: msi, ok and refused" "$(grants msi)" 1,2
same "log: client_id recorded" \
  "$(logged "$log" 'e.get("client_id") == "app-cert"')" 4
for text in "$secret" "$federated" "$identity" "$good" "$forged" "$first"; do
  lacks "log: no secret, assertion or token" "$log" "$text"
  lacks "server log: no secret, assertion or token" "$state/log" "$text"
done

echo "== refuse mode"
config "{\"clients\": {\"app-secret\": \"$secret\"},
  \"identity_header\": \"$identity\", \"refuse\": true}"
token_request grant_type=client_credentials client_id=app-secret \
  "client_secret=$secret" "scope=$scope"
same "refuse: status" "$code" 401
same "refuse: error" "$(jq_ 'd["error"]')" invalid_client
req -H "X-IDENTITY-HEADER: $identity" "$msi_url"
same "refuse: msi status" "$code" 401

echo "== lifetime"
config "{\"clients\": {\"app-secret\": \"$secret\"}, \"lifetime\": 7}"
token_request grant_type=client_credentials client_id=app-secret \
  "client_secret=$secret" "scope=$scope"
same "lifetime 7: expires_in" "$(jq_ 'd["expires_in"]')" 7
config "{\"clients\": {\"app-secret\": \"$secret\"}}"
token_request grant_type=client_credentials client_id=app-secret \
  "client_secret=$secret" "scope=$scope"
same "default lifetime: expires_in" "$(jq_ 'd["expires_in"]')" 3600

echo "== fake az"
az=$CAIRN_FAKE_AZ_DIR/az
export FAKE_AZ_LOG=$work/az.log
set +e
other_tenant=11111111-2222-3333-4444-555555555555
PATH="$CAIRN_FAKE_AZ_DIR:$PATH" FAKE_AZ_TENANT=$other_tenant \
  az account get-access-token --resource https://storage.azure.com/ \
  --output json >"$work/body" 2>"$work/az.err"
rc=$?
set -e
same "az: exit status" "$rc" 0
same "az: tokenType" "$(jq_ 'd["tokenType"]')" Bearer
same "az: tenant from FAKE_AZ_TENANT" "$(jq_ 'd["tenant"]')" \
  "$other_tenant"
same "az: expires_on is now + 3600" \
  "$(jq_ "abs(d['expires_on'] - $(date +%s) - 3600) <= 5")" true
same "az: expiresOn is expires_on in local time" "$(jq_ '
__import__("datetime").datetime.fromtimestamp(d["expires_on"])
  .strftime("%Y-%m-%d %H:%M:%S.%f") == d["expiresOn"]')" true
has "az: subscription" "$work/body" '"subscription"'
claims "$(jq_ 'd["accessToken"]')"
same "az: token tid" "$(jq_ 'd["tid"]' "$work/claims")" "$other_tenant"
same "az: token aud" "$(jq_ 'd["aud"]' "$work/claims")" \
  https://storage.azure.com
set +e
"$az" account get-access-token -o json --resource=https://storage.azure.com \
  --tenant "$tenant" >"$work/body" 2>"$work/az.err"
rc=$?
set -e
same "az -o json --tenant: exit status" "$rc" 0
same "az --tenant: tenant" "$(jq_ 'd["tenant"]')" "$tenant"
same "az: argv logged" "$(tail -n 1 "$FAKE_AZ_LOG")" \
  "[\"account\", \"get-access-token\", \"-o\", \"json\", \
\"--resource=https://storage.azure.com\", \"--tenant\", \"$tenant\"]"
set +e
FAKE_AZ_FAIL=1 "$az" account get-access-token --resource \
  https://storage.azure.com/ --output json >"$work/body" 2>"$work/az.err"
rc=$?
set -e
same "az FAKE_AZ_FAIL: exit status" "$rc" 1
same "az FAKE_AZ_FAIL: message" "$(cat "$work/az.err")" \
  "ERROR: Please run 'az login' to setup account."
set +e
"$az" login >"$work/body" 2>"$work/az.err"
rc=$?
set -e
same "az login: usage error" "$rc" 2
unset FAKE_AZ_LOG

echo "== proxy"
proxy_log=$CAIRN_PROXY_STATE/requests.log
get_filter="e['method'] == 'GET' and
  e['target'] == '$CAIRN_TEST_AZURITE_ENDPOINT?comp=list'"
connect_filter="e['method'] == 'CONNECT' and
  e['target'] == '${issuer#https://}' and e['status'] == 200"
before=$(logged "$proxy_log" 'True')
gets=$(logged "$proxy_log" "$get_filter")
connects=$(logged "$proxy_log" "$connect_filter")
req -x "$CAIRN_PROXY_URL" "$CAIRN_TEST_AZURITE_ENDPOINT?comp=list"
same "proxy GET: Azurite answered" \
  "$(grep -ci '^server: azurite' "$work/headers" || true)" 1
has "proxy GET: x-ms-request-id passed on" "$work/headers" x-ms-request-id
same "proxy GET: logged" "$(logged "$proxy_log" "$get_filter")" \
  $((gets + 1))
req -x "$CAIRN_PROXY_URL" -H "X-IDENTITY-HEADER: none" "$msi_url"
same "proxy CONNECT: the issuer answered" "$code" 401
same "proxy CONNECT: logged" "$(logged "$proxy_log" "$connect_filter")" \
  $((connects + 1))
same "proxy: two entries" "$(logged "$proxy_log" 'True')" $((before + 2))
req -x "$CAIRN_PROXY_URL" \
  "$CAIRN_TEST_AZURITE_ENDPOINT?comp=list&sig=selfcheck-sas-signature"
same "proxy GET with a SAS: Azurite answered" \
  "$(grep -ci '^server: azurite' "$work/headers" || true)" 1
lacks "proxy: no SAS signature in requests.log" "$proxy_log" \
  selfcheck-sas-signature
lacks "proxy: no SAS signature in its log" "$CAIRN_PROXY_STATE/log" \
  selfcheck-sas-signature

auth_log=$CAIRN_PROXY_AUTH_STATE/requests.log
refusals=$(logged "$auth_log" 'e["status"] == 407')
req -x "$CAIRN_PROXY_AUTH_URL" "$CAIRN_TEST_AZURITE_ENDPOINT?comp=list"
same "auth proxy, no credentials: status" "$code" 407
has "auth proxy: Proxy-Authenticate" "$work/headers" \
  'Proxy-Authenticate: Basic'
req -x "$CAIRN_PROXY_AUTH_URL" -U "$CAIRN_PROXY_USER:wrong" \
  "$CAIRN_TEST_AZURITE_ENDPOINT?comp=list"
same "auth proxy, wrong password: status" "$code" 407
set +e
connect=$(curl -sS --max-time 20 --cacert "$ca" -o /dev/null \
  -w '%{http_connect}' -x "$CAIRN_PROXY_AUTH_URL" "$msi_url" 2>/dev/null)
set -e
same "auth proxy, CONNECT without credentials" "$connect" 407
req -x "$CAIRN_PROXY_AUTH_URL" -U "$CAIRN_PROXY_USER:$CAIRN_PROXY_PASSWORD" \
  "$CAIRN_TEST_AZURITE_ENDPOINT?comp=list"
same "auth proxy, credentials: Azurite answered" \
  "$(grep -ci '^server: azurite' "$work/headers" || true)" 1
req -x "$CAIRN_PROXY_AUTH_URL" -U "$CAIRN_PROXY_USER:$CAIRN_PROXY_PASSWORD" \
  -H "X-IDENTITY-HEADER: none" "$msi_url"
same "auth proxy, credentials: CONNECT" "$code" 401
same "auth proxy: 407s logged" "$(logged "$auth_log" 'e["status"] == 407')" \
  $((refusals + 3))
lacks "auth proxy: no password in the log" "$auth_log" "$CAIRN_PROXY_PASSWORD"

# Bodies pass through the proxy as streams: 100 MiB each way through a
# proxy that stays small.
python3 - "$CAIRN_SELFCHECK_PORT" >"$work/sink.log" 2>&1 <<'EOF' &
import http.server, sys

class Sink(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_PUT(self):
        left = int(self.headers["Content-Length"])
        total = 0
        while left:
            data = self.rfile.read(min(left, 1 << 16))
            if not data:
                break
            total += len(data)
            left -= len(data)
        body = str(total).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        size = int(self.path.split("=")[1])
        self.send_response(200)
        self.send_header("Content-Length", str(size))
        self.end_headers()
        block = bytes(1 << 16)
        while size:
            n = min(size, len(block))
            self.wfile.write(block[:n])
            size -= n

server = http.server.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])),
                                         Sink)
server.serve_forever()
EOF
sink_pid=$!
sink="http://127.0.0.1:$CAIRN_SELFCHECK_PORT"
for _ in $(seq 1 50); do
  curl -s -o /dev/null --max-time 1 "$sink/?bytes=0" && break
  sleep 0.1
done
size=$((100 * 1024 * 1024))
truncate -s "$size" "$work/big"
req -x "$CAIRN_PROXY_URL" -T "$work/big" "$sink/upload"
same "proxy upload 100 MiB: status" "$code" 200
same "proxy upload 100 MiB: bytes received" "$(cat "$work/body")" "$size"
got=$(curl -sS --max-time 30 -o /dev/null -w '%{size_download}' \
  -x "$CAIRN_PROXY_URL" "$sink/?bytes=$size" || echo failed)
same "proxy download 100 MiB: bytes" "$got" "$size"
rm -f "$work/big"
proxy_pid=$(cat "$CAIRN_PROXY_STATE/pid")
peak=$(awk '/^VmHWM/ {print $2}' "/proc/$proxy_pid/status")
ok "proxy streams: peak memory ${peak} kB < 64 MiB" [ "$peak" -lt 65536 ]

echo "== mock blob: expire-first"
config "{\"clients\": {\"app-secret\": \"$secret\"},
  \"mockblob\": \"expire-first\"}"
token_request grant_type=client_credentials client_id=app-secret \
  "client_secret=$secret" "scope=$scope"
t1=$(jq_ 'd["access_token"]')
token_request grant_type=client_credentials client_id=app-secret \
  "client_secret=$secret" "scope=$scope"
t2=$(jq_ 'd["access_token"]')
v=(-H "x-ms-version: 2023-11-03")
req -X PUT "${v[@]}" -H "Authorization: Bearer $t1" -H 'Content-Length: 0' \
  "$mock/selfcheck?restype=container"
same "expire-first, first token: status" "$code" 401
has "expire-first: x-ms-error-code" "$work/headers" \
  "x-ms-error-code: InvalidAuthenticationInfo"
challenge="WWW-Authenticate: Bearer authorization_uri="
challenge+="https://login.microsoftonline.com/$tenant/oauth2/authorize"
challenge+=" resource_id=https://storage.azure.com"
has "expire-first: WWW-Authenticate" "$work/headers" "$challenge"
has "expire-first: error body" "$work/body" "<AuthenticationErrorDetail>\
Lifetime validation failed. The token is expired.</AuthenticationErrorDetail>"
has "expire-first: XML error code" "$work/body" \
  "<Code>InvalidAuthenticationInfo</Code>"
req -X PUT "${v[@]}" -H "Authorization: Bearer $t2" -H 'Content-Length: 0' \
  "$mock/selfcheck?restype=container"
same "expire-first, second token: create container" "$code" 201
req -X PUT "${v[@]}" -H "Authorization: Bearer $t2" \
  -H 'x-ms-blob-type: BlockBlob' -H 'Content-Type: text/plain' \
  --data-binary 'mock blob bytes' "$mock/selfcheck/dir/blob.txt"
same "expire-first, second token: put blob" "$code" 201
req "${v[@]}" -H "Authorization: Bearer $t2" "$mock/selfcheck/dir/blob.txt"
same "mock get blob: status" "$code" 200
same "mock get blob: bytes" "$(cat "$work/body")" 'mock blob bytes'
for header in "Content-Length: 15" "ETag: " "Last-Modified: " \
  "x-ms-request-id: "; do
  has "mock get blob: $header" "$work/headers" "$header"
done
req -I "${v[@]}" -H "Authorization: Bearer $t2" "$mock/selfcheck/dir/blob.txt"
same "mock blob properties: status" "$code" 200
has "mock blob properties: Content-Length" "$work/headers" \
  "Content-Length: 15"
req -I "${v[@]}" -H "Authorization: Bearer $t2" \
  "$mock/selfcheck?restype=container"
same "mock container properties: status" "$code" 200
req "${v[@]}" -H "Authorization: Bearer $t1" "$mock/selfcheck/dir/blob.txt"
same "expire-first: the first token stays refused" "$code" 401
req "${v[@]}" "$mock/selfcheck/dir/blob.txt"
same "mock: no Authorization header" "$code" 401
req "${v[@]}" -H "Authorization: Bearer $t2" "$mock/selfcheck/missing"
same "mock: missing blob" "$code" 404

echo "== mock blob: forbid"
config "{\"clients\": {\"app-secret\": \"$secret\"}, \"mockblob\": \"forbid\"}"
req "${v[@]}" -H "Authorization: Bearer $t2" "$mock/selfcheck/dir/blob.txt"
same "forbid: status" "$code" 403
has "forbid: error code header" "$work/headers" \
  "x-ms-error-code: AuthorizationPermissionMismatch"
has "forbid: XML error code" "$work/body" \
  "<Code>AuthorizationPermissionMismatch</Code>"
same "mock requests logged" \
  "$(logged "$log" 'e["kind"] == "mockblob"')" 10
same "mock 401s logged with their token" "$(logged "$log" \
  'e["kind"] == "mockblob" and e["status"] == 401 and e["token"]')" 2

echo "== Azurite with OAuth"
config "{\"clients\": {\"app-secret\": \"$secret\"}}"
token_request grant_type=client_credentials client_id=app-secret \
  "client_secret=$secret" "scope=$scope"
bearer=(-H "Authorization: Bearer $(jq_ 'd["access_token"]')")
oauth=$CAIRN_AZURITE_OAUTH_ENDPOINT
container=selfcheck$(date +%s%N | tail -c 9)
req -X PUT "${v[@]}" "${bearer[@]}" -H 'Content-Length: 0' \
  "$oauth/$container?restype=container"
same "azurite oauth: create container" "$code" 201
req -X PUT "${v[@]}" "${bearer[@]}" -H 'x-ms-blob-type: BlockBlob' \
  --data-binary 'bytes over oauth' "$oauth/$container/blob.txt"
same "azurite oauth: put blob" "$code" 201
req "${v[@]}" "${bearer[@]}" "$oauth/$container/blob.txt"
same "azurite oauth: get blob" "$code" 200
same "azurite oauth: blob bytes" "$(cat "$work/body")" 'bytes over oauth'
wrong_aud=$(python3 -c '
import sys
sys.path.insert(0, sys.argv[1])
import tokens
print(tokens.make_token(sys.argv[2], 3600, "app-secret",
                        audience="https://vault.azure.net")[0])
' "$CAIRN_HARNESS" "$tenant")
req "${v[@]}" -H "Authorization: Bearer $wrong_aud" \
  "$oauth/$container/blob.txt"
same "azurite oauth: wrong audience refused" "$code" 403
has "azurite oauth: wrong audience detail" "$work/body" \
  "Invalid token audience"
expired_token=$(python3 -c '
import sys
sys.path.insert(0, sys.argv[1])
import tokens
print(tokens.make_token(sys.argv[2], -60, "app-secret")[0])
' "$CAIRN_HARNESS" "$tenant")
req "${v[@]}" -H "Authorization: Bearer $expired_token" \
  "$oauth/$container/blob.txt"
same "azurite oauth: expired token refused" "$code" 403

elapsed=$(($(date +%s) - started))
echo "$checks checks, $failures failures, ${elapsed} s"
[ "$failures" -eq 0 ]
