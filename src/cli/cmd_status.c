/*
 * cairn status: the home, the active stack, its store, its service
 * connector and where the store's credentials come from.
 */
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "stack/stack.h"

static const cli_spec status_spec = {
  "cairn status [--output json]",
  "Show the cairn home, the active stack and its artifact store.",
  NULL, 0, 0, 0, 1};

int cmd_status(cli_ctx *ctx, int argc, char **argv)
{
  cairn_component as, orch;
  cairn_connector conn;
  cairn_store *store;
  cairn_stack s;
  cli_args a;
  char *root = NULL, *source = NULL, *connector = NULL;
  unsigned parallelism;
  int rc;

  if ((rc = cli_parse(ctx, &status_spec, argc, argv, &a)) != 0) {
    cli_args_dispose(&a);
    return CLI_PARSED(rc);
  }
  cli_args_dispose(&a);
  if (!(store = cli_store(ctx)))
    return 1;
  memset(&as, 0, sizeof(as));
  memset(&orch, 0, sizeof(orch));
  if (cairn_store_stack_active(store, &s) < 0)
    return cli_fail();
  if (cairn_store_component_get(store, &as, "artifact_store",
                                s.artifact_store_id) < 0 ||
      cairn_store_component_get(store, &orch, "orchestrator",
                                s.orchestrator_id) < 0) {
    rc = cli_fail();
    goto done;
  }
  root = cairn_stack_store_root(store, &as);
  source = cairn_stack_credential_source(store, &as);
  parallelism = cairn_stack_parallelism(&orch);
  if (as.connector_id &&
      cairn_store_connector_get(store, &conn, as.connector_id) == 0) {
    connector = strdup(conn.name);
    cairn_connector_dispose(&conn);
  }
  if (ctx->json) {
    cli_json_emit(json_pack(
        "{s:s, s:{s:s, s:s}, s:{s:s, s:s, s:s, s:s, s:s, s:s?}, "
        "s:{s:s, s:s, s:s, s:i}}",
        "home", cairn_store_home(store),
        "stack", "id", s.id, "name", s.name,
        "artifact_store", "id", as.id, "name", as.name, "flavor", as.flavor,
        "root", root ? root : "", "credential_source", source ? source : "",
        "connector", connector,
        "orchestrator", "id", orch.id, "name", orch.name, "flavor",
        orch.flavor, "parallelism", (int)parallelism));
  } else {
    cli_say("cairn home:      %s", cairn_store_home(store));
    cli_say("Active stack:    '%s' (id %s)", s.name, s.id);
    cli_say("Artifact store:  '%s' (flavor %s)", as.name, as.flavor);
    cli_say("  root:          %s", root ? root : "");
    if (connector)
      cli_say("  connector:     '%s'", connector);
    cli_say("  credentials:   %s", source ? source : "");
    cli_say("Orchestrator:    '%s' (flavor %s, parallelism %u)", orch.name,
            orch.flavor, parallelism);
  }
done:
  free(root);
  free(source);
  free(connector);
  cairn_component_dispose(&as);
  cairn_component_dispose(&orch);
  cairn_stack_dispose(&s);
  return rc;
}
