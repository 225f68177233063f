/*
 * Setting the thread's last error.  Internal to libcairn.
 */
#ifndef CAIRN_CORE_ERROR_H
#define CAIRN_CORE_ERROR_H

#include <cairn/common.h>

/*
 * Record @p code with a printf-style message as this thread's last
 * error and return @p code, so that a failing path reads
 * `return cairn__error(CAIRN_EINVAL, "bad name '%s'", name);`.
 */
int cairn__error(int code, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Out of memory: sets the message and returns CAIRN_ENOMEM. */
int cairn__error_oom(void);

/*
 * Prefix the current message with "<prefix>: ".  Returns the current
 * code, so that `return cairn__error_prefix("reading %s", p);` passes a
 * lower layer's failure up with context.
 */
int cairn__error_prefix(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));

/* Set from errno after a failed system call on @p path. */
int cairn__error_errno(const char *what, const char *path);

/* The current code (CAIRN_OK when none). */
int cairn__error_code(void);

#endif
