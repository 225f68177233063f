/*
 * Secrets in the metadata store, encrypted at rest.
 *
 * Each secret's values (a JSON object of strings) are sealed as one
 * XChaCha20-Poly1305 ciphertext with a random nonce and the secret's id
 * as associated data, so that a ciphertext cannot be moved to another
 * row.  The 32-byte key never enters the database: it is
 * CAIRN_SECRETS_KEY (base64), else the file secrets.key (mode 0600) in
 * the cairn config folder.  Each row records the id of the key that
 * sealed it (a hash prefix), so that a lost or wrong key is named, with
 * the secrets it leaves unreadable.
 *
 * Rotation writes the new key to secrets.key.new first, re-encrypts
 * every row in one transaction, then renames the file over secrets.key;
 * a crash at any point leaves every row readable with one of the two
 * files, and the next load finishes the rename.
 */
#include <errno.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/error.h"
#include "core/hash.h"
#include "core/log.h"
#include "core/util.h"
#include "store/db.h"

#define KEY_LEN crypto_aead_xchacha20poly1305_ietf_KEYBYTES
#define NONCE_LEN crypto_aead_xchacha20poly1305_ietf_NPUBBYTES
#define TAG_LEN crypto_aead_xchacha20poly1305_ietf_ABYTES
#define KEY_ID_LEN 16 /* hex characters */
#define MAX_VALUES_LEN (1024 * 1024)
#define KEY_ENV "CAIRN_SECRETS_KEY"
#define KEY_FILE "secrets.key"
#define PENDING_SUFFIX ".new"

typedef struct {
  unsigned char bytes[KEY_LEN];
  char id[KEY_ID_LEN + 1];
  int set;
} secrets_key;

/* The keys a store can read with: the current one and a pending one. */
typedef struct {
  secrets_key current; /* CAIRN_SECRETS_KEY or secrets.key */
  secrets_key pending; /* secrets.key.new, from a rotation */
  int from_env;        /* current came from CAIRN_SECRETS_KEY */
  char *path;          /* <config>/secrets.key */
  char *pending_path;  /* <config>/secrets.key.new */
} key_ring;

static void ring_dispose(key_ring *r)
{
  sodium_memzero(&r->current, sizeof(r->current));
  sodium_memzero(&r->pending, sizeof(r->pending));
  free(r->path);
  free(r->pending_path);
  memset(r, 0, sizeof(*r));
}

void cairn_secret_dispose(cairn_secret *s)
{
  if (!s)
    return;
  free(s->id);
  free(s->name);
  cairn_strlist_dispose(&s->keys);
  json_decref(s->values);
  memset(s, 0, sizeof(*s));
}

void cairn_secret_list_free(cairn_secret *list, size_t count)
{
  size_t i;

  for (i = 0; list && i < count; i++)
    cairn_secret_dispose(&list[i]);
  free(list);
}

/* ---------------------------------------------------------------- */
/* The config folder and the key                                     */
/* ---------------------------------------------------------------- */

int cairn_store_set_config_dir(cairn_store *store, const char *dir)
{
  char *copy = dir ? cairn_path_absolute(dir) : NULL;

  if (dir && !copy)
    return CAIRN_ENOMEM;
  free(store->config_dir);
  store->config_dir = copy;
  return 0;
}

/* The config folder: as set, else $XDG_CONFIG_HOME/cairn, ~/.config/cairn. */
static char *config_dir(cairn_store *s)
{
  const char *v;

  if (s->config_dir)
    return cairn__strdup(s->config_dir);
  if ((v = cairn_getenv("XDG_CONFIG_HOME")))
    return cairn_path_join(v, "cairn");
  if ((v = cairn_getenv("HOME")))
    return cairn__sprintf("%s/.config/cairn", v);
  cairn__error(CAIRN_EINVAL, "cannot find the cairn config folder for the "
               "secrets key: set XDG_CONFIG_HOME or %s", KEY_ENV);
  return NULL;
}

static void key_set_id(secrets_key *k)
{
  unsigned char h[KEY_ID_LEN / 2];

  crypto_generichash(h, sizeof(h), k->bytes, sizeof(k->bytes), NULL, 0);
  cairn_hex_encode(k->id, h, sizeof(h));
  k->set = 1;
}

