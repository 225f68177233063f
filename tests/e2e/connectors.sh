#!/usr/bin/env bash
# Service connectors on Azurite over plain http: the connector types and
# their refusals; an account-key, a SAS and a connection-string connector
# each backing a store on which the example pipeline runs (the key-based
# ones hand the store a container SAS, never the key); list-resources;
# failures that show in the table and the exit status (a wrong key, a
# missing container, an expired SAS, a scope that does not fit); delete,
# disconnect, update; and the -i flows with answers piped and at a
# terminal.
. "$(dirname "$0")/lib.sh"
: "${CAIRN_TEST_AZURITE_ENDPOINT:?the Azurite endpoint}"

json() { python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }
sas() { node "$CAIRN_SOURCE_DIR/tests/e2e/make_sas.js" "$@"; }

ep=$CAIRN_TEST_AZURITE_ENDPOINT
base="conn-$(date +%s)-$$"
wrong=$(printf 'not-the-key-of-this-account-at-all!!' | base64 -w0)
cs="DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;\
AccountKey=$dev_key;BlobEndpoint=$ep;"
unset CAIRN_ENABLE_IMPLICIT_AUTH_METHODS || true

# run_on STORE: the example on STORE, its own stack
run_on() {
  ok stack register "stack_$1" -a "$1" --set
  ok --log-level debug pipeline run "$example"
  has "completed." "the example on $1"
  has "evaluate: accuracy=" "metrics on $1"
  lacks "$dev_key" "the pipeline's output on $1"
}

# --- The type, and what is refused before anything is saved ----------
ok service-connector list-types
has "Azure Service Connector" "list-types"
has "blob-container" "list-types: resource types"
has "connection-string" "list-types: auth methods"
ok service-connector list-types --output json
same "$(json "d[0]['type']" <<<"$out")" azure "list-types as JSON"
ok service-connector describe-type azure -a account-key
has "account_key (secret)" "describe-type: secret fields"
lacks "service-principal:" "describe-type -a shows that method only"
refused service-connector describe-type aws

refused service-connector register c1 --auth-method account-key
has "--type azure" "a connector without a type"
refused service-connector register c1 --type azure --auth-method password
has "connection-string" "an unknown method lists the methods"
refused service-connector register c1 --type azure --auth-method account-key \
  --account_name=devstoreaccount1
has "--account_key" "a missing field"
refused service-connector register c1 --type azure --auth-method account-key \
  --account_name=devstoreaccount1 "--account_key=$dev_key" --client_id=x
has "'client_id'" "an unknown field"
refused service-connector register c1 --type azure --auth-method implicit \
  --storage_account=devstoreaccount1
has "CAIRN_ENABLE_IMPLICIT_AUTH_METHODS" "implicit needs enabling"
refused service-connector register c1 --type azure --auth-method account-key \
  --account_name=devstoreaccount1 "--account_key=$dev_key" \
  -r blob-container -ri Bad_Container
has "Bad_Container" "a container id against the rules"
ok service-connector list
has "No service connectors" "nothing was saved"

# --- account-key: the store gets a container SAS ----------------------
ok service-connector register az-key --type azure --auth-method account-key \
  --account_name=devstoreaccount1 "--account_key=$dev_key" \
  "--blob_endpoint=$ep" --description="Azurite by key"
has "Successfully registered service connector \`az-key\` with access to" \
  "register"
has "RESOURCE NAMES" "register shows the resources"
has "devstoreaccount1" "the azure-generic row"
lacks "$dev_key" "register's output"
ok service-connector describe az-key
has "[HIDDEN]" "describe hides the key"
lacks "$dev_key" "describe"
has "Azurite by key" "describe shows the description"
ok service-connector describe az-key -x
has "$dev_key" "describe -x shows the key"
ok service-connector describe az-key --output json
key_id=$(json "d['id']" <<<"$out")
secret_id=$(json "d['secret_id']" <<<"$out")
same "$(json "d['configuration']['account_key']" <<<"$out")" "[HIDDEN]" \
  "JSON hides the key"

# The key is a cairn secret: encrypted, and kept while the connector is.
ok secret list
has "connector-$key_id" "the connector's secret"
has "account_key" "the secret's key name"
refused secret delete "$secret_id" -y
has "service connector 'az-key'" "its secret cannot go first"
has "delete the connector to remove it" "the way to remove it"
refused secret rename "$secret_id" -n hijacked
has "cairn service-connector update" "its secret is renamed by nobody"
refused secret update "$secret_id" --junk_field=1
has "holds the fields of service connector 'az-key'" \
  "its secret is changed through the connector only"

ok artifact-store register store_key -f azure --path="az://$base-key/art" \
  --connector az-key
