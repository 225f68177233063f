/*
 * Bearer tokens for Azure Storage from Microsoft Entra ID: a service
 * principal (client secret, client certificate or federated token), a
 * managed identity, the Azure CLI, or a token given as is.  A token
 * source caches its token and fetches a new one before the old one
 * expires; it is shared by every client of an account, so it locks.
 * Internal to libcairn.
 */
#ifndef CAIRN_AZURE_TOKEN_H
#define CAIRN_AZURE_TOKEN_H

#include <stddef.h>
#include <stdint.h>

/* The audience every token is asked for. */
#define CAIRN_AZURE_TOKEN_SCOPE "https://storage.azure.com/.default"
#define CAIRN_AZURE_TOKEN_RESOURCE "https://storage.azure.com/"
#define CAIRN_AZURE_AUTHORITY "https://login.microsoftonline.com"

typedef enum {
  CAIRN__TOKEN_CLIENT_SECRET = 0,
  CAIRN__TOKEN_CLIENT_CERTIFICATE,
  CAIRN__TOKEN_FEDERATED, /* workload identity: a file as the assertion */
  CAIRN__TOKEN_MANAGED_IDENTITY, /* IDENTITY_ENDPOINT and IDENTITY_HEADER */
  CAIRN__TOKEN_IMDS,             /* the instance metadata service */
  CAIRN__TOKEN_AZURE_CLI,        /* az account get-access-token */
  CAIRN__TOKEN_STATIC            /* a token given as is */
} cairn__token_kind;

/* What a token source needs; unused fields NULL.  Strings are copied. */
typedef struct {
  cairn__token_kind kind;
  const char *authority; /* NULL: AZURE_AUTHORITY_HOST, else Entra's */
  const char *tenant_id;
  const char *client_id; /* also the user-assigned identity's id */
  const char *client_secret;
  const char *certificate_path;     /* PEM: private key and certificate */
  const char *certificate_password; /* for an encrypted key */
  const char *federated_token_file;
  const char *identity_endpoint;
  const char *identity_header;
  const char *token;  /* CAIRN__TOKEN_STATIC */
  int64_t expires_at; /* CAIRN__TOKEN_STATIC; 0 when unknown */
} cairn__token_config;

typedef struct cairn__azure_tokens cairn__azure_tokens;

int cairn__azure_tokens_new(cairn__azure_tokens **out,
                            const cairn__token_config *config);
void cairn__azure_tokens_free(cairn__azure_tokens *t);

/*
 * The token source the environment names, trying in this fixed order:
 * AZURE_STORAGE_CLIENT_ID, _CLIENT_SECRET and _TENANT_ID; AZURE_CLIENT_ID,
 * AZURE_CLIENT_SECRET and AZURE_TENANT_ID; AZURE_CLIENT_CERTIFICATE_PATH;
 * AZURE_FEDERATED_TOKEN_FILE; IDENTITY_ENDPOINT with IDENTITY_HEADER;
 * the instance metadata service when AZURE_USE_IMDS=1; `az` on the
 * PATH.  *where names the variables used ("AZURE_CLIENT_ID + ...").
 * CAIRN_EAUTH listing the choices when none applies; CAIRN_EINVAL when
 * one is set half-way.
 */
int cairn__azure_tokens_from_env(cairn__azure_tokens **out, char **where);

/*
 * A current token (new string, free()) with its expiry and the
 * generation it belongs to, fetched when the cached one is missing or
 * close to expiry.
 */
int cairn__azure_tokens_get(cairn__azure_tokens *t, char **token,
                            int64_t *expires_at, unsigned *generation);

/*
 * The token of @p generation was refused as expired or invalid: drop it
 * so that the next get fetches another.  Returns 1 when a new token may
 * differ (0 for a static token).
 */
int cairn__azure_tokens_invalidate(cairn__azure_tokens *t,
                                   unsigned generation);

/* "service principal (client secret)", ...; never a secret.  Static. */
const char *cairn__azure_tokens_method(const cairn__azure_tokens *t);

/* The token URL of @p authority and @p tenant (free()). */
char *cairn__azure_token_url(const char *authority, const char *tenant);

/*
 * Read a token endpoint's JSON answer: access_token with expires_in
 * (seconds from @p now) or expires_on (epoch seconds, as a number or a
 * string).  The token is a new string.  CAIRN_ERROR when malformed.
 */
int cairn__azure_token_parse(const char *json, size_t len, int64_t now,
                             char **token, int64_t *expires_at);

/*
 * The message of an Entra ID error answer ("invalid_client: AADSTS7000215:
 * Invalid client secret provided."): error and the first line of
 * error_description, into @p out.  Empty when the body says nothing.
 */
void cairn__azure_token_error_text(char *out, size_t outlen,
                                   const char *json, size_t len);

/*
 * The RS256 client assertion for @p client_id at @p audience, signed
 * with the key of PEM file @p pem_path (which also holds the
 * certificate, whose SHA-1 thumbprint goes in the header as x5t).
 */
int cairn__azure_client_assertion(char **out, const char *pem_path,
                                  const char *password,
                                  const char *client_id,
                                  const char *audience, int64_t now);

#endif
