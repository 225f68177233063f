/*
 * The client assertion of a service principal that signs in with a
 * certificate: a JWT signed RS256 with the certificate's private key,
 * whose header names the certificate by its SHA-1 thumbprint (x5t).
 */
#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/sha.h>
#include <openssl/x509.h>
#include <stdlib.h>
#include <string.h>

#include "azure/token.h"
#include "core/error.h"
#include "core/hash.h"
#include "core/util.h"

/* How long an assertion is valid. */
#define ASSERTION_LIFETIME_S 600

/* Base64url without padding, as JWTs use (free()). */
static char *base64url(const void *data, size_t len)
{
  char *s = cairn_base64_encode(data, len), *p;

  if (!s)
    return NULL;
  for (p = s; *p; p++) {
    if (*p == '+')
      *p = '-';
    else if (*p == '/')
      *p = '_';
    else if (*p == '=')
      *p = '\0';
  }
  return s;
}

/* A compact JSON object, base64url-encoded (free()). */
static char *json_part(json_t *obj)
{
  char *text = obj ? json_dumps(obj, JSON_COMPACT) : NULL;
  char *enc = text ? base64url(text, strlen(text)) : NULL;

  free(text);
  json_decref(obj);
  return enc;
}

static int password_cb(char *buf, int size, int rwflag, void *u)
{
  const char *pw = u;
  int len;

  (void)rwflag;
  if (!pw)
    return 0;
  len = (int)strlen(pw);
  if (len > size)
    len = size;
  memcpy(buf, pw, (size_t)len);
  return len;
}

/* The key and the certificate of a PEM file holding both. */
static int read_pem(EVP_PKEY **key, X509 **cert, const char *path,
                    const char *password)
{
  BIO *bio = BIO_new_file(path, "r");

  *key = NULL;
  *cert = NULL;
  if (!bio)
    return cairn__error(CAIRN_EAUTH, "cannot read the client certificate "
                        "%s: check AZURE_CLIENT_CERTIFICATE_PATH", path);
  *key = PEM_read_bio_PrivateKey(bio, NULL, password_cb, (void *)password);
  BIO_free(bio);
  if (!*key)
    return cairn__error(CAIRN_EAUTH, "the client certificate file %s holds "
                        "no private key that can be read%s: it must be PEM "
                        "with the key and the certificate", path,
                        password ? " with the password given" : "");
  if (!(bio = BIO_new_file(path, "r")))
    return cairn__error(CAIRN_EAUTH, "cannot read %s", path);
  *cert = PEM_read_bio_X509(bio, NULL, NULL, NULL);
  BIO_free(bio);
  if (!*cert)
    return cairn__error(CAIRN_EAUTH, "the client certificate file %s holds "
                        "no certificate: it must be PEM with the key and "
                        "the certificate", path);
  return 0;
}

/* base64url(SHA-1 of the certificate's DER), the x5t header. */
static char *thumbprint(X509 *cert)
{
  unsigned char *der = NULL, sha[SHA_DIGEST_LENGTH];
  int len = i2d_X509(cert, &der);
  char *out;

  if (len <= 0)
    return NULL;
  SHA1(der, (size_t)len, sha);
  OPENSSL_free(der);
  out = base64url(sha, sizeof(sha));
  return out;
}

/* RS256 of @p input, base64url (free()). */
static char *sign_rs256(EVP_PKEY *key, const char *input)
{
  EVP_MD_CTX *md = EVP_MD_CTX_new();
  unsigned char *sig = NULL;
  size_t siglen = 0;
  char *out = NULL;

  if (md && EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, key) == 1 &&
      EVP_DigestSign(md, NULL, &siglen, (const unsigned char *)input,
                     strlen(input)) == 1 &&
      (sig = malloc(siglen)) &&
      EVP_DigestSign(md, sig, &siglen, (const unsigned char *)input,
                     strlen(input)) == 1)
    out = base64url(sig, siglen);
  free(sig);
  EVP_MD_CTX_free(md);
  return out;
}

int cairn__azure_client_assertion(char **out, const char *pem_path,
                                  const char *password,
                                  const char *client_id,
                                  const char *audience, int64_t now)
{
  EVP_PKEY *key = NULL;
  X509 *cert = NULL;
  char *x5t = NULL, *header = NULL, *claims = NULL, *input = NULL;
  char *sig = NULL, jti[37];
  int error;

  *out = NULL;
  if ((error = read_pem(&key, &cert, pem_path, password)) < 0)
    goto done;
  error = CAIRN_ENOMEM;
  if (cairn_uuid4(jti) < 0 || !(x5t = thumbprint(cert)))
    goto done;
  header = json_part(json_pack("{s:s, s:s, s:s}", "alg", "RS256", "typ",
                               "JWT", "x5t", x5t));
  claims = json_part(json_pack("{s:s, s:s, s:s, s:s, s:I, s:I, s:I}",
                               "aud", audience, "iss", client_id, "sub",
                               client_id, "jti", jti, "nbf",
                               (json_int_t)now, "iat", (json_int_t)now,
                               "exp",
                               (json_int_t)(now + ASSERTION_LIFETIME_S)));
  if (!header || !claims ||
      !(input = cairn__sprintf("%s.%s", header, claims)))
    goto done;
  if (!(sig = sign_rs256(key, input))) {
    error = cairn__error(CAIRN_EAUTH, "cannot sign with the key of the "
                         "client certificate %s (RS256 needs an RSA key)",
                         pem_path);
    goto done;
  }
  if ((*out = cairn__sprintf("%s.%s", input, sig)))
    error = 0;
done:
  if (error == CAIRN_ENOMEM)
    cairn__error_oom();
  EVP_PKEY_free(key);
  X509_free(cert);
  free(x5t);
  free(header);
  free(claims);
  free(input);
  free(sig);
  return error;
}
