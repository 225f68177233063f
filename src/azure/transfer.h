/*
 * Block sizing, metadata headers and writes with metadata, shared by
 * blob.c, transfer.c and presign.c.  Internal to libcairn.
 */
#ifndef CAIRN_AZURE_TRANSFER_H
#define CAIRN_AZURE_TRANSFER_H

#include <openssl/evp.h>
#include <stdint.h>

#include "core/hash.h"

#include "azure/client.h"

/* The largest block the service takes (API versions since 2019-12-12). */
#define CAIRN_AZURE_MAX_BLOCK ((uint64_t)4000 * CAIRN_AZURE_MIB)
/* The largest block blob: 50,000 blocks of the largest size. */
#define CAIRN_AZURE_MAX_BLOB (CAIRN_AZURE_MAX_BLOCK * CAIRN_AZURE_MAX_BLOCKS)
/* Blocks of a stream sent at the configured size before bigger ones. */
#define CAIRN_AZURE_STREAM_SMALL_BLOCKS 10000

/*
 * Block size for a file of @p size bytes: @p configured, or
 * ceil(size / 50,000) when that is more, so that the file fits the
 * service's block count.  0 when even 4000 MiB blocks are too small
 * (the file is larger than a block blob can be).
 */
uint64_t cairn__azure_block_size(uint64_t configured, uint64_t size);

/*
 * Size of block @p index of a stream of unknown length that may grow to
 * @p max_size bytes: @p configured for the first
 * CAIRN_AZURE_STREAM_SMALL_BLOCKS blocks, so that small and middling
 * streams keep small buffers, then one size for the rest, large enough
 * that 50,000 blocks hold @p max_size (when @p max_size is so close to
 * the largest blob that two sizes cannot reach it, every block has the
 * size cairn__azure_block_size() gives).  0 when @p max_size cannot be
 * covered with blocks of at most 4000 MiB, or @p index is past the
 * 50,000th block.
 */
uint64_t cairn__azure_stream_block(uint64_t configured, uint64_t max_size,
                                   uint64_t index);

/* Add an x-ms-meta-* header for each entry of @p md [nullable]. */
int cairn__azure_add_metadata(cairn_http_request *req,
                              const cairn_azure_metadata *md);

/*
 * One Put Blob as cairn__azure_put_blob(), with user metadata @p md
 * [nullable].
 */
int cairn__azure_put_blob_md(cairn_azure_client *c, const char *container,
                             const char *name, const void *data, size_t len,
                             unsigned flags, const char *sha256_hex,
                             const cairn_azure_metadata *md);

/*
 * After a create-only write that went out more than once (req.sends,
 * libcurl's own resends included) was refused because the blob exists:
 * 1 when the blob there is the one this write made (an earlier attempt
 * landed but its answer was lost), that is, when it carries
 * @p sha256_hex.  The caller keeps its EEXISTS otherwise.
 */
int cairn__azure_landed_earlier(cairn_azure_client *c, const char *container,
                                const char *name, const char *sha256_hex);

/* The largest and (but for a blob's last) the smallest download range. */
#define CAIRN_AZURE_MAX_RANGE ((uint64_t)256 << 20)
#define CAIRN_AZURE_MIN_RANGE ((uint64_t)1 << 20)

/*
 * The ranges a download of @p size bytes asks for, as the offset where
 * each ends (range i starts where range i - 1 ends); their number in
 * @p count.  Ranges go to the file as they arrive and hold no memory,
 * so they may be large, and each request costs the service: about two
 * rounds of @p concurrency, never less than @p block.  The streams move
 * at about the same pace, so the first round grows from small to full
 * size, and the ranges complete in the order of the file, one after
 * the other: the hash, which follows them, is never far behind.  NULL
 * when out of memory; free() the result.
 */
uint64_t *cairn__azure_plan_ranges(uint64_t size, uint64_t block,
                                   unsigned concurrency, uint64_t *count);

/* Buffers to keep in flight for blocks of @p block bytes. */
unsigned cairn__azure_pool_size(const cairn_azure_client *c, uint64_t block);

/* pwrite all of @p buf at @p offset of @p fd (@p path for messages). */
int cairn__azure_write_full(int fd, const char *buf, size_t len,
                            uint64_t offset, const char *path);

/* Finish @p h into lowercase hex. */
void cairn__azure_sha_hex(cairn_sha256 *h, char out[65]);

/* A streaming MD5, or NULL with the error set; its base64 (free()). */
EVP_MD_CTX *cairn__azure_md5_new(void);
char *cairn__azure_md5_b64(EVP_MD_CTX *ctx);

#endif