/* Decode base64 of 32 bytes (surrounding whitespace ignored). */
static int key_from_text(secrets_key *k, const char *text, const char *where)
{
  unsigned char *raw = NULL;
  size_t len = 0, n;
  char *trimmed;
  int error;

  while (*text == ' ' || *text == '\t' || *text == '\n' || *text == '\r')
    text++;
  n = strlen(text);
  while (n > 0 && strchr(" \t\r\n", text[n - 1]))
    n--;
  if (!(trimmed = cairn__strndup(text, n)))
    return CAIRN_ENOMEM;
  error = cairn_base64_decode(&raw, &len, trimmed);
  sodium_memzero(trimmed, n);
  free(trimmed);
  if (error == CAIRN_ENOMEM)
    return error;
  if (error < 0 || len != KEY_LEN) {
    if (raw)
      sodium_memzero(raw, len);
    free(raw);
    return cairn__error(CAIRN_EINVAL, "the secrets key in %s is not base64 "
                        "of %d bytes: generate one with 'head -c 32 "
                        "/dev/urandom | base64'", where, (int)KEY_LEN);
  }
  memcpy(k->bytes, raw, KEY_LEN);
  sodium_memzero(raw, len);
  free(raw);
  key_set_id(k);
  return 0;
}

/* Read a key file; *missing = 1 (and 0 returned) when there is none. */
static int key_read_file(secrets_key *k, const char *path, int *missing)
{
  cairn_buf text = CAIRN_BUF_INIT;
  struct stat st;
  int error;

  *missing = 0;
  if (stat(path, &st) < 0) {
    if (errno == ENOENT) {
      *missing = 1;
      return 0;
    }
    return cairn__error_errno("cannot read the secrets key", path);
  }
  if (st.st_mode & 077)
    return cairn__error(CAIRN_EPERM, "the secrets key '%s' can be read by "
                        "other users (mode %03o): run 'chmod 600 %s'", path,
                        (unsigned)(st.st_mode & 0777), path);
  if ((error = cairn_file_read(&text, path, 4096)) < 0)
    return error;
  error = key_from_text(k, cairn_buf_cstr(&text), path);
  sodium_memzero(text.ptr, text.size);
  cairn_buf_dispose(&text);
  return error;
}

static int key_write_file(const char *path, const secrets_key *k)
{
  char *dir = cairn__strndup(path, (size_t)(cairn_path_basename(path) -
                                            path));
  char *b64 = cairn_base64_encode(k->bytes, KEY_LEN), *line = NULL;
  int error = 0;

  if (!dir || !b64 || !(line = cairn__sprintf("%s\n", b64)))
    error = CAIRN_ENOMEM;
  if (!error && (error = cairn_mkdirs(dir, 0700)) < 0)
    cairn__error_prefix("cannot create the cairn config folder");
  if (!error)
    error = cairn_file_write_atomic(path, line, strlen(line), 0600);
  if (b64)
    sodium_memzero(b64, strlen(b64));
  if (line)
    sodium_memzero(line, strlen(line));
  free(b64);
  free(line);
  free(dir);
  return error;
}

static int key_generate(secrets_key *k)
{
  randombytes_buf(k->bytes, KEY_LEN);
  key_set_id(k);
  return 0;
}

/* Rows sealed with key id @p id; -1 on error. */
static int64_t rows_with_key(cairn_store *s, const char *id, int negate)
{
  sqlite3_stmt *st;
  int64_t n = -1;

  if (cairn__db_prepare(s, &st, negate
        ? "SELECT COUNT(*) FROM secrets WHERE key_id<>?1"
        : "SELECT COUNT(*) FROM secrets WHERE key_id=?1") < 0)
    return -1;
  cairn__db_bind_text(st, 1, id);
  if (sqlite3_step(st) == SQLITE_ROW)
    n = sqlite3_column_int64(st, 0);
  sqlite3_finalize(st);
  if (n < 0)
    cairn__db_error(s, "reading secrets");
  return n;
}

/* Where the key comes from, for messages. */
static const char *ring_where(const key_ring *r)
{
  return r->from_env ? KEY_ENV : r->path;
}

/*
 * Load the keys.  A pending key that the rows use while none uses the
 * current file's key is a rotation that stopped before its last rename:
 * finish it.
 */
