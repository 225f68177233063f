/**
 * @file cairn/azure.h
 * @brief Azure Blob Storage: accounts, credentials, URIs, blob operations
 *        and streaming transfers.
 *
 * This module knows nothing of artifacts, stacks or pipelines; a C
 * program can use it on its own.  Every function returns 0 or a negative
 * cairn_result with the message in cairn_error_last().
 */
#ifndef CAIRN_AZURE_H
#define CAIRN_AZURE_H

#include <stdint.h>

#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

/** The x-ms-version every request sends. */
#define CAIRN_AZURE_API_VERSION "2023-11-03"

/* ------------------------------------------------------------------ */
/* URIs                                                                */
/* ------------------------------------------------------------------ */

/**
 * A parsed artifact-store URI.  Accepted forms (the one list):
 * `az://C[/P]`, `abfs://C[/P]`, `abfss://C[/P]`, each also as
 * `SCHEME://C@ACCOUNT.blob.SUFFIX[/P]` or `SCHEME://C@ACCOUNT.dfs.SUFFIX[/P]`.
 * Empty strings, never NULL, for absent parts.  Dispose with
 * cairn_azure_uri_dispose().
 */
typedef struct {
  char *scheme;    /**< "az", "abfs" or "abfss" */
  char *container; /**< 3-63 chars: lowercase letters, digits, hyphens */
  char *account;   /**< from `C@ACCOUNT.host`, else "" */
  char *suffix;    /**< endpoint suffix ("core.windows.net"), else "" */
  char *path;      /**< path inside the container, no leading '/' */
} cairn_azure_uri;

/**
 * Parse @p uri.  Returns 0, or CAIRN_EINVAL with a message that names the
 * problem (the container rule broken, or the list of accepted forms).
 */
CAIRN_EXTERN(int) cairn_azure_uri_parse(cairn_azure_uri *out,
                                        const char *uri);
CAIRN_EXTERN(void) cairn_azure_uri_dispose(cairn_azure_uri *uri);

/**
 * Check a container name.  Returns 0, or CAIRN_EINVAL naming the
 * container and the rule it breaks.
 */
CAIRN_EXTERN(int) cairn_azure_container_name_check(const char *name);

/* ------------------------------------------------------------------ */
/* Accounts and credentials                                            */
/* ------------------------------------------------------------------ */

/** An account endpoint with the credential that reaches it.  Opaque. */
typedef struct cairn_azure_account cairn_azure_account;

/** How requests are authorised. */
typedef enum {
  CAIRN_AZURE_AUTH_ANONYMOUS = 0,
  CAIRN_AZURE_AUTH_SHARED_KEY,
  CAIRN_AZURE_AUTH_SAS,
  CAIRN_AZURE_AUTH_BEARER
} cairn_azure_auth;

/**
 * Parse a connection string: segments split on ';', each on its first
 * '='; keys case-insensitive; whitespace and one pair of double quotes
 * around a value removed; empty segments ignored.  Keys: AccountName,
 * AccountKey, BlobEndpoint, EndpointSuffix, DefaultEndpointsProtocol,
 * SharedAccessSignature, UseDevelopmentStorage, DevelopmentStorageProxyUri.
 * A key that is not valid base64 is refused.  When both AccountKey and
 * SharedAccessSignature are given, the key is used.
 */
CAIRN_EXTERN(int) cairn_azure_account_from_connection_string(
    cairn_azure_account **out, const char *connection_string);

/**
 * An account reached with its name and key (Shared Key signing).
 * @param endpoint [nullable] blob endpoint; NULL means
 *        https://NAME.blob.core.windows.net
 */
CAIRN_EXTERN(int) cairn_azure_account_from_key(cairn_azure_account **out,
                                               const char *name,
                                               const char *key_base64,
                                               const char *endpoint);

/**
 * An account reached with a SAS token (with or without a leading '?').
 * @param name [nullable] taken from the endpoint's host when NULL
 * @param endpoint [nullable] as for cairn_azure_account_from_key()
 */
