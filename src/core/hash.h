/*
 * Hashes, HMAC, base64, hex and random identifiers, over OpenSSL.
 */
#ifndef CAIRN_CORE_HASH_H
#define CAIRN_CORE_HASH_H

#include <stddef.h>
#include <stdint.h>

#define CAIRN_SHA256_LEN 32
#define CAIRN_SHA256_HEX_LEN 64
#define CAIRN_MD5_LEN 16

/* Streaming SHA-256.  new/free are NULL-safe; update never fails. */
typedef struct cairn_sha256 cairn_sha256;

int cairn_sha256_new(cairn_sha256 **out);
void cairn_sha256_update(cairn_sha256 *h, const void *data, size_t len);
/* Write the digest; the context may be reset and reused after. */
void cairn_sha256_final(cairn_sha256 *h, unsigned char out[CAIRN_SHA256_LEN]);
void cairn_sha256_reset(cairn_sha256 *h);
/*
 * The digest of what was hashed so far, leaving @p h to go on: the
 * SHA-256 of a prefix, at the cost of one final block.
 */
int cairn_sha256_peek(const cairn_sha256 *h,
                      unsigned char out[CAIRN_SHA256_LEN]);
void cairn_sha256_free(cairn_sha256 *h);

/* One-shot digests. */
void cairn_sha256_digest(unsigned char out[CAIRN_SHA256_LEN],
                         const void *data, size_t len);
void cairn_md5_digest(unsigned char out[CAIRN_MD5_LEN], const void *data,
                      size_t len);
int cairn_hmac_sha256(unsigned char out[CAIRN_SHA256_LEN], const void *key,
                      size_t keylen, const void *data, size_t len);

/* SHA-256 of a local file, as lowercase hex (65 bytes with the NUL). */
int cairn_sha256_file_hex(char out[CAIRN_SHA256_HEX_LEN + 1],
                          const char *path);

/* Lowercase hex of @p len bytes into @p out (2*len+1 bytes). */
void cairn_hex_encode(char *out, const unsigned char *data, size_t len);

/* Base64 (standard alphabet, padded) as a new string (free()). */
char *cairn_base64_encode(const void *data, size_t len);
/*
 * Strict base64 decode: standard alphabet, correct padding, no spaces.
 * Returns 0 and a new buffer (free()) in *out, or CAIRN_EINVAL.
 */
int cairn_base64_decode(unsigned char **out, size_t *outlen,
                        const char *text);

/* Fill @p out with @p len random bytes.  Returns 0 or CAIRN_ERROR. */
int cairn_random_bytes(void *out, size_t len);
/* A random UUID (version 4) as text into @p out (37 bytes). */
int cairn_uuid4(char out[37]);

#endif