has "Created the container az://$base-key" "connect creates the container"
has "Successfully connected artifact store \`store_key\` to the following" \
  "register --connector connects"
has "CONNECTOR NAME" "the connection table"
run_on store_key
has "a SAS (racwdl)" "the store gets a SAS"
has "not the account key" "the store does not get the key"
ok artifact-store describe store_key
has "Service Connector" "describe's connector table"
has "az-key" "describe names the connector"
has "az://$base-key" "describe names the resource"
has "service connector 'az-key', account-key: a SAS for container \
'$base-key' (SAS)" "describe: the source and the method"
lacks "$dev_key" "describe"
ok artifact-store describe store_key --output json
same "$(json "d['connector']['name']" <<<"$out")" az-key "JSON connector"
ok status
has "connector:     'az-key'" "status names the connector"
has "(SAS)" "status says SAS"
# Every request of the store carries the container SAS.
ok --log-level trace artifact get breast_cancer_model "$work/model"
has "sr=c&sp=racwdl&sig=***" "requests carry the container SAS"
lacks "$dev_key" "the trace"
lacks "SharedKey" "the trace"
# Moved to another container, the store's SAS no longer reaches its old
# versions: the error says why, and moving it back heals it.
ok artifact-store update store_key --path="az://$base-key-moved/art"
refused artifact get breast_cancer_model "$work/moved-model"
has "outside the path az://$base-key-moved/art of artifact store \
'store_key'" "a moved store's old version"
has "connect the store to credentials that reach both" "the way out"
lacks "$dev_key" "the error of a moved store"
ok artifact-store update store_key --path="az://$base-key/art"
ok artifact get breast_cancer_model "$work/moved-model"

# --- sas-token: an account SAS, handed on as it is ---------------------
ok service-connector register az-sas --type azure --auth-method sas-token \
  --account_name=devstoreaccount1 "--sas_token=$(sas account rwdlac 3600)" \
  "--blob_endpoint=$ep"
ok service-connector list --output json
expires=$(json "[c['expires_at'] for c in d if c['name'] == 'az-sas'][0]" \
  <<<"$out")
[ "$expires" -gt "$(date +%s)" ] || fail "a SAS connector expires with its SAS"
ok artifact-store register store_sas -f azure --path="az://$base-sas/art" \
  --connector az-sas
has "Created the container az://$base-sas" "an account SAS may create it"
run_on store_sas
has "its own SAS" "a SAS connector hands on its SAS"
ok artifact-store describe store_sas
has "service connector 'az-sas', sas-token (SAS)" "describe: SAS method"

# --- connection-string (with a key): a container SAS too ---------------
ok service-connector register az-cs --type azure \
  --auth-method connection-string "--connection_string=$cs" \
  -r blob-container
lacks "azure-generic" "a connector scoped to blob-container"
ok artifact-store register store_cs -f azure --path="az://$base-cs" \
  --connector az-cs
run_on store_cs
has "a SAS (racwdl)" "a connection string's key stays home too"
ok artifact-store describe store_cs
has "connection-string: a SAS for container '$base-cs' (SAS)" \
  "describe: connection string"

# --- list-resources: the containers of the account --------------------
ok service-connector list-resources
has "The following resources can be accessed by service connectors:" \
  "the heading"
has "CONNECTOR ID" "the table"
for c in "$base-key" "$base-sas" "$base-cs"; do
  has "az://$c" "list-resources shows $c"
done
ok service-connector list-resources -c azure -r blob-container \
  -ri "az://$base-key" --output json
same "$(json "sorted(set(r['connector_name'] for r in d))" <<<"$out")" \
  "['az-cs', 'az-key', 'az-sas']" "every connector reaches the container"
same "$(json "d[0]['resource_names']" <<<"$out")" "['az://$base-key']" \
  "the one resource asked for"

# --- Failures: in the table and in the exit status --------------------
refused service-connector register az-bad --type azure \
  --auth-method account-key --account_name=devstoreaccount1 \
  "--account_key=$wrong" "--blob_endpoint=$ep"
has "error: " "a wrong key shows in the table"
has "was not registered" "a wrong key is not saved"
lacks "$wrong" "the wrong key's error"
refused service-connector describe az-bad
ok service-connector register az-bad --type azure \
  --auth-method account-key --account_name=devstoreaccount1 \
  "--account_key=$wrong" "--blob_endpoint=$ep" --no-verify
has "Successfully registered service connector \`az-bad\`." "--no-verify"
refused service-connector verify az-bad
has "failed verification" "verify of a wrong key"
refused service-connector list-resources
has "az-bad" "list-resources shows the connector in error"
has "could not be reached" "list-resources says rows failed"
has "az://$base-key" "list-resources still shows the others"
ok service-connector list-resources -e
lacks "az-bad" "-e leaves errors out"