CAIRN_EXTERN(int) cairn_azure_account_from_sas(cairn_azure_account **out,
                                               const char *name,
                                               const char *sas,
                                               const char *endpoint);

/**
 * An account from the environment, in this fixed order:
 * AZURE_STORAGE_CONNECTION_STRING; AZURE_STORAGE_ACCOUNT_NAME (alias
 * AZURE_STORAGE_ACCOUNT) with AZURE_STORAGE_ACCOUNT_KEY (alias
 * AZURE_STORAGE_KEY); with AZURE_STORAGE_SAS_TOKEN; an account name
 * alone, with tokens from the chain of
 * cairn_azure_account_from_token_chain().  The endpoint is
 * AZURE_STORAGE_BLOB_ENDPOINT when set.  Returns CAIRN_EAUTH with a
 * message listing the variables when none is usable.
 */
CAIRN_EXTERN(int) cairn_azure_account_from_env(cairn_azure_account **out);

/**
 * An account reached with bearer tokens of a service principal that
 * signs in with a client secret, from
 * `<authority>/<tenant>/oauth2/v2.0/token` for the scope
 * `https://storage.azure.com/.default`; the authority is
 * AZURE_AUTHORITY_HOST, else https://login.microsoftonline.com.  Tokens
 * are fetched when first needed, cached, and renewed before they
 * expire.  Bearer tokens go over https only.
 * @param endpoint [nullable] as for cairn_azure_account_from_key()
 */
CAIRN_EXTERN(int) cairn_azure_account_from_service_principal(
    cairn_azure_account **out, const char *name, const char *tenant_id,
    const char *client_id, const char *client_secret, const char *endpoint);

/**
 * An account reached with bearer tokens from the first source the
 * environment offers, in this fixed order (the one chosen is logged):
 * AZURE_STORAGE_CLIENT_ID, AZURE_STORAGE_CLIENT_SECRET and
 * AZURE_STORAGE_TENANT_ID; AZURE_CLIENT_ID, AZURE_CLIENT_SECRET and
 * AZURE_TENANT_ID; a client certificate (AZURE_CLIENT_CERTIFICATE_PATH,
 * a PEM file with key and certificate, with AZURE_CLIENT_ID and
 * AZURE_TENANT_ID); workload identity (AZURE_FEDERATED_TOKEN_FILE as the
 * client assertion); a managed identity through IDENTITY_ENDPOINT and
 * IDENTITY_HEADER; the instance metadata service, only when
 * AZURE_USE_IMDS=1; the Azure CLI (`az account get-access-token`) when
 * `az` is on the PATH.
 */
CAIRN_EXTERN(int) cairn_azure_account_from_token_chain(
    cairn_azure_account **out, const char *name, const char *endpoint);

/**
 * An account reached with one access token, valid until @p expires_at
 * (seconds since the epoch; 0 when unknown).  It is never renewed.
 */
CAIRN_EXTERN(int) cairn_azure_account_from_token(cairn_azure_account **out,
                                                 const char *name,
                                                 const char *token,
                                                 int64_t expires_at,
                                                 const char *endpoint);

/**
 * A current bearer token of a token-authenticated account (fetched when
 * needed), as a new string (free()), and its expiry (0 when unknown).
 * CAIRN_EINVAL for accounts that use no tokens.
 */
CAIRN_EXTERN(int) cairn_azure_account_token(
    const cairn_azure_account *account, char **token, int64_t *expires_at);

/**
 * Reach the account at another blob endpoint (http(s)://HOST[:PORT][/P];
 * https only for bearer tokens).
 */
CAIRN_EXTERN(int) cairn_azure_account_set_endpoint(
    cairn_azure_account *account, const char *endpoint);

CAIRN_EXTERN(void) cairn_azure_account_free(cairn_azure_account *account);