static int ring_load(cairn_store *s, key_ring *r)
{
  const char *env = cairn_getenv(KEY_ENV);
  char *dir;
  int missing, error;

  memset(r, 0, sizeof(*r));
  if (sodium_init() < 0)
    return cairn__error(CAIRN_ERROR, "cannot initialise libsodium");
  if (!(dir = config_dir(s)))
    return cairn__error_code() ? cairn__error_code() : CAIRN_ENOMEM;
  r->path = cairn_path_join(dir, KEY_FILE);
  r->pending_path = cairn__sprintf("%s/%s%s", dir, KEY_FILE,
                                   PENDING_SUFFIX);
  free(dir);
  if (!r->path || !r->pending_path)
    return CAIRN_ENOMEM;

  if (env) {
    r->from_env = 1;
    if ((error = key_from_text(&r->current, env, KEY_ENV)) < 0)
      return error;
  } else if ((error = key_read_file(&r->current, r->path, &missing)) < 0) {
    return error;
  }
  if ((error = key_read_file(&r->pending, r->pending_path, &missing)) < 0)
    return error;

  if (r->pending.set && !r->from_env &&
      rows_with_key(s, r->pending.id, 0) > 0 &&
      (!r->current.set || rows_with_key(s, r->current.id, 0) == 0)) {
    if (rename(r->pending_path, r->path) < 0)
      return cairn__error_errno("cannot finish the key rotation: rename",
                                r->pending_path);
    log_info("store", "finished an interrupted secrets key rotation");
    r->current = r->pending;
    sodium_memzero(&r->pending, sizeof(r->pending));
  }
  return 0;
}

/* The key sealing new values: the newest one the rows already use. */
static const secrets_key *ring_write_key(cairn_store *s, key_ring *r)
{
  if (r->pending.set && rows_with_key(s, r->pending.id, 0) > 0)
    return &r->pending;
  return r->current.set ? &r->current : NULL;
}

static const secrets_key *ring_find(const key_ring *r, const char *id)
{
  if (r->current.set && strcmp(r->current.id, id) == 0)
    return &r->current;
  if (r->pending.set && strcmp(r->pending.id, id) == 0)
    return &r->pending;
  return NULL;
}

/* The error for rows no loaded key can open, naming them. */
static int unreadable_error(cairn_store *s, const key_ring *r)
{
  cairn_buf names = CAIRN_BUF_INIT;
  sqlite3_stmt *st;
  int error;

  if ((error = cairn__db_prepare(s, &st,
         "SELECT name FROM secrets WHERE key_id<>?1 AND key_id<>?2 "
         "ORDER BY name")) < 0)
    return error;
  cairn__db_bind_text(st, 1, r->current.set ? r->current.id : "");
  cairn__db_bind_text(st, 2, r->pending.set ? r->pending.id : "");
  while (sqlite3_step(st) == SQLITE_ROW)
    cairn_buf_printf(&names, "%s'%s'", names.size ? ", " : "",
                     (const char *)sqlite3_column_text(st, 0));
  sqlite3_finalize(st);
  if (!r->current.set)
    error = cairn__error(CAIRN_EAUTH, "the secrets key is missing (no %s "
                         "and no file '%s'), so these secrets cannot be "
                         "read: %s; restore the key file, or set %s to the "
                         "key they were created with", KEY_ENV, r->path,
                         cairn_buf_cstr(&names), KEY_ENV);
  else
    error = cairn__error(CAIRN_EAUTH, "the secrets key in %s (id %s) is "
                         "not the one these secrets were encrypted with, "
                         "so they cannot be read: %s; restore the key they "
                         "were created with, or delete and create them "
                         "again", ring_where(r), r->current.id,
                         cairn_buf_cstr(&names));
  cairn_buf_dispose(&names);
  return error;
}

/*
 * The key for sealing, creating the key file when there is none and no
 * row needs another key (so that a lost key is never papered over).
 */
static int ring_for_write(cairn_store *s, key_ring *r,
                          const secrets_key **out)
{
  int64_t others;
  int error;

  *out = NULL;
  if ((error = ring_load(s, r)) < 0)
    return error;
  if ((*out = ring_write_key(s, r)))
    return 0;
  if ((others = rows_with_key(s, "", 1)) < 0)
    return cairn__error_code();
  if (others > 0)
    return unreadable_error(s, r);
  key_generate(&r->current);
  if ((error = key_write_file(r->path, &r->current)) < 0)
    return cairn__error_prefix("cannot store the new secrets key");
  log_info("store", "created the secrets key '%s'", r->path);
  *out = &r->current;
  return 0;
}

/* ---------------------------------------------------------------- */
/* Sealing                                                           */
/* ---------------------------------------------------------------- */