# A container SAS for a container that does not exist: no way to make it.
ok service-connector register az-csas --type azure --auth-method sas-token \
  --account_name=devstoreaccount1 \
  "--sas_token=$(sas container "$base-none" racwdl 3600)" \
  "--blob_endpoint=$ep" -r blob-container -ri "az://$base-none" --no-verify
refused service-connector verify az-csas
has "does not exist" "a missing container"
ok artifact-store register store_none -f azure --path="az://$base-none/x"
refused artifact-store connect store_none --connector az-csas
has "cannot create it" "connect cannot make the container"
ok artifact-store describe store_none --output json
same "$(json "d['connector']" <<<"$out")" None \
  "a refused connect connects nothing"
# ... and a scope that is not the store's container.
refused artifact-store connect store_key --connector az-csas
has "scoped to az://$base-none" "a connector scoped elsewhere"
refused artifact-store connect store_key --connector az-key \
  --resource-id "az://$base-none"
has "does not match" "-r other than the store's container"
refused artifact-store connect store_key
has "--connector" "connect needs a connector or -i"
# A connected store moved to another container: the connector must reach
# it, as at connect time.
ok service-connector register az-scoped --type azure \
  --auth-method account-key --account_name=devstoreaccount1 \
  "--account_key=$dev_key" "--blob_endpoint=$ep" -r blob-container \
  -ri "az://$base-key"
ok artifact-store register store_scoped -f azure \
  --path="az://$base-key/scoped" --connector az-scoped
refused artifact-store update store_scoped --path="az://$base-sas/scoped"
has "connected to service connector 'az-scoped'" "a move out of scope"
has "scoped to az://$base-key" "the connector's scope"
ok artifact-store describe store_scoped --output json
same "$(json "d['config']['path']" <<<"$out")" "az://$base-key/scoped" \
  "a refused move keeps the path"
ok artifact-store update store_scoped --path="az://$base-key/moved"
ok artifact-store update store_scoped --block_size=1MiB
ok artifact-store delete store_scoped
ok service-connector delete az-scoped
ok artifact-store register store_local -f local --path="$work/local-store"
refused artifact-store connect store_local --connector az-key
has "only azure stores" "a local store cannot use a connector"

# An expired SAS makes an expired connector, which says so.
ok service-connector register az-old --type azure --auth-method sas-token \
  --account_name=devstoreaccount1 "--sas_token=$(sas account rwdlac -60)" \
  "--blob_endpoint=$ep" --no-verify
ok service-connector list
has "Expired!" "list shows the expired connector"
refused service-connector verify az-old
has "expired at" "verify of an expired connector"
refused artifact-store connect store_none --connector az-old
has "expired" "connect to an expired connector"
ok artifact-store register store_old -f azure --path="az://$base-key/old"
ok artifact-store connect store_old --connector az-old --no-verify
has "(not verified)" "connect --no-verify"
ok stack register stack_old -a store_old --set
refused pipeline run "$example"
has "service connector 'az-old' expired" "a run on an expired connector"
ok artifact-store describe store_old
has "none: " "describe of a store whose connector expired"
has "expired" "describe says why"

# --- delete, disconnect, update ----------------------------------------
refused service-connector delete az-key
has "store_key" "delete names the stores using it"
ok artifact-store disconnect store_key
has "disconnected artifact store \`store_key\` from service connector \
\`az-key\`" "disconnect"
refused artifact-store disconnect store_key
has "not connected" "disconnecting twice"
ok artifact-store describe store_key
has "No service connector" "describe after disconnect"
ok artifact-store connect store_key --connector az-key
lacks "Created the container" "an existing container is not made again"
ok service-connector update az-key --expiration-seconds 900 \
  --description="renewed every 7.5 minutes"
has "Successfully updated service connector \`az-key\`" "update"
ok service-connector describe az-key --output json
same "$(json "d['expiration_seconds']" <<<"$out")" 900 "update's lifetime"
same "$(json "d['secret_id']" <<<"$out")" "$secret_id" "the same secret"
refused service-connector update az-key "--account_key=$wrong"
has "was not updated" "an update that fails verification"
ok service-connector verify az-key
has "correctly configured" "the connector kept its key"
refused service-connector update az-key
has "nothing to update" "update without changes"
refused service-connector update az-key -r no_such_field
has "no field 'no_such_field'" "removing a field it does not have"

ok service-connector delete az-bad
has "Deleted service connector 'az-bad'" "delete"
ok service-connector list --output json
same "$(json "'az-bad' in [c['name'] for c in d]" <<<"$out")" False \
  "the deleted connector"
ok secret list --output json
same "$(json "'$secret_id' in [s['id'] for s in d]" <<<"$out")" True \
  "the kept connector's secret"