/** The account name (borrowed). */
CAIRN_EXTERN(const char *) cairn_azure_account_name(
    const cairn_azure_account *account);
/** The blob endpoint without a trailing '/' (borrowed). */
CAIRN_EXTERN(const char *) cairn_azure_account_endpoint(
    const cairn_azure_account *account);
CAIRN_EXTERN(cairn_azure_auth) cairn_azure_account_auth(
    const cairn_azure_account *account);
/**
 * Where the credential came from, for users: "AZURE_STORAGE_CONNECTION_STRING
 * (shared key)", never a secret value.  Borrowed.
 */
CAIRN_EXTERN(const char *) cairn_azure_account_source(
    const cairn_azure_account *account);

/**
 * Label where the credential came from, for users: @p where ("secret
 * 'az'") becomes the source, followed by the method ("(shared key)").
 * Never give it a secret value.
 */
CAIRN_EXTERN(int) cairn_azure_account_set_source(cairn_azure_account *account,
                                                 const char *where);

/* ------------------------------------------------------------------ */
/* Client and blob operations                                          */
/* ------------------------------------------------------------------ */

/** The range of each transfer setting that users may give. */
#define CAIRN_AZURE_CONCURRENCY_MAX 256
#define CAIRN_AZURE_BLOCK_MIN (64ull << 10)
#define CAIRN_AZURE_BLOCK_MAX (4000ull << 20)
#define CAIRN_AZURE_BUDGET_MIN (1ull << 20)
#define CAIRN_AZURE_BUDGET_MAX (64ull << 30)

/**
 * Transfer settings; zero fields take the defaults.  Set them by name:
 * fields may be added at the end.
 */
typedef struct {
  unsigned max_concurrency; /**< parallel requests (default 16) */
  uint64_t block_size;      /**< bytes per block (default 8 MiB) */
  uint64_t single_put_max;  /**< one Put Blob up to here (default 8 MiB) */
  int content_md5;          /**< Content-MD5 on each request, and the
                                 whole blob's MD5 on block commits */
  uint64_t memory_budget;   /**< bytes of transfer buffers at most
                                 (default 40 MiB); fewer blocks go at
                                 once when blocks are large */
  cairn_progress *progress; /**< [nullable] raised as data moves */
} cairn_azure_transfer_options;

/**
 * A client for one account: one connection pool and retry policy.
 * Not thread-safe; use one per thread.  Opaque.
 */
typedef struct cairn_azure_client cairn_azure_client;

/**
 * A client over @p account (borrowed: it must outlive the client).
 * @param options [nullable] defaults when NULL
 */
CAIRN_EXTERN(int) cairn_azure_client_new(
    cairn_azure_client **out, const cairn_azure_account *account,
    const cairn_azure_transfer_options *options);
CAIRN_EXTERN(void) cairn_azure_client_free(cairn_azure_client *client);

/** What a blob or a listing entry is. */
typedef struct {
  char *name;            /**< full blob name (or prefix, ending in '/') */
  uint64_t size;
  int64_t last_modified; /**< seconds since the epoch */
  char etag[64];
  int is_prefix;         /**< a virtual directory from a delimiter listing */
  int is_dir_marker;     /**< metadata hdi_isfolder=true (any case) */
  char sha256[65];       /**< metadata cairnsha256 when present, else "" */
} cairn_azure_blob_info;

CAIRN_EXTERN(void) cairn_azure_blob_info_dispose(cairn_azure_blob_info *info);

/** Called with each container's name; non-zero stops (and is returned). */
typedef int (*cairn_azure_container_cb)(const char *name, void *payload);

/**
 * List the account's containers whose names start with @p prefix
 * [nullable], following every page.  Needs account-level list rights.
 */
CAIRN_EXTERN(int) cairn_azure_list_containers(cairn_azure_client *client,
                                              const char *prefix,
                                              cairn_azure_container_cb cb,
                                              void *payload);