/* Values must be an object of strings with identifier keys. */
static int check_values(const json_t *values)
{
  const char *key, *p;
  json_t *v;

  if (!json_is_object(values))
    return cairn__error(CAIRN_EINVAL, "secret values must be key/value "
                        "pairs");
  if (json_object_size(values) == 0)
    return cairn__error(CAIRN_EINVAL, "a secret needs at least one key: "
                        "give --KEY=VALUE");
  json_object_foreach((json_t *)values, key, v) {
    if (!json_is_string(v))
      return cairn__error(CAIRN_EINVAL, "the value of secret key '%s' "
                          "must be text", key);
    if (strcmp(key, "name") == 0)
      return cairn__error(CAIRN_EINVAL, "'name' cannot be a secret key: "
                          "choose another key");
    for (p = key; *p; p++)
      if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
            *p == '_' || (p > key && *p >= '0' && *p <= '9')))
        break;
    if (!*key || *p)
      return cairn__error(CAIRN_EINVAL, "'%s' is not a valid secret key: "
                          "use letters, digits and '_', not starting with "
                          "a digit", key);
  }
  return 0;
}

typedef struct {
  unsigned char nonce[NONCE_LEN];
  unsigned char *ct;
  size_t ct_len;
} sealed;

static void sealed_dispose(sealed *x)
{
  free(x->ct);
  memset(x, 0, sizeof(*x));
}

static int seal(sealed *out, const secrets_key *k, const char *id,
                const json_t *values)
{
  char *plain = json_dumps(values, JSON_COMPACT | JSON_SORT_KEYS);
  size_t len;
  unsigned long long n;

  memset(out, 0, sizeof(*out));
  if (!plain)
    return cairn__error_oom();
  len = strlen(plain);
  if (len > MAX_VALUES_LEN) {
    sodium_memzero(plain, len);
    free(plain);
    return cairn__error(CAIRN_EINVAL, "the secret's values are larger "
                        "than %d bytes", MAX_VALUES_LEN);
  }
  if (!(out->ct = malloc(len + TAG_LEN))) {
    sodium_memzero(plain, len);
    free(plain);
    return cairn__error_oom();
  }
  randombytes_buf(out->nonce, sizeof(out->nonce));
  crypto_aead_xchacha20poly1305_ietf_encrypt(
      out->ct, &n, (const unsigned char *)plain, len,
      (const unsigned char *)id, strlen(id), NULL, out->nonce, k->bytes);
  out->ct_len = (size_t)n;
  sodium_memzero(plain, len);
  free(plain);
  return 0;
}

static int unseal(json_t **out, const secrets_key *k, const char *id,
                  const char *name, const unsigned char *nonce,
                  const unsigned char *ct, size_t ct_len)
{
  unsigned char *plain;
  unsigned long long n;
  json_error_t jerr;

  *out = NULL;
  if (ct_len < TAG_LEN || !(plain = malloc(ct_len - TAG_LEN + 1)))
    return ct_len < TAG_LEN
               ? cairn__error(CAIRN_EINTEGRITY, "secret '%s' is damaged",
                              name)
               : cairn__error_oom();
  if (crypto_aead_xchacha20poly1305_ietf_decrypt(
          plain, &n, NULL, ct, ct_len, (const unsigned char *)id,
          strlen(id), nonce, k->bytes) != 0) {
    free(plain);
    return cairn__error(CAIRN_EINTEGRITY, "secret '%s' does not decrypt "
                        "with its key: the database row was changed or "
                        "damaged; delete and create it again", name);
  }
  *out = json_loadb((const char *)plain, (size_t)n, 0, &jerr);
  sodium_memzero(plain, (size_t)n);
  free(plain);
  if (!*out)
    return cairn__error(CAIRN_EINTEGRITY, "secret '%s' holds damaged "
                        "values", name);
  return 0;
}

/* ---------------------------------------------------------------- */
/* Rows                                                              */
/* ---------------------------------------------------------------- */

#define SECRET_COLS \
  "id, name, keys, key_id, nonce, ciphertext, created, updated"

static int keys_from_values(cairn_strlist *out, const json_t *values)
{
  const char *key;
  json_t *v;

  json_object_foreach((json_t *)values, key, v) {
    if (cairn_strlist_add(out, key) < 0)
      return CAIRN_ENOMEM;
  }
  cairn_strlist_sort(out);
  return 0;
}

