/*
 * The progress line of transfers on a terminal.
 */
#ifndef CAIRN_CLI_PROGRESS_H
#define CAIRN_CLI_PROGRESS_H

#include <cairn/common.h>
#include <stddef.h>
#include <stdint.h>

typedef struct cli_progress cli_progress;

/*
 * Draw @p counters on standard error until stopped, when it is a
 * terminal; NULL (and nothing drawn) otherwise.  @p verb starts the
 * line ("Uploading").
 */
cli_progress *cli_progress_start(cairn_progress *counters, const char *verb);

/* Stop drawing: the final line stays when @p ok, else it is erased. */
void cli_progress_stop(cli_progress *pr, int ok);

/*
 * The text of one progress line: "Uploading [#####...] 1.0 GiB / 2.0 GiB
 * 150.0 MiB/s  0:07 left  3/10 files".
 */
void cli_progress_line(char *out, size_t outlen, const char *verb,
                       const cairn_progress *p, int64_t elapsed_ms);

#endif