/** Create a container; CAIRN_EEXISTS when it is there already. */
CAIRN_EXTERN(int) cairn_azure_container_create(cairn_azure_client *client,
                                               const char *container);
/** 0 when the container exists, CAIRN_ENOTFOUND when it does not. */
CAIRN_EXTERN(int) cairn_azure_container_exists(cairn_azure_client *client,
                                               const char *container);
CAIRN_EXTERN(int) cairn_azure_container_delete(cairn_azure_client *client,
                                               const char *container);

/** Properties of one blob; CAIRN_ENOTFOUND naming it when missing. */
CAIRN_EXTERN(int) cairn_azure_blob_properties(cairn_azure_client *client,
                                              const char *container,
                                              const char *name,
                                              cairn_azure_blob_info *out);

/** Listing callback; return non-zero to stop (that value is returned). */
typedef int (*cairn_azure_list_cb)(const cairn_azure_blob_info *entry,
                                   void *payload);

/**
 * List blobs under @p prefix, following every page.  With a
 * @p delimiter ("/"), entries below the next delimiter come back once as
 * prefixes.  Metadata is included, so markers are recognised.
 */
CAIRN_EXTERN(int) cairn_azure_list(cairn_azure_client *client,
                                   const char *container, const char *prefix,
                                   const char *delimiter,
                                   cairn_azure_list_cb cb, void *payload);

/**
 * *found = 1 when any blob name in @p container starts with @p prefix
 * [nullable], in one request for a single entry.
 */
CAIRN_EXTERN(int) cairn_azure_list_any(cairn_azure_client *client,
                                       const char *container,
                                       const char *prefix, int *found);

/** Blob write flags. */
#define CAIRN_AZURE_CREATE_ONLY 1u /**< If-None-Match: *, CAIRN_EEXISTS */
#define CAIRN_AZURE_DIR_MARKER 2u  /**< metadata hdi_isfolder=true */

/** Put a small blob from memory in one request. */
CAIRN_EXTERN(int) cairn_azure_blob_put(cairn_azure_client *client,
                                       const char *container,
                                       const char *name, const void *data,
                                       size_t len, unsigned flags);

/** Read a whole small blob into memory (free() *out). */
CAIRN_EXTERN(int) cairn_azure_blob_get(cairn_azure_client *client,
                                       const char *container,
                                       const char *name, char **out,
                                       size_t *outlen);

/** Delete one blob; CAIRN_ENOTFOUND when missing. */
CAIRN_EXTERN(int) cairn_azure_blob_delete(cairn_azure_client *client,
                                          const char *container,
                                          const char *name);

/**
 * Server-side copy within the account.  With CAIRN_AZURE_CREATE_ONLY in
 * @p flags the copy fails with CAIRN_EEXISTS when @p dst exists.
 */
CAIRN_EXTERN(int) cairn_azure_blob_copy(cairn_azure_client *client,
                                        const char *container,
                                        const char *src, const char *dst,
                                        unsigned flags);

/**
 * Upload a local file: one Put Blob when small, else blocks sent in
 * parallel and committed once.  The SHA-256 of the file is computed in
 * the same pass, stored as metadata cairnsha256 and written as hex to
 * @p sha256_hex [nullable].
 */
CAIRN_EXTERN(int) cairn_azure_blob_upload_file(cairn_azure_client *client,
                                               const char *container,
                                               const char *name,
                                               const char *local_path,
                                               unsigned flags,
                                               char sha256_hex[65]);

/**
 * Download a blob to a local file with parallel ranged reads written in
 * place.  The SHA-256 is computed on the way and, when the blob carries
 * cairnsha256, checked (CAIRN_EINTEGRITY on mismatch).
 */
CAIRN_EXTERN(int) cairn_azure_blob_download_file(cairn_azure_client *client,
                                                 const char *container,
                                                 const char *name,
                                                 const char *local_path,
                                                 char sha256_hex[65]);

/* Streaming readers and writers with bounded memory. */
typedef struct cairn_azure_reader cairn_azure_reader;
typedef struct cairn_azure_writer cairn_azure_writer;