/* Fill @p out from a row; with @p ring, also decrypt the values. */
static int read_secret(cairn_store *s, sqlite3_stmt *st, cairn_secret *out,
                       const key_ring *ring)
{
  json_t *keys, *k;
  const char *key_id;
  const secrets_key *key;
  size_t i;
  int error = 0;

  memset(out, 0, sizeof(*out));
  out->id = cairn__db_text(st, 0);
  out->name = cairn__db_text(st, 1);
  out->created = sqlite3_column_int64(st, 6);
  out->updated = sqlite3_column_int64(st, 7);
  keys = cairn__db_json(st, 2);
  json_array_foreach(keys, i, k) {
    if (json_is_string(k) &&
        cairn_strlist_add(&out->keys, json_string_value(k)) < 0)
      error = CAIRN_ENOMEM;
  }
  json_decref(keys);
  if (!out->id || !out->name)
    error = cairn__error_oom();
  if (!error && ring) {
    key_id = (const char *)sqlite3_column_text(st, 3);
    if (!(key = ring_find(ring, key_id ? key_id : "")))
      error = unreadable_error(s, ring);
    else if (sqlite3_column_bytes(st, 4) != NONCE_LEN)
      error = cairn__error(CAIRN_EINTEGRITY, "secret '%s' is damaged",
                           out->name);
    else
      error = unseal(&out->values, key, out->id, out->name,
                     sqlite3_column_blob(st, 4), sqlite3_column_blob(st, 5),
                     (size_t)sqlite3_column_bytes(st, 5));
  }
  if (error < 0)
    cairn_secret_dispose(out);
  return error;
}

static int resolve(cairn_store *s, char **id, const char *name_or_id)
{
  return cairn__db_resolve(s, id, "SELECT id FROM secrets WHERE name=?2",
                           "SELECT id, name FROM secrets WHERE id LIKE ?2 "
                           "|| '%'", NULL, name_or_id, "secret");
}

static int get_by_id(cairn_store *s, cairn_secret *out, const char *id,
                     int with_values)
{
  key_ring ring;
  sqlite3_stmt *st;
  int rc, error;

  memset(out, 0, sizeof(*out));
  if (with_values && (error = ring_load(s, &ring)) < 0) {
    ring_dispose(&ring);
    return error;
  }
  if ((error = cairn__db_prepare(s, &st, "SELECT " SECRET_COLS
                                 " FROM secrets WHERE id=?1")) < 0)
    goto done;
  cairn__db_bind_text(st, 1, id);
  rc = sqlite3_step(st);
  if (rc == SQLITE_ROW)
    error = read_secret(s, st, out, with_values ? &ring : NULL);
  else if (rc == SQLITE_DONE)
    error = cairn__error(CAIRN_ENOTFOUND, "no secret with id '%s'", id);
  else
    error = cairn__db_error(s, "reading a secret");
  sqlite3_finalize(st);
done:
  if (with_values)
    ring_dispose(&ring);
  return error;
}

static int check_secret_name(const char *name)
{
  const char *p;

  if (!name || !*name)
    return cairn__error(CAIRN_EINVAL, "a secret needs a name");
  if (strcmp(name, "name") == 0)
    return cairn__error(CAIRN_EINVAL, "'name' cannot be a secret's name: "
                        "choose another");
  if (strlen(name) > 128)
    return cairn__error(CAIRN_EINVAL, "the secret name '%.20s...' is longer "
                        "than 128 characters", name);
  for (p = name; *p; p++)
    if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
          (*p >= '0' && *p <= '9') || strchr("_-.", *p)))
      return cairn__error(CAIRN_EINVAL, "the secret name '%s' has the "
                          "character '%c': use letters, digits, '-', '_' "
                          "or '.'", name, *p);
  return 0;
}

