#!/usr/bin/env bash
# Secrets as a user handles them: create in every way, list, get, update,
# rename, export and import, delete; values never shown unless asked
# for; a lost or wrong key named with the secrets it locks; rotation;
# the Azure schema checked when a store names a secret.
. "$(dirname "$0")/lib.sh"

json() { python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }

# Values that must survive every path byte for byte.
odd='a "quoted" value: #not-a-comment, @at, trailing  '

ok secret create plain --user=alice "--odd=$odd" --at=@@literal
has "***" "create masks values"
lacks "alice" "create output"
ok secret get plain --output json
same "$(json "d['values']['user']" <<<"$out")" alice "a --key=value"
same "$(json "repr(d['values']['odd'])" <<<"$out")" "$(python3 -c \
  "import sys; print(repr(sys.argv[1]))" "$odd")" "a value with quotes"
same "$(json "d['values']['at']" <<<"$out")" "@literal" "@@ is a literal @"

# --values as JSON, as YAML, and from a file; they win over --key=value.
ok secret create js -v '{"a": "1", "b": 2}' --a=overridden
ok secret get js --output json
same "$(json "d['values']['a'] + d['values']['b']" <<<"$out")" 12 \
  "JSON values"
printf 'x: "007"\ny: 007\nz: some text\n' >"$work/vals.yaml"
ok secret create ym --values="@$work/vals.yaml"
ok secret get ym --output json
same "$(json "d['values']['x'] + d['values']['y']" <<<"$out")" 007007 \
  "YAML values keep their text"
printf 'file content' >"$work/token.txt"
ok secret create fromfile "--token=@$work/token.txt"
ok secret get fromfile --output json
same "$(json "d['values']['token']" <<<"$out")" "file content" "@FILE"

refused secret create big "--v=@$work/none.txt"
has "none.txt" "a missing @FILE"
head -c 70000 /dev/zero | tr '\0' a >"$work/big.txt"
refused secret create big "--v=@$work/big.txt"
has "limit" "an @FILE over the size limit"
refused secret create empty
has "needs values" "a secret without values"
refused secret create bad -v '[1, 2]'
has "key/value" "--values that are not pairs"
refused secret create bad --name=x
has "'name'" "'name' as a key"
refused secret create plain --x=y
has "exists already" "a duplicate name"
refused secret create iv -i --a=b
has "-i" "-i with values"

# -i reads keys and hidden values from a pipe as from a terminal.
printf 'k1\nsecret one\ny\nk2\nsecret two\nn\n' |
  "$CAIRN_BIN" secret create typed -i >"$work/typed.out" 2>&1 ||
  fail "secret create -i from a pipe: $(cat "$work/typed.out")"
grep -q "secret one" "$work/typed.out" && fail "-i echoed a value"
ok secret get typed --output json
same "$(json "d['values']['k1'] + '|' + d['values']['k2']" <<<"$out")" \
  "secret one|secret two" "values typed with -i"

# Listings show key names only.
ok secret list
has "plain" "secret list"
has "user" "secret list shows key names"
lacks "alice" "secret list"
lacks "secret one" "secret list"
ok secret list --output json
same "$(json "[s['keys'] for s in d if s['name'] == 'js'][0]" <<<"$out")" "['a', 'b']" "keys as a JSON list"

# update: add, change, remove; refused ways.
ok secret update plain --user=bob --extra=1 -r at
ok secret get plain --output json
same "$(json "d['values']['user'] + str('at' in d['values'])" <<<"$out")" \
  "bobFalse" "values after update"
refused secret update plain -r nope
has "no key 'nope'" "removing a missing key"
refused secret update plain
has "nothing to update" "update without changes"
refused secret update fromfile -r token
has "without keys" "removing every key"
refused secret update missing --a=b
has "missing" "updating a missing secret"

# export writes YAML (0600) that create reads back unchanged.
ok secret export plain -f "$work/plain.yaml"
same "$(stat -c %a "$work/plain.yaml")" 600 "export file mode"
echo keep >"$work/kept.yaml"
refused secret export plain -f "$work/kept.yaml"
has "--overwrite" "export keeps an existing file"
same "$(cat "$work/kept.yaml")" keep "a file export refused to replace"
ok secret export plain -f "$work/kept.yaml" --overwrite
cmp -s "$work/kept.yaml" "$work/plain.yaml" || fail "export --overwrite"
# what is not a regular file is never replaced by one holding the secret
mkfifo "$work/fifo"
ln -s "$work/kept.yaml" "$work/link.yaml"
for target in fifo link.yaml; do
  refused secret export plain -f "$work/$target" --overwrite
  has "is not a regular file" "export over $target"
done
[ -p "$work/fifo" ] && [ -L "$work/link.yaml" ] ||
  fail "export replaced a FIFO or a link"
ok secret create copy --values="@$work/plain.yaml"
ok secret get plain --output json
orig=$(json "sorted(d['values'].items())" <<<"$out")
ok secret get copy --output json
same "$(json "sorted(d['values'].items())" <<<"$out")" "$orig" \
  "export and import round trip"

ok secret rename copy -n copy2
refused secret get copy
refused secret delete copy2
has "-y" "delete without confirmation"
ok secret delete copy2 -y
refused secret get copy2

