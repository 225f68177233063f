#!/usr/bin/env bash
# The example pipeline on the default local stack, as a user runs it:
# a first run, a fully cached second run, inspection commands, a byte-exact
# artifact get, a --no-cache run, and two runs at once on one home.
. "$(dirname "$0")/lib.sh"

json() { python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }

ok pipeline run "$example"
has "Run 'breast_cancer-1' completed." "first run"
has "evaluate: accuracy=" "run summary metrics"
accuracy=$(sed -n 's/.*evaluate: accuracy=\([0-9.]*\).*/\1/p' <<<"$out")
python3 -c "import sys; sys.exit(0 if float('$accuracy') > 0.9 else 1)" ||
  fail "held-out accuracy $accuracy is not above 0.9"

ok status
has "default" "status"
has "$CAIRN_HOME" "status shows the home"

ok run list
has "breast_cancer-1" "run list"
ok run describe breast_cancer-1
has "evaluate" "run describe"
has "accuracy" "run describe metrics"
ok run logs breast_cancer-1 train
has "train" "train log"

# The second run reuses every step and still shows the metrics.
ok pipeline run "$example"
has "Run 'breast_cancer-2' completed." "cached run"
has "evaluate: accuracy=$accuracy" "cached run metrics"
ok run describe breast_cancer-2 --output json
cached=$(json "sum(1 for s in d['steps'] if s['status'] == 'cached')" <<<"$out")
same "$cached" 4 "steps cached in the second run"

# artifact get is byte-exact and matches the recorded SHA-256.
ok artifact describe breast_cancer::evaluate::metrics --output json
recorded=$(json "d['sha256']" <<<"$out")
uri=$(json "d['uri']" <<<"$out")
ok artifact get breast_cancer::evaluate::metrics "$work/metrics.json"
same "$(sha256sum <"$work/metrics.json" | cut -d' ' -f1)" "$recorded" \
  "sha256 of the fetched metrics"
cmp -s "$work/metrics.json" "$uri/metrics" ||
  fail "fetched metrics differ from the stored file"
python3 -c "import json; d=json.load(open('$work/metrics.json')); \
  assert d['accuracy'] > 0.9, d" || fail "metrics.json accuracy"

ok artifact get breast_cancer_model "$work/model"
[ -f "$work/model/model.json" ] || fail "model folder lacks model.json"
ok artifact describe breast_cancer_model:1
has "MADE FROM" "lineage"

# --no-cache makes new versions.
ok pipeline run "$example" --no-cache
ok artifact list --output json
versions=$(json "[a['versions'] for a in d if a['name'] == \
  'breast_cancer_model'][0]" <<<"$out")
same "$versions" 2 "model versions after --no-cache"
ok artifact list --output json --output table
has "breast_cancer_model" "the last --output wins"
lacks '"versions"' "--output table after --output json"

# Two runs at once on one home get distinct names and versions.
"$CAIRN_BIN" pipeline run "$example" --no-cache >"$work/a" 2>&1 &
pid=$!
"$CAIRN_BIN" pipeline run "$example" --no-cache >"$work/b" 2>&1 || \
  fail "second concurrent run failed: $(cat "$work/b")"
wait $pid || fail "first concurrent run failed: $(cat "$work/a")"
ok artifact list --output json
versions=$(json "[a['versions'] for a in d if a['name'] == \
  'breast_cancer_model'][0]" <<<"$out")
same "$versions" 4 "model versions after two concurrent runs"
ok run list --output json
names=$(json "' '.join(sorted(r['run_name'] for r in d))" <<<"$out")
same "$names" \
  "breast_cancer-1 breast_cancer-2 breast_cancer-3 breast_cancer-4 breast_cancer-5" \
  "run names"

finish