CAIRN_EXTERN(int) cairn_azure_reader_open(cairn_azure_reader **out,
                                          cairn_azure_client *client,
                                          const char *container,
                                          const char *name);
/** Read up to @p len bytes; *nread == 0 at the end. */
CAIRN_EXTERN(int) cairn_azure_reader_read(cairn_azure_reader *r, void *buf,
                                          size_t len, size_t *nread);
CAIRN_EXTERN(void) cairn_azure_reader_close(cairn_azure_reader *r);

CAIRN_EXTERN(int) cairn_azure_writer_open(cairn_azure_writer **out,
                                          cairn_azure_client *client,
                                          const char *container,
                                          const char *name, unsigned flags);
CAIRN_EXTERN(int) cairn_azure_writer_write(cairn_azure_writer *w,
                                           const void *data, size_t len);
/** Commit the blob.  The writer is freed whatever the result. */
CAIRN_EXTERN(int) cairn_azure_writer_close(cairn_azure_writer *w);
/** Drop the blob being written (nothing is committed). */
CAIRN_EXTERN(void) cairn_azure_writer_abort(cairn_azure_writer *w);

/* ------------------------------------------------------------------ */
/* Names, metadata, streams, many blobs at once, presigned URLs        */
/* ------------------------------------------------------------------ */

/**
 * Check a blob name for what the service would silently change: an
 * empty name, a name or path segment ending in '.' (the service drops
 * the dot, so "out/file." would be stored as "out/file"), more than
 * 1,024 characters.  Every write and presign checks its name with it.
 * Returns 0, or CAIRN_EINVAL naming the blob and the rule.
 */
CAIRN_EXTERN(int) cairn_azure_blob_name_check(const char *name);

/** One metadata entry of a blob. */
typedef struct {
  char *name;
  char *value;
} cairn_azure_meta;

/**
 * User metadata of a blob (or of a file of a store, see cairn/fs.h).
 * Names are C identifiers (letters, digits and '_', not starting with a
 * digit) compared without regard to case, as the service does; values
 * are printable ASCII, with surrounding whitespace trimmed (an HTTP
 * header cannot carry it) and each inner run of spaces or tabs folded to
 * one space (Shared Key signing folds such runs, and services do not
 * agree on whether they keep them).  Names cairn keeps for itself
 * (hdi_isfolder, cairnsha256) are refused, and all entries together
 * hold at most 8 KiB.  Start from a zeroed struct; empty it with
 * cairn_azure_metadata_dispose().
 */
typedef struct {
  cairn_azure_meta *items;
  size_t count;
  size_t alloc;
} cairn_azure_metadata;

/**
 * Set @p name to @p value (copies), replacing an entry whose name
 * differs only in case.  Returns 0, or CAIRN_EINVAL naming the entry and
 * the rule it breaks.
 */
CAIRN_EXTERN(int) cairn_azure_metadata_set(cairn_azure_metadata *md,
                                           const char *name,
                                           const char *value);
/** The value of @p name in any case (borrowed), or NULL. */
CAIRN_EXTERN(const char *) cairn_azure_metadata_get(
    const cairn_azure_metadata *md, const char *name);
CAIRN_EXTERN(void) cairn_azure_metadata_dispose(cairn_azure_metadata *md);

/**
 * The user metadata of a blob, names as the service keeps them, without
 * cairn's own entries.  CAIRN_ENOTFOUND naming the blob when missing.
 */
CAIRN_EXTERN(int) cairn_azure_blob_metadata(cairn_azure_client *client,
                                            const char *container,
                                            const char *name,
                                            cairn_azure_metadata *out);

/**
 * cairn_azure_writer_open(), storing @p metadata [nullable] with the
 * blob when it is committed.
 */
CAIRN_EXTERN(int) cairn_azure_writer_open_with(
    cairn_azure_writer **out, cairn_azure_client *client,
    const char *container, const char *name, unsigned flags,
    const cairn_azure_metadata *metadata);

