/**
 * @file cairn/common.h
 * @brief Result codes and the last-error message shared by every module.
 *
 * Every function of libcairn that can fail returns an int: 0 on success,
 * a negative cairn_result code on failure.  A one-line message that a user
 * can act on is kept per thread and read with cairn_error_last().
 */
#ifndef CAIRN_COMMON_H
#define CAIRN_COMMON_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define CAIRN_EXTERN(type) extern __attribute__((visibility("default"))) type

/** Result codes.  Named codes mark outcomes a caller may expect. */
typedef enum {
  CAIRN_OK = 0,
  CAIRN_ERROR = -1,         /**< anything not listed below */
  CAIRN_ENOMEM = -2,        /**< out of memory */
  CAIRN_ENOTFOUND = -3,     /**< a blob, file, row or name is missing */
  CAIRN_EEXISTS = -4,       /**< the target exists already */
  CAIRN_EINVAL = -5,        /**< bad input: a name, a URI, a file */
  CAIRN_EAUTH = -6,         /**< credentials refused or missing */
  CAIRN_EPERM = -7,         /**< credentials valid, permission missing */
  CAIRN_ETHROTTLED = -8,    /**< the service asks to slow down */
  CAIRN_EPRECONDITION = -9, /**< a condition of the request failed */
  CAIRN_EIO = -10,          /**< a local read or write failed */
  CAIRN_ENET = -11,         /**< the network or the service failed */
  CAIRN_EINTEGRITY = -12,   /**< a checksum did not match */
  CAIRN_ECANCELLED = -13,   /**< stopped on request */
  CAIRN_ETIMEOUT = -14,     /**< took longer than allowed */
  CAIRN_EINUSE = -15        /**< still referenced by something else */
} cairn_result;

/** The error of the last failed call on this thread. */
typedef struct {
  int code;            /**< a cairn_result */
  const char *message; /**< one line, never NULL */
} cairn_error;

/**
 * The last error set on this thread.  Borrowed: valid until the next
 * libcairn call on this thread.  Never NULL; code is CAIRN_OK when no
 * error was set.
 */
CAIRN_EXTERN(const cairn_error *) cairn_error_last(void);

/** Forget the last error of this thread. */
CAIRN_EXTERN(void) cairn_error_clear(void);

/** A short static name for a result code ("not found"). */
CAIRN_EXTERN(const char *) cairn_strerror(int code);

/**
 * Ask every long operation of the process (transfers, pipeline runs) to
 * stop: they return CAIRN_ECANCELLED and leave nothing half-written.
 * Async-signal-safe, for SIGINT and SIGTERM handlers.
 */
CAIRN_EXTERN(void) cairn_cancel(void);
/** 1 once cairn_cancel() was called (until cairn_cancel_reset()). */
CAIRN_EXTERN(int) cairn_cancelled(void);
CAIRN_EXTERN(void) cairn_cancel_reset(void);

/**
 * How far a transfer has come, for a progress display.  The library sets
 * the totals before it moves data and raises the counts as it goes,
 * from any of its threads, with atomic operations; a caller reads them
 * whenever it likes with __atomic_load_n(&p->bytes_done,
 * __ATOMIC_RELAXED).  Zero-initialise it.
 */
typedef struct {
  uint64_t bytes_done;
  uint64_t bytes_total;
  uint64_t files_done;
  uint64_t files_total;
} cairn_progress;

/** The library version, "MAJOR.MINOR.PATCH". */
CAIRN_EXTERN(const char *) cairn_version(void);

/**
 * Set up process-wide state (libcurl).  Call once before any other
 * function, from the main thread.  Returns 0 or CAIRN_ERROR.
 */
CAIRN_EXTERN(int) cairn_global_init(void);

/** Release what cairn_global_init() set up. */
CAIRN_EXTERN(void) cairn_global_cleanup(void);

#ifdef __cplusplus
}
#endif
#endif