/* Write the sealed values and key names of row @p id. */
static int write_row(cairn_store *s, const char *sql, const char *id,
                     const char *name, const json_t *values,
                     const secrets_key *key)
{
  cairn_strlist keys = CAIRN_STRLIST_INIT;
  json_t *names = json_array();
  sqlite3_stmt *st;
  sealed x;
  size_t i;
  int error;

  if (!names)
    return cairn__error_oom();
  if ((error = keys_from_values(&keys, values)) < 0)
    goto done;
  for (i = 0; i < keys.count; i++)
    json_array_append_new(names, json_string(keys.items[i]));
  if ((error = seal(&x, key, id, values)) < 0)
    goto done;
  if ((error = cairn__db_prepare(s, &st, sql)) == 0) {
    cairn__db_bind_text(st, 1, id);
    cairn__db_bind_text(st, 2, name);
    if ((error = cairn__db_bind_json(st, 3, names)) == 0) {
      cairn__db_bind_text(st, 4, key->id);
      sqlite3_bind_blob(st, 5, x.nonce, NONCE_LEN, SQLITE_TRANSIENT);
      sqlite3_bind_blob(st, 6, x.ct, (int)x.ct_len, SQLITE_TRANSIENT);
      sqlite3_bind_int64(st, 7, cairn_time_now());
      error = cairn__db_run(s, st, "writing a secret");
    } else {
      sqlite3_finalize(st);
    }
  }
  sealed_dispose(&x);
done:
  cairn_strlist_dispose(&keys);
  json_decref(names);
  return error;
}

int cairn_store_secret_create(cairn_store *store, cairn_secret *out,
                              const char *name, const json_t *values)
{
  const secrets_key *key;
  key_ring ring;
  char id[37];
  int error;

  memset(out, 0, sizeof(*out));
  if ((error = check_secret_name(name)) < 0 ||
      (error = check_values(values)) < 0 || (error = cairn_uuid4(id)) < 0)
    return error;
  if ((error = ring_for_write(store, &ring, &key)) == 0) {
    error = write_row(store,
                      "INSERT INTO secrets(id, name, keys, key_id, nonce, "
                      "ciphertext, created, updated) "
                      "VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7)",
                      id, name, values, key);
    if (error == CAIRN_EEXISTS)
      error = cairn__error(CAIRN_EEXISTS, "a secret named '%s' exists "
                           "already: choose another name, or change it "
                           "with 'cairn secret update %s'", name, name);
  }
  ring_dispose(&ring);
  if (error < 0)
    return error;
  return get_by_id(store, out, id, 0);
}

int cairn_store_secret_get(cairn_store *store, cairn_secret *out,
                           const char *name_or_id, int with_values)
{
  char *id;
  int error;

  memset(out, 0, sizeof(*out));
  if ((error = resolve(store, &id, name_or_id)) < 0)
    return error;
  error = get_by_id(store, out, id, with_values);
  free(id);
  return error;
}

int cairn_store_secret_list(cairn_store *store, cairn_secret **out,
                            size_t *count)
{
  cairn_secret *list = NULL, *grown;
  size_t n = 0, alloc = 0;
  sqlite3_stmt *st;
  int rc, error;

  *out = NULL;
  *count = 0;
  if ((error = cairn__db_prepare(store, &st, "SELECT " SECRET_COLS
                                 " FROM secrets ORDER BY name")) < 0)
    return error;
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    if (n == alloc) {
      alloc = alloc ? alloc * 2 : 8;
      if (!(grown = realloc(list, alloc * sizeof(*list)))) {
        error = cairn__error_oom();
        break;
      }
      list = grown;
    }
    if ((error = read_secret(store, st, &list[n], NULL)) < 0)
      break;
    n++;
  }
  if (!error && rc != SQLITE_DONE)
    error = cairn__db_error(store, "listing secrets");
  sqlite3_finalize(st);
  if (error < 0) {
    cairn_secret_list_free(list, n);
    return error;
  }
  *out = list;
  *count = n;
  return 0;
}

int cairn_store_secret_update(cairn_store *store, const char *id,
                              const json_t *values)
{
  const secrets_key *key;
  cairn_secret old;
  key_ring ring;
  int error;

  if ((error = check_values(values)) < 0 ||
      (error = get_by_id(store, &old, id, 0)) < 0)
    return error;
  if ((error = ring_for_write(store, &ring, &key)) == 0)
    error = write_row(store,
                      "UPDATE secrets SET name=?2, keys=?3, key_id=?4, "
                      "nonce=?5, ciphertext=?6, updated=?7 WHERE id=?1",
                      id, old.name, values, key);
  ring_dispose(&ring);
  cairn_secret_dispose(&old);
  return error;
}

/* Components whose config names the secret (by name or id). */
#define USERS_WHERE                                                       \
  "json_extract(config, '$.authentication_secret') IN (?1, ?2)"

