/*
 * What `pipeline run`, `run` and `artifact` share: the steps table of a
 * run, metrics as text, and the live artifact store of a record.
 */
#ifndef CAIRN_CLI_CMD_RUN_UTIL_H
#define CAIRN_CLI_CMD_RUN_UTIL_H

#include <stdio.h>

#include "cli/cli.h"
#include "stack/stack.h"
#include "store/store.h"

/*
 * Print the table STEP | STATUS | DURATION | CACHED | OUTPUTS of @p run,
 * then one line of metrics per step that reported some.
 */
void cmd_run_print_steps(cairn_store *store, const cairn_run *run,
                         FILE *out);

/* "accuracy=0.9720 loss=0.1000" (free()); NULL when empty. */
char *cmd_run_metrics_text(const json_t *metrics);

/* "name:version" lines of a step run's outputs (free()). */
char *cmd_run_outputs_text(cairn_store *store, const char *step_run_id);

/* The live artifact store with component id @p id; sets the error. */
int cmd_run_open_store(cairn_live_store **out, cairn_store *store,
                       const char *id);

#endif
