/*
 * Request authorisation and URL building for Azure Storage: Shared Key
 * signing, SAS joining and percent-encoding.  Internal to libcairn.
 * Functions returning a string return a new one (free()), or NULL with
 * the error set (out of memory).
 */
#ifndef CAIRN_AZURE_AUTH_H
#define CAIRN_AZURE_AUTH_H

#include <stddef.h>

#include <cairn/azure.h>

typedef struct {
  const char *name;
  const char *value;
} cairn__azure_header;

/*
 * Authorization value "SharedKey <account>:<base64 sig>" for a request.
 * url: the full URL as sent (scheme://host[:port]/path?query, path and
 * query percent-encoded).  headers: every header that will be sent (any
 * case), including x-ms-date and x-ms-version; Content-Length "0" counts
 * as empty.  Canonicalized headers: x-ms-* lowercased, values
 * trimmed/whitespace-folded, sorted; canonicalized resource: "/" +
 * account + the URL path as sent, still percent-encoded (so a path-style
 * endpoint repeats the account: /devstoreaccount1/devstoreaccount1/c/b;
 * a blob "a b" signs as /acct/c/a%20b, which is what Azure and Azurite
 * check), then "\n<lowercased name>:<decoded value>" per query param
 * sorted by name (comma-joined values for repeated names).  Out: new
 * string, free().
 * Returns 0, CAIRN_EAUTH when the account has no key, CAIRN_EINVAL for
 * a URL that is not absolute, or CAIRN_ENOMEM.
 */
int cairn__azure_shared_key(char **out, const cairn_azure_account *account,
                            const char *method, const char *url,
                            const cairn__azure_header *headers, size_t count);

/*
 * The Shared Key string-to-sign for the same inputs (lines joined with
 * '\n', no trailing newline).  For tests and debug traces; holds no
 * secret.  Returns as cairn__azure_shared_key() except for the key check.
 */
int cairn__azure_string_to_sign(char **out,
                                const cairn_azure_account *account,
                                const char *method, const char *url,
                                const cairn__azure_header *headers,
                                size_t count);

/*
 * A SAS as it goes on the wire, whatever spelling the user pasted: no
 * leading '?', no empty parameters, every name and value percent-decoded
 * once and encoded again ("+" stays a plus: SAS values never hold
 * spaces).  So a raw "sig=a+b/c=" and an encoded "sig=a%2Bb%2Fc%3D"
 * give the same string.  New string, or NULL (out of memory).
 */
char *cairn__azure_sas_normalise(const char *sas);

/* One value of a SAS, percent-decoded (new string). */
char *cairn__azure_sas_value(const char *value, size_t len);

/*
 * Append a SAS (with or without leading '?') to a URL that may already
 * have a query: never "??" or "&&".  New string.
 */
char *cairn__azure_sas_join(const char *url, const char *sas);

/*
 * Percent-encode a blob name for a URL path: keep unreserved and '/',
 * encode everything else including space, '#', '?', '%', '+'.
 */
char *cairn__azure_encode_path(const char *name);

/* Percent-encode a query value (encode everything but unreserved). */
char *cairn__azure_encode_query(const char *value);

/*
 * URL of a container or blob: endpoint + "/" + container [+ "/" +
 * encoded name] [+ "?" + query (already encoded)], then the account's
 * SAS if any.  name/query nullable; an empty or NULL container gives the
 * account URL (endpoint + "/").
 */
char *cairn__azure_url(const cairn_azure_account *account,
                       const char *container, const char *name,
                       const char *query);

#endif