# --- -i: answers piped on standard input ----------------------------------
printf '%s\n' az-piped "typed in" "" blob-container account-key \
  devstoreaccount1 "$dev_key" "$ep" "" "" >"$work/answers"
checks=$((checks + 1))
if ! "$CAIRN_BIN" service-connector register -i <"$work/answers" \
  >"$work/piped.out" 2>&1; then
  fail "register -i from a pipe: $(cat "$work/piped.out")"
fi
grep -qF -- "$dev_key" "$work/piped.out" && fail "register -i echoed the key"
ok service-connector describe az-piped --output json
same "$(json "d['auth_method'] + '|' + d['description']" <<<"$out")" \
  "account-key|typed in" "what register -i read from the pipe"
# answers that end before the optional questions take their defaults
printf '%s\n' az-short "" "" blob-container account-key devstoreaccount1 \
  "$dev_key" "$ep" >"$work/answers"
checks=$((checks + 1))
if ! "$CAIRN_BIN" service-connector register -i <"$work/answers" \
  >"$work/short.out" 2>&1; then
  fail "register -i with answers that end early: $(cat "$work/short.out")"
fi
ok service-connector describe az-short --output json
has '"auth_method": "account-key"' "register -i with the defaults"
ok service-connector delete az-short
ok artifact-store register store_i -f azure --path="az://$base-key/i"
printf 'az-piped\n' >"$work/choice"
checks=$((checks + 1))
if ! "$CAIRN_BIN" artifact-store connect store_i -i <"$work/choice" \
  >"$work/connect.out" 2>&1; then
  fail "connect -i from a pipe: $(cat "$work/connect.out")"
fi
grep -q "az-key" "$work/connect.out" || fail "connect -i lists az-key"
grep -q "az-old" "$work/connect.out" && fail "connect -i lists az-old"
ok artifact-store describe store_i --output json
same "$(json "d['connector']['name']" <<<"$out")" az-piped "connect -i"
printf 'nobody\n' >"$work/choice"
"$CAIRN_BIN" artifact-store connect store_i -i <"$work/choice" \
  >"$work/connect.out" 2>&1 && fail "connect -i took an unknown choice"
grep -q "not one of" "$work/connect.out" || fail "connect -i: bad choice"

# --- -i at a terminal: prompts on a pty, the key typed without echo ------
checks=$((checks + 1))
if ! python3 - "$CAIRN_BIN" "$dev_key" "$ep" >"$work/pty.out" 2>&1 <<'PY'
import os, pty, select, sys, time

binary, key, endpoint = sys.argv[1:4]
answers = [("name:", "az-tty"), ("Description", ""), ("Connector type", ""),
           ("Resource type", ""), ("Auth method", "account-key"),
           ("account_name:", "devstoreaccount1"), ("account_key:", key),
           ("blob_endpoint", endpoint), ("Lifetime", "1200")]
pid, fd = pty.fork()
if pid == 0:
    os.execv(binary, [binary, "service-connector", "register", "-i"])
full, pending, deadline = b"", b"", time.monotonic() + 60


def read_some():
    """Read what the terminal shows; b"" once the program has ended."""
    global full
    if not select.select([fd], [], [], 1)[0]:
        return None
    try:
        chunk = os.read(fd, 4096)
    except OSError:
        chunk = b""
    full += chunk
    return chunk


for prompt, answer in answers:
    while prompt.encode() not in pending:
        if time.monotonic() > deadline:
            sys.exit("no prompt %r in %r" % (prompt, full))
        chunk = read_some()
        if chunk == b"":
            sys.exit("ended before %r: %r" % (prompt, full))
        pending += chunk or b""
    pending = pending[pending.index(prompt.encode()) + len(prompt):]
    os.write(fd, answer.encode() + b"\n")
while time.monotonic() < deadline and read_some() != b"":
    pass
_, status = os.waitpid(pid, 0)
sys.stdout.write(full.decode(errors="replace"))
# Typed answers echo, as a terminal does; the key alone does not.
if b"1200" not in full:
    sys.exit("the lifetime typed was not echoed")
if key.encode() in full:
    sys.exit("the key was echoed")
sys.exit(os.waitstatus_to_exitcode(status))
PY
then
  fail "register -i at a terminal: $(cat "$work/pty.out")"
fi
grep -q "Successfully registered service connector \`az-tty\`" \
  "$work/pty.out" || fail "register -i at a terminal: no success line"
ok service-connector describe az-tty --output json
same "$(json "d['expiration_seconds']" <<<"$out")" 1200 \
  "what register -i read at a terminal"
ok service-connector describe az-tty -x
has "$dev_key" "the key typed at the terminal"

finish
