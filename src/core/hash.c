/*
 * Hashes, HMAC, base64, hex and random identifiers, over OpenSSL.
 */
#include "core/hash.h"

#include <fcntl.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/error.h"

struct cairn_sha256 {
  EVP_MD_CTX *ctx;
};

int cairn_sha256_new(cairn_sha256 **out)
{
  cairn_sha256 *h;

  *out = NULL;
  h = cairn__calloc(1, sizeof(*h));
  if (!h)
    return CAIRN_ENOMEM;
  h->ctx = EVP_MD_CTX_new();
  if (!h->ctx || !EVP_DigestInit_ex(h->ctx, EVP_sha256(), NULL)) {
    cairn_sha256_free(h);
    return cairn__error(CAIRN_ERROR, "cannot set up SHA-256");
  }
  *out = h;
  return 0;
}

void cairn_sha256_update(cairn_sha256 *h, const void *data, size_t len)
{
  if (len)
    EVP_DigestUpdate(h->ctx, data, len);
}

void cairn_sha256_final(cairn_sha256 *h, unsigned char out[CAIRN_SHA256_LEN])
{
  unsigned int n = CAIRN_SHA256_LEN;

  EVP_DigestFinal_ex(h->ctx, out, &n);
  EVP_DigestInit_ex(h->ctx, EVP_sha256(), NULL);
}

int cairn_sha256_peek(const cairn_sha256 *h,
                      unsigned char out[CAIRN_SHA256_LEN])
{
  EVP_MD_CTX *copy = EVP_MD_CTX_new();
  unsigned int n = CAIRN_SHA256_LEN;
  int ok;

  ok = copy && EVP_MD_CTX_copy_ex(copy, h->ctx) &&
       EVP_DigestFinal_ex(copy, out, &n);
  EVP_MD_CTX_free(copy);
  return ok ? 0 : CAIRN_ENOMEM;
}

void cairn_sha256_reset(cairn_sha256 *h)
{
  EVP_DigestInit_ex(h->ctx, EVP_sha256(), NULL);
}

void cairn_sha256_free(cairn_sha256 *h)
{
  if (!h)
    return;
  EVP_MD_CTX_free(h->ctx);
  free(h);
}

void cairn_sha256_digest(unsigned char out[CAIRN_SHA256_LEN],
                         const void *data, size_t len)
{
  unsigned int n = CAIRN_SHA256_LEN;

  EVP_Digest(data, len, out, &n, EVP_sha256(), NULL);
}

void cairn_md5_digest(unsigned char out[CAIRN_MD5_LEN], const void *data,
                      size_t len)
{
  unsigned int n = CAIRN_MD5_LEN;

  EVP_Digest(data, len, out, &n, EVP_md5(), NULL);
}

int cairn_hmac_sha256(unsigned char out[CAIRN_SHA256_LEN], const void *key,
                      size_t keylen, const void *data, size_t len)
{
  unsigned int n = CAIRN_SHA256_LEN;

  if (!HMAC(EVP_sha256(), key, (int)keylen, data, len, out, &n))
    return cairn__error(CAIRN_ERROR, "HMAC-SHA256 failed");
  return 0;
}

int cairn_sha256_file_hex(char out[CAIRN_SHA256_HEX_LEN + 1],
                          const char *path)
{
  unsigned char digest[CAIRN_SHA256_LEN];
  static const size_t chunk = 1 << 20;
  cairn_sha256 *h = NULL;
  char *buf = NULL;
  ssize_t n;
  int fd, error;

  fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return cairn__error_errno("cannot open", path);
  if ((error = cairn_sha256_new(&h)) < 0)
    goto done;
  if (!(buf = malloc(chunk))) {
    error = cairn__error_oom();
    goto done;
  }
  while ((n = read(fd, buf, chunk)) > 0)
    cairn_sha256_update(h, buf, (size_t)n);
  if (n < 0) {
    error = cairn__error_errno("cannot read", path);
    goto done;
  }
  cairn_sha256_final(h, digest);
  cairn_hex_encode(out, digest, sizeof(digest));
done:
  free(buf);
  cairn_sha256_free(h);
  close(fd);
  return error;
}

void cairn_hex_encode(char *out, const unsigned char *data, size_t len)
{
  static const char digits[] = "0123456789abcdef";
  size_t i;

  for (i = 0; i < len; i++) {
    out[2 * i] = digits[data[i] >> 4];
    out[2 * i + 1] = digits[data[i] & 15];
  }
  out[2 * len] = '\0';
}

char *cairn_base64_encode(const void *data, size_t len)
{
  size_t n = 4 * ((len + 2) / 3);
  char *out = malloc(n + 1);

  if (!out) {
    cairn__error_oom();
    return NULL;
  }
  EVP_EncodeBlock((unsigned char *)out, data, (int)len);
  out[n] = '\0';
  return out;
}

static int base64_value(char c)
{
  if (c >= 'A' && c <= 'Z')
    return c - 'A';
  if (c >= 'a' && c <= 'z')
    return c - 'a' + 26;
  if (c >= '0' && c <= '9')
    return c - '0' + 52;
  if (c == '+')
    return 62;
  if (c == '/')
    return 63;
  return -1;
}

int cairn_base64_decode(unsigned char **out, size_t *outlen,
                        const char *text)
{
  size_t len = strlen(text), i, o = 0, pad = 0;
  unsigned char *buf;
  unsigned int acc = 0;
  int v;

  *out = NULL;
  *outlen = 0;
  if (len % 4 != 0)
    return CAIRN_EINVAL;
  if (len && text[len - 1] == '=')
    pad++;
  if (len > 1 && text[len - 2] == '=')
    pad++;
  buf = malloc(len / 4 * 3 + 1);
  if (!buf)
    return cairn__error_oom();
  for (i = 0; i < len; i++) {
    if (i >= len - pad) {
      if (text[i] != '=')
        goto invalid;
      v = 0;
    } else if ((v = base64_value(text[i])) < 0) {
      goto invalid;
    }
    acc = (acc << 6) | (unsigned int)v;
    if (i % 4 == 3) {
      buf[o++] = (unsigned char)(acc >> 16);
      buf[o++] = (unsigned char)(acc >> 8);
      buf[o++] = (unsigned char)acc;
      acc = 0;
    }
  }
  o -= pad;
  *out = buf;
  *outlen = o;
  return 0;
invalid:
  free(buf);
  return CAIRN_EINVAL;
}

int cairn_random_bytes(void *out, size_t len)
{
  if (RAND_bytes(out, (int)len) != 1)
    return cairn__error(CAIRN_ERROR, "no random bytes available");
  return 0;
}

int cairn_uuid4(char out[37])
{
  unsigned char b[16];

  if (cairn_random_bytes(b, sizeof(b)) < 0)
    return CAIRN_ERROR;
  b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
  b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
  snprintf(out, 37,
           "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-"
           "%02x%02x%02x%02x%02x%02x",
           b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9],
           b[10], b[11], b[12], b[13], b[14], b[15]);
  return 0;
}