/**
 * The size a stream of unknown length may grow to when the caller gives
 * none (5 TiB); writers use it too.  A block blob holds 50,000 blocks:
 * the first 10,000 blocks of a stream have the configured size, the
 * others the size that makes 50,000 blocks hold this much.
 */
#define CAIRN_AZURE_STREAM_MAX_DEFAULT ((uint64_t)5 << 40)

/**
 * Reads up to @p len bytes of a stream into @p buf; *nread == 0 at its
 * end.  Returns 0 or a negative cairn_result (with the error set).
 */
typedef int (*cairn_azure_read_fn)(void *payload, void *buf, size_t len,
                                   size_t *nread);

/**
 * Upload a stream of unknown length (a pipe, standard input) as blocks
 * with bounded memory.  @p max_size is the most it may hold (0: the
 * default above); a size that 50,000 blocks of 4000 MiB cannot hold is
 * refused before anything is sent, and a stream that grows past
 * @p max_size fails before its blocks are committed.  Flags, metadata
 * cairnsha256 and @p sha256_hex [nullable] as for
 * cairn_azure_blob_upload_file().
 */
CAIRN_EXTERN(int) cairn_azure_blob_upload_stream(
    cairn_azure_client *client, const char *container, const char *name,
    cairn_azure_read_fn read, void *payload, uint64_t max_size,
    unsigned flags, char sha256_hex[65]);

/** One file of cairn_azure_blob_upload_many(). */
typedef struct {
  const char *name;       /**< blob name (borrowed) */
  const char *local_path; /**< local file (borrowed) */
  uint64_t size;          /**< set on success */
  char sha256[65];        /**< set on success */
} cairn_azure_upload_job;

/**
 * Upload many local files over the client's connections: small files as
 * one Put Blob each, @p client's concurrency of them at once (fewer
 * while the service answers ServerBusy), larger ones block by block.
 * With CAIRN_AZURE_CREATE_ONLY a file whose blob exists fails the whole
 * call with CAIRN_EEXISTS naming it.  Returns at the first failure,
 * whose message names the file.
 */
CAIRN_EXTERN(int) cairn_azure_blob_upload_many(cairn_azure_client *client,
                                               const char *container,
                                               cairn_azure_upload_job *jobs,
                                               size_t count, unsigned flags);

/**
 * One blob of cairn_azure_blob_download_many(): as for uploads, the
 * local file being the one replaced.
 */
typedef cairn_azure_upload_job cairn_azure_download_job;

/**
 * Download many blobs over the client's connections, its concurrency of
 * them at once, each small blob in one request (no separate look at its
 * properties); larger ones then in parallel ranges.  Every blob is
 * checked against its SHA-256 (metadata cairnsha256), else its
 * Content-MD5, when it has one (CAIRN_EINTEGRITY).  Returns at the first
 * failure, whose message names the blob.
 */
CAIRN_EXTERN(int) cairn_azure_blob_download_many(
    cairn_azure_client *client, const char *container,
    cairn_azure_download_job *jobs, size_t count);

/**
 * Delete many blobs with their snapshots, @p client's concurrency of
 * them at once.  A blob that is gone already counts as deleted.
 */
CAIRN_EXTERN(int) cairn_azure_blob_delete_many(cairn_azure_client *client,
                                               const char *container,
                                               const char *const *names,
                                               size_t count);

/**
 * A URL that reads one blob without credentials until @p expires_in_s
 * seconds from now: the blob's URL with a service SAS (sr=b, sp=r)
 * signed with the account key.  The start time is set 15 minutes back,
 * so that a service clock running behind does not refuse it at first;
 * the name is percent-encoded once.  *out is a new string (free()).
 * Returns 0; CAIRN_EAUTH when the account has no key to sign with (a
 * SAS account cannot mint another SAS); CAIRN_EINVAL for a name
 * cairn_azure_blob_name_check() refuses or a duration that is not
 * positive.
 */
