#!/usr/bin/env bash
# The example pipeline on an Azure stack whose store reaches Azurite through
# AZURE_STORAGE_CONNECTION_STRING; then again with every step cached. The
# blobs cairn wrote are read back by the Azure SDK for JavaScript and must
# match, byte for byte, what cairn recorded.
. "$(dirname "$0")/lib.sh"
: "${CAIRN_TEST_AZURITE_ENDPOINT:?the Azurite endpoint}"

json() { python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }

export AZURE_STORAGE_CONNECTION_STRING="DefaultEndpointsProtocol=http;\
AccountName=devstoreaccount1;AccountKey=$dev_key;\
BlobEndpoint=$CAIRN_TEST_AZURITE_ENDPOINT;"
container="e2e-$(date +%s)-$$"

ok artifact-store register az_store -f azure --path="az://$container/artifacts"
ok stack register az_stack -a az_store --set
ok status
has "az://$container/artifacts" "status shows the store"
has "AZURE_STORAGE_CONNECTION_STRING" "status shows the credential source"
lacks "$dev_key" "status"

ok pipeline run "$example"
has "Run 'breast_cancer-1' completed." "azure run"
has "evaluate: accuracy=" "azure run metrics"
lacks "$dev_key" "pipeline run output"

ok pipeline run "$example"
ok run describe breast_cancer-2 --output json
cached=$(json "sum(1 for s in d['steps'] if s['status'] == 'cached')" <<<"$out")
same "$cached" 4 "steps cached in the second azure run"

# Read every blob back with the JavaScript SDK.
if ! node "$CAIRN_SOURCE_DIR/tests/e2e/read_blobs.js" "$container" \
    artifacts/ "$work/blobs" >"$work/listing" 2>"$work/reader.err"; then
  fail "the independent reader failed: $(cat "$work/reader.err")"
fi
grep -q 'artifacts/breast_cancer/train/logs/breast_cancer-1.log' \
  "$work/listing" || fail "the train log is not in the container"

ok artifact list --output json
names=$(json "' '.join(a['name'] for a in d)" <<<"$out")
for name in $names; do
  ok artifact describe "$name" --output json
  echo "$out" >"$work/describe.json"
  ok artifact get "$name" "$work/got/$name"
  python3 - "$work/describe.json" "$work/listing" "$work/blobs" \
      "$work/got/$name" <<'PY' || fail "blobs of $name do not match"
import hashlib, json, os, sys
desc = json.load(open(sys.argv[1]))
listing = {}
for line in open(sys.argv[2]):
    sha, size, name = line.rstrip("\n").split("  ", 2)
    listing[name] = (sha, int(size))
prefix = desc["uri"].split("/", 3)[3]          # az://container/<path>
manifest = json.load(open(os.path.join(sys.argv[3], prefix,
                                       "cairn-manifest.json")))
assert manifest["sha256"] == desc["sha256"], "manifest vs record"
for f in manifest["files"]:
    sha, size = listing[prefix + "/" + f["path"]]
    assert (sha, size) == (f["sha256"], f["size"]), f["path"]
    got = sys.argv[4]
    if desc["kind"] == "folder":
        got = os.path.join(got, f["path"])
    data = open(got, "rb").read()
    assert hashlib.sha256(data).hexdigest() == sha, "artifact get " + got
if desc["kind"] == "file":
    assert manifest["files"][0]["sha256"] == desc["sha256"]
PY
done

finish
