/*
 * cairn: the command-line entry point.  Global options, the log sink,
 * the cairn home, and dispatch to the command groups.
 */
#include <cairn/common.h>
#include <cairn/log.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "core/buf.h"
#include "core/util.h"

static const struct {
  const char *name;
  cli_command_fn fn;
  const char *summary;
} groups[] = {
  {"stack", cmd_stack, "Register, list and activate stacks."},
  {"artifact-store", cmd_artifact_store, "Manage artifact stores."},
  {"orchestrator", cmd_orchestrator, "List and describe orchestrators."},
  {"pipeline", cmd_pipeline, "Run pipelines."},
  {"run", cmd_run, "Inspect pipeline runs and their logs."},
  {"artifact", cmd_artifact, "Inspect and fetch artifact versions."},
  {"secret", cmd_secret, "Manage secrets (encrypted credentials)."},
  {"service-connector", cmd_service_connector,
   "Manage service connectors (Azure credentials stores connect to)."},
  {"integration", cmd_integration, "Integrations (Azure is built in)."},
  {"status", cmd_status, "Show the home, the active stack and its store."},
};

#define NGROUPS (sizeof(groups) / sizeof(groups[0]))

static void usage(FILE *out)
{
  size_t i;

  fprintf(out,
          "Usage: cairn [--log-level LEVEL] COMMAND [ARGS]...\n\n"
          "cairn runs ML pipelines and keeps every artifact they make in an\n"
          "artifact store (a local folder or an Azure Blob container).\n\n"
          "Options:\n"
          "  --log-level LEVEL  error, warn, info, debug or trace "
          "(also CAIRN_LOG_LEVEL)\n"
          "  --version          Show the version and exit.\n"
          "  -h, --help         Show this message and exit.\n\n"
          "Commands:\n");
  for (i = 0; i < NGROUPS; i++)
    fprintf(out, "  %-18s %s\n", groups[i].name, groups[i].summary);
  fprintf(out, "\nRun 'cairn COMMAND --help' for more.\n");
}

static void log_to_stderr(cairn_log_level level, const char *category,
                          const char *message, void *payload)
{
  static const char *names[] = {"error", "warn", "info", "debug", "trace"};

  (void)payload;
  fprintf(stderr, "[%s] %s: %s\n", names[level], category, message);
}

/*
 * SIGINT and SIGTERM ask long operations to stop cleanly; a second one
 * ends the process at once.
 */
static void on_signal(int sig)
{
  if (cairn_cancelled()) {
    signal(sig, SIG_DFL);
    raise(sig);
    return;
  }
  cairn_cancel();
}

static void catch_signals(void)
{
  struct sigaction sa;

  memset(&sa, 0, sizeof(sa));
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);
}

/* CAIRN_HOME, else $XDG_DATA_HOME/cairn, else ~/.local/share/cairn. */
static char *find_home(void)
{
  const char *v;

  if ((v = cairn_getenv("CAIRN_HOME")))
    return cairn_path_absolute(v);
  if ((v = cairn_getenv("XDG_DATA_HOME")))
    return cairn_path_join(v, "cairn");
  if ((v = cairn_getenv("HOME")))
    return cairn__sprintf("%s/.local/share/cairn", v);
  return NULL;
}

int main(int argc, char **argv)
{
  cli_ctx ctx = {0};
  const char *v;
  size_t i;
  int argi = 1, rc = 1;

  cairn_log_set_sink(log_to_stderr, NULL);
  if ((v = cairn_getenv("CAIRN_LOG_LEVEL")) &&
      cli_set_log_level(v, "CAIRN_LOG_LEVEL"))
    return 1;

  while (argi < argc && argv[argi][0] == '-') {
    const char *a = argv[argi];
    if (strcmp(a, "--version") == 0) {
      printf("cairn, version %s\n", cairn_version());
      return 0;
    }
    if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
      usage(stdout);
      return 0;
    }
    if (strcmp(a, "--log-level") == 0 && argi + 1 < argc) {
      if (cli_set_log_level(argv[argi + 1], "--log-level"))
        return 1;
      argi += 2;
      continue;
    }
    if (strcmp(a, "--log-level") == 0)
      return cli_error("--log-level needs a value: error, warn, info, "
                       "debug or trace");
    if (strncmp(a, "--log-level=", 12) == 0) {
      if (cli_set_log_level(a + 12, "--log-level"))
        return 1;
      argi++;
      continue;
    }
    return cli_error("no such option: %s (see 'cairn --help')", a);
  }
  if (argi >= argc) {
    usage(stderr);
    return 1;
  }

  for (i = 0; i < NGROUPS; i++)
    if (strcmp(groups[i].name, argv[argi]) == 0)
      break;
  if (i == NGROUPS)
    return cli_error("no such command '%s': run 'cairn --help' for the "
                     "list", argv[argi]);
  if (!groups[i].fn)
    return cli_error("'%s' is not available in this build", argv[argi]);

  if (cairn_global_init() < 0)
    return cli_fail();
  catch_signals();
  ctx.home = find_home();
  if (!ctx.home) {
    cli_error("cannot find a home folder: set CAIRN_HOME");
  } else {
    rc = groups[i].fn(&ctx, argc - argi, argv + argi);
  }
  cairn_store_free(ctx.store);
  free(ctx.home);
  cairn_global_cleanup();
  return rc;
}