int cairn_store_secret_users(cairn_store *store, const char *id,
                             cairn_strlist *out)
{
  cairn_secret s;
  sqlite3_stmt *st;
  int rc, error;

  if ((error = get_by_id(store, &s, id, 0)) < 0)
    return error;
  if ((error = cairn__db_prepare(store, &st,
         "SELECT type, name FROM components WHERE " USERS_WHERE
         " ORDER BY type, name")) < 0)
    goto done;
  cairn__db_bind_text(st, 1, s.name);
  cairn__db_bind_text(st, 2, s.id);
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    char *who = cairn__sprintf(
        "%s '%s'",
        cairn__store_type_label((const char *)sqlite3_column_text(st, 0)),
        (const char *)sqlite3_column_text(st, 1));
    if (!who || cairn_strlist_take(out, who) < 0) {
      error = CAIRN_ENOMEM;
      break;
    }
  }
  if (!error && rc != SQLITE_DONE)
    error = cairn__db_error(store, "reading components");
  sqlite3_finalize(st);
  if (error || (error = cairn__db_prepare(store, &st,
        "SELECT name FROM service_connectors WHERE secret_id=?1 "
        "ORDER BY name")) < 0)
    goto done;
  cairn__db_bind_text(st, 1, s.id);
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    char *who = cairn__sprintf("service connector '%s'",
                               (const char *)sqlite3_column_text(st, 0));
    if (!who || cairn_strlist_take(out, who) < 0) {
      error = CAIRN_ENOMEM;
      break;
    }
  }
  if (!error && rc != SQLITE_DONE)
    error = cairn__db_error(store, "reading service connectors");
  sqlite3_finalize(st);
done:
  cairn_secret_dispose(&s);
  return error;
}

int cairn_store_secret_rename(cairn_store *store, const char *id,
                              const char *new_name)
{
  cairn_secret s;
  sqlite3_stmt *st;
  int error;

  if ((error = check_secret_name(new_name)) < 0 ||
      (error = get_by_id(store, &s, id, 0)) < 0)
    return error;
  if ((error = cairn__db_begin(store)) < 0)
    goto done;
  if ((error = cairn__db_prepare(store, &st,
         "UPDATE secrets SET name=?2, updated=?3 WHERE id=?1")) == 0) {
    cairn__db_bind_text(st, 1, id);
    cairn__db_bind_text(st, 2, new_name);
    sqlite3_bind_int64(st, 3, cairn_time_now());
    error = cairn__db_run(store, st, "renaming a secret");
  }
  if (error == CAIRN_EEXISTS)
    error = cairn__error(CAIRN_EEXISTS, "a secret named '%s' exists "
                         "already", new_name);
  /* Components that name the secret follow it to its new name. */
  if (!error && (error = cairn__db_prepare(store, &st,
        "UPDATE components SET config=json_set(config, "
        "'$.authentication_secret', ?3), updated=?4 WHERE "
        "json_extract(config, '$.authentication_secret')=?1")) == 0) {
    cairn__db_bind_text(st, 1, s.name);
    cairn__db_bind_text(st, 3, new_name);
    sqlite3_bind_int64(st, 4, cairn_time_now());
    error = cairn__db_run(store, st, "renaming a secret");
  }
  if (error < 0)
    cairn__db_rollback(store);
  else
    error = cairn__db_commit(store);
done:
  cairn_secret_dispose(&s);
  return error;
}

int cairn_store_secret_delete(cairn_store *store, const char *id)
{
  cairn_strlist users = CAIRN_STRLIST_INIT;
  cairn_buf text = CAIRN_BUF_INIT;
  cairn_secret s;
  const char *name;
  sqlite3_stmt *st;
  size_t i;
  int error;

  memset(&s, 0, sizeof(s));
  if ((error = get_by_id(store, &s, id, 0)) < 0 ||
      (error = cairn_store_secret_users(store, id, &users)) < 0)
    goto done;
  name = s.name;
  if (users.count) {
    for (i = 0; i < users.count; i++)
      cairn_buf_printf(&text, "%s%s", i ? ", " : "", users.items[i]);
    /* a connector's own secret goes with the connector */
    error = strncmp(name, "connector-", 10) == 0
                ? cairn__error(CAIRN_EINUSE, "secret '%s' is held by %s: "
                               "delete the connector to remove it", name,
                               cairn_buf_cstr(&text))
                : cairn__error(CAIRN_EINUSE, "secret '%s' is used by %s: "
                               "point them at another secret first", name,
                               cairn_buf_cstr(&text));
    goto done;
  }
  if ((error = cairn__db_prepare(store, &st,
                                 "DELETE FROM secrets WHERE id=?1")) == 0) {
    cairn__db_bind_text(st, 1, id);
    error = cairn__db_run(store, st, "deleting a secret");
  }
done:
  cairn_secret_dispose(&s);
  cairn_buf_dispose(&text);
  cairn_strlist_dispose(&users);
  return error;
}