# At rest: the database and the key file are private; values are not in
# the database.
same "$(stat -c %a "$CAIRN_HOME/cairn.db")" 600 "database mode"
same "$(stat -c %a "$XDG_CONFIG_HOME/cairn/secrets.key")" 600 "key mode"
grep -c "bob" "$CAIRN_HOME/cairn.db" >/dev/null &&
  fail "a value is in the database in clear"

# The Azure schema is checked when a store names a secret.
ok secret create az_good --account_name=devstoreaccount1 \
  "--account_key=$dev_key" --blob_endpoint=http://127.0.0.1:9/devstoreaccount1
ok secret create az_typo --account_name=devstoreaccount1 \
  "--acount_key=$dev_key"
ok secret create az_half --account_name=devstoreaccount1 --client_id=c
ok secret create az_b64 --account_name=devstoreaccount1 --account_key=abc
refused artifact-store register s1 -f azure --path=az://cont1 \
  --authentication_secret=az_typo
has "acount_key" "an unknown key is named"
has "account_key" "the schema's keys are listed"
lacks "$dev_key" "schema error"
refused artifact-store register s1 -f azure --path=az://cont1 \
  --authentication_secret=az_half
has "client_secret and tenant_id" "an incomplete service principal"
has "the valid combinations" "the combinations are listed"
refused artifact-store register s1 -f azure --path=az://cont1 \
  --authentication_secret=az_b64
has "base64" "a key that is not base64"
refused artifact-store register s1 -f azure --path=az://cont1 \
  --authentication_secret=nope
has "cairn secret create nope" "a missing secret"
ok artifact-store register s1 -f azure --path=az://cont1 \
  --authentication_secret=az_good
ok artifact-store describe s1
has "secret 'az_good': account key" "describe names the source and method"
lacks "$dev_key" "artifact-store describe"
ok artifact-store describe s1 --output json
lacks "$dev_key" "artifact-store describe --output json"
refused secret update az_good --account_key=notbase64
has "artifact store 's1'" "an update that breaks a store's secret"
refused secret delete az_good -y
has "s1" "deleting a secret a store uses"
ok secret rename az_good -n az_renamed
ok artifact-store describe s1
has "az_renamed" "the store follows the renamed secret"
ok artifact-store register s2 -f azure --path=az://cont2 \
  --authentication_secret=az_renamed --block_size=8MiB
ok artifact-store update s2 --authentication_secret=
ok artifact-store describe s2 --output json
lacks "az_renamed" "a secret cleared with an empty value"
refused secret delete az_renamed -y
has "s1" "the secret is still used by s1 only"
lacks "s2" "a cleared store no longer counts as a user"
ok artifact-store update s2 --authentication_secret=az_renamed
ok artifact-store remove-attribute s2 authentication_secret block_size
ok artifact-store describe s2 --output json
lacks "az_renamed" "a secret removed with remove-attribute"
lacks "block_size" "a field removed with remove-attribute"
refused artifact-store remove-attribute s2 path
has "cannot be removed" "the path is required"
refused artifact-store remove-attribute s2 nosuch
has "no field 'nosuch'" "removing a field that is not set"
ok artifact-store delete s2
ok stack register s1_stack -a s1
ok status
lacks "$dev_key" "status"

# A lost key is named with the secrets it locks; no new key replaces it.
mv "$XDG_CONFIG_HOME/cairn/secrets.key" "$work/key.saved"
refused secret get plain
has "cannot be read" "a lost key"
has "'plain'" "the locked secrets are named"
refused secret create another --a=b
[ -f "$XDG_CONFIG_HOME/cairn/secrets.key" ] &&
  fail "a new key was made while secrets need the old one"
CAIRN_SECRETS_KEY=$(head -c 32 /dev/urandom | base64) refused secret get plain
has "CAIRN_SECRETS_KEY" "a wrong key in the environment"
mv "$work/key.saved" "$XDG_CONFIG_HOME/cairn/secrets.key"

# Rotation: a new key file, every secret still readable.
cp "$XDG_CONFIG_HOME/cairn/secrets.key" "$work/old.key"
ok secret rotate-key
has "Re-encrypted" "rotate-key"
cmp -s "$work/old.key" "$XDG_CONFIG_HOME/cairn/secrets.key" &&
  fail "the key file did not change"
ok secret get plain --output json
same "$(json "d['values']['user']" <<<"$out")" bob "a secret after rotation"

# A step never sees the secrets key in its environment.
mkdir -p "$work/p"
cat >"$work/p/env.yaml" <<'YAML'
name: envdump
steps:
  dump: {run: 'env > "$CAIRN_OUTPUT_ENV"; env', outputs: [env]}
YAML
CAIRN_SECRETS_KEY=$(cat "$XDG_CONFIG_HOME/cairn/secrets.key") \
  ok pipeline run "$work/p/env.yaml"
ok artifact get envdump::dump::env "$work/env.txt"
grep -q CAIRN_OUTPUT_ENV "$work/env.txt" || fail "the step's environment"
grep -q CAIRN_SECRETS_KEY "$work/env.txt" && fail "a step saw the key"
ok run logs envdump-1
lacks "CAIRN_SECRETS_KEY" "a step's log"

# Secrets never reach the logs, even at trace level.
ok --log-level trace secret list
lacks "bob" "trace log of secret list"
ok --log-level trace artifact-store describe s1
lacks "$dev_key" "trace log of describe"

finish