CAIRN_EXTERN(int) cairn_azure_blob_presign(char **out,
                                           const cairn_azure_account *account,
                                           const char *container,
                                           const char *name,
                                           int64_t expires_in_s);

/* ------------------------------------------------------------------ */
/* Service SAS for a container or a blob, and SAS leases               */
/* ------------------------------------------------------------------ */

/** Seconds a SAS's start is set back, for a service clock that lags. */
#define CAIRN_AZURE_SAS_BACKDATE (15 * 60)

/** What a service SAS grants.  Zero it, then fill it in. */
typedef struct {
  const char *container;   /**< the container (required) */
  const char *blob;        /**< [nullable] one blob (sr=b); NULL: the
                                whole container (sr=c) */
  const char *permissions; /**< letters of "racwdxltmeiyf" in any order
                                ('l' and 'f' for a container only); the
                                SAS lists them in that order */
  int64_t start;           /**< seconds since the epoch; 0 leaves st out */
  int64_t expiry;          /**< seconds since the epoch (required) */
  const char *protocol;    /**< [nullable] "https" or "https,http"; NULL
                                leaves spr out (any protocol) */
} cairn_azure_sas_options;

/**
 * Sign a service SAS of version CAIRN_AZURE_API_VERSION for a container
 * or a blob with the key of @p account (a Shared Key account).  *out is
 * the query without '?' (a new string, free()): sv, spr, st, se, sr, sp
 * and sig, in the order the Azure SDKs write them, each value
 * percent-encoded.  The key enters neither the SAS nor any message.
 * @retval 0 signed
 * @retval CAIRN_EAUTH the account has no key (a SAS or token account)
 * @retval CAIRN_EINVAL a container or blob name the service refuses, an
 *         unknown permission letter, no expiry, or a start not before it
 */
CAIRN_EXTERN(int) cairn_azure_sas_sign(char **out,
                                       const cairn_azure_account *account,
                                       const cairn_azure_sas_options *options);

/** A container SAS that renews itself.  Opaque. */
typedef struct cairn_azure_sas_lease cairn_azure_sas_lease;

/**
 * An account that reaches @p container only, with a SAS of
 * @p permissions signed with the key of @p key_account and valid for
 * @p lifetime_s seconds (its start set back CAIRN_AZURE_SAS_BACKDATE;
 * https only when the endpoint is https).  A thread of the lease signs a
 * new SAS each time half of the current one's life has passed, until
 * cairn_azure_sas_lease_free(); requests set up after that carry the new
 * one.  The account never holds the key: whatever it is handed to can
 * reach nothing but the container, and nothing after the SAS expires.
 * The lease keeps a copy of the key to sign with.
 * @retval CAIRN_EAUTH @p key_account has no key
 * @retval CAIRN_EINVAL a bad container name, permissions or lifetime
 */
CAIRN_EXTERN(int) cairn_azure_sas_lease_new(
    cairn_azure_sas_lease **out, const cairn_azure_account *key_account,
    const char *container, const char *permissions, int64_t lifetime_s);

/**
 * The lease's account (borrowed: valid until the lease is freed).  Its
 * source says "<the key's source>, as a SAS for container 'C' (SAS)".
 */
CAIRN_EXTERN(cairn_azure_account *) cairn_azure_sas_lease_account(
    const cairn_azure_sas_lease *lease);

/** When the current SAS expires (seconds since the epoch). */
CAIRN_EXTERN(int64_t) cairn_azure_sas_lease_expiry(
    const cairn_azure_sas_lease *lease);

/**
 * Stop renewing and free the lease with its account.  Free every client
 * and filesystem that uses the account first.  NULL is ignored.
 */
CAIRN_EXTERN(void) cairn_azure_sas_lease_free(cairn_azure_sas_lease *lease);

#ifdef __cplusplus
}
#endif
#endif