/* ---------------------------------------------------------------- */
/* Rotation                                                          */
/* ---------------------------------------------------------------- */

/* Every secret with its values, for rotation. */
static int read_all(cairn_store *s, const key_ring *ring,
                    cairn_secret **out, size_t *count)
{
  cairn_secret *list = NULL, *grown;
  size_t n = 0, alloc = 0;
  sqlite3_stmt *st;
  int rc, error;

  *out = NULL;
  *count = 0;
  if ((error = cairn__db_prepare(s, &st, "SELECT " SECRET_COLS
                                 " FROM secrets ORDER BY name")) < 0)
    return error;
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    if (n == alloc) {
      alloc = alloc ? alloc * 2 : 8;
      if (!(grown = realloc(list, alloc * sizeof(*list)))) {
        error = cairn__error_oom();
        break;
      }
      list = grown;
    }
    if ((error = read_secret(s, st, &list[n], ring)) < 0)
      break;
    n++;
  }
  if (!error && rc != SQLITE_DONE)
    error = cairn__db_error(s, "reading secrets");
  sqlite3_finalize(st);
  if (error < 0) {
    cairn_secret_list_free(list, n);
    return error;
  }
  *out = list;
  *count = n;
  return 0;
}

int cairn_store_secrets_rotate_key(cairn_store *store,
                                   cairn_secrets_rotation *out)
{
  cairn_secret *list = NULL;
  secrets_key fresh;
  key_ring ring;
  size_t n = 0, i;
  int error;

  memset(out, 0, sizeof(*out));
  memset(&fresh, 0, sizeof(fresh));
  if ((error = ring_load(store, &ring)) < 0)
    goto done;
  if (ring.from_env && ring.pending.set &&
      rows_with_key(store, ring.pending.id, 0) > 0) {
    error = cairn__error(CAIRN_EINVAL, "an earlier rotation is not "
                         "finished: set %s to the key in '%s', then delete "
                         "that file", KEY_ENV, ring.pending_path);
    goto done;
  }
  if ((error = read_all(store, &ring, &list, &n)) < 0)
    goto done;
  key_generate(&fresh);
  if ((error = key_write_file(ring.pending_path, &fresh)) < 0) {
    cairn__error_prefix("cannot store the new secrets key");
    goto done;
  }
  if ((error = cairn__db_begin(store)) < 0)
    goto done;
  for (i = 0; i < n && !error; i++)
    error = write_row(store,
                      "UPDATE secrets SET name=?2, keys=?3, key_id=?4, "
                      "nonce=?5, ciphertext=?6, updated=?7 WHERE id=?1",
                      list[i].id, list[i].name, list[i].values, &fresh);
  if (error < 0) {
    cairn__db_rollback(store);
    unlink(ring.pending_path);
    goto done;
  }
  if ((error = cairn__db_commit(store)) < 0) {
    unlink(ring.pending_path);
    goto done;
  }
  out->count = n;
  memcpy(out->key_id, fresh.id, sizeof(out->key_id));
  if (ring.from_env) {
    out->pending_path = cairn__strdup(ring.pending_path);
  } else if (rename(ring.pending_path, ring.path) < 0) {
    /* The rows are sealed with the new key: the next load finishes. */
    log_warn("store", "cannot rename '%s' to '%s': %s", ring.pending_path,
             ring.path, strerror(errno));
  }
done:
  sodium_memzero(&fresh, sizeof(fresh));
  cairn_secret_list_free(list, n);
  ring_dispose(&ring);
  return error;
}

void cairn_secrets_rotation_dispose(cairn_secrets_rotation *r)
{
  free(r->pending_path);
  memset(r, 0, sizeof(*r));
}

int cairn_store_secrets_key_location(cairn_store *store, char **out)
{
  char *dir;

  *out = NULL;
  if (cairn_getenv(KEY_ENV))
    return (*out = cairn__strdup(KEY_ENV)) ? 0 : CAIRN_ENOMEM;
  if (!(dir = config_dir(store)))
    return cairn__error_code() ? cairn__error_code() : CAIRN_ENOMEM;
  *out = cairn_path_join(dir, KEY_FILE);
  free(dir);
  return *out ? 0 : CAIRN_ENOMEM;
}
