/*
 * A progress line for transfers on a terminal: bytes, rate, time left
 * and files, redrawn a few times a second by a thread of its own from
 * the counters the library raises.  Nothing is drawn when standard
 * error is not a terminal.
 */
#include "cli/progress.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "core/util.h"

#define REDRAW_MS 200

struct cli_progress {
  cairn_progress *counters;
  const char *verb;
  pthread_t thread;
  pthread_mutex_t lock;
  pthread_cond_t wake;
  int stop;
  int64_t started_ms;
};

static uint64_t load(const uint64_t *v)
{
  return __atomic_load_n(v, __ATOMIC_RELAXED);
}

/* "1:05" or "1:02:03" */
static void clock_text(char *out, size_t outlen, uint64_t s)
{
  if (s >= 3600)
    snprintf(out, outlen, "%llu:%02llu:%02llu",
             (unsigned long long)(s / 3600),
             (unsigned long long)(s / 60 % 60),
             (unsigned long long)(s % 60));
  else
    snprintf(out, outlen, "%llu:%02llu", (unsigned long long)(s / 60),
             (unsigned long long)(s % 60));
}

void cli_progress_line(char *out, size_t outlen, const char *verb,
                       const cairn_progress *p, int64_t elapsed_ms)
{
  uint64_t done = load(&p->bytes_done), total = load(&p->bytes_total);
  uint64_t fdone = load(&p->files_done), ftotal = load(&p->files_total);
  char d[32], t[32], rate[32], left[32], files[48], bar[24];
  double secs = elapsed_ms > 0 ? elapsed_ms / 1000.0 : 0;
  double bps = secs > 0.2 ? done / secs : 0;
  size_t i, filled;

  if (done > total)
    total = done;
  cli_format_size(d, sizeof(d), done);
  cli_format_size(t, sizeof(t), total);
  if (bps > 0) {
    cli_format_size(rate, sizeof(rate), (uint64_t)bps);
    strcat(rate, "/s");
    clock_text(left, sizeof(left), (uint64_t)((total - done) / bps + 0.5));
  } else {
    snprintf(rate, sizeof(rate), "-");
    snprintf(left, sizeof(left), "-:--");
  }
  filled = total ? (size_t)((double)done / total * 20) : 0;
  for (i = 0; i < 20; i++)
    bar[i] = i < filled ? '#' : '.';
  bar[20] = '\0';
  files[0] = '\0';
  if (ftotal > 1)
    snprintf(files, sizeof(files), "  %llu/%llu files",
             (unsigned long long)fdone, (unsigned long long)ftotal);
  snprintf(out, outlen, "%s [%s] %s / %s  %s  %s left%s", verb, bar, d, t,
           rate, left, files);
}

static void draw(struct cli_progress *pr, int last)
{
  char line[256];

  cli_progress_line(line, sizeof(line), pr->verb, pr->counters,
                    cairn_time_monotonic_ms() - pr->started_ms);
  /* \r and clear to the end of the line: the line only ever shrinks
     or grows in place */
  fprintf(stderr, "\r%s\033[K%s", line, last ? "\n" : "");
  fflush(stderr);
}

static void *run(void *arg)
{
  struct cli_progress *pr = arg;
  struct timespec until;

  pthread_mutex_lock(&pr->lock);
  while (!pr->stop) {
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_nsec += REDRAW_MS * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
      until.tv_sec++;
      until.tv_nsec -= 1000000000L;
    }
    pthread_cond_timedwait(&pr->wake, &pr->lock, &until);
    if (!pr->stop)
      draw(pr, 0);
  }
  pthread_mutex_unlock(&pr->lock);
  return NULL;
}

cli_progress *cli_progress_start(cairn_progress *counters, const char *verb)
{
  struct cli_progress *pr;

  if (!isatty(STDERR_FILENO) || !(pr = calloc(1, sizeof(*pr))))
    return NULL;
  pr->counters = counters;
  pr->verb = verb;
  pr->started_ms = cairn_time_monotonic_ms();
  pthread_mutex_init(&pr->lock, NULL);
  pthread_cond_init(&pr->wake, NULL);
  if (pthread_create(&pr->thread, NULL, run, pr) != 0) {
    pthread_cond_destroy(&pr->wake);
    pthread_mutex_destroy(&pr->lock);
    free(pr);
    return NULL;
  }
  return pr;
}

void cli_progress_stop(cli_progress *pr, int ok)
{
  if (!pr)
    return;
  pthread_mutex_lock(&pr->lock);
  pr->stop = 1;
  pthread_cond_signal(&pr->wake);
  pthread_mutex_unlock(&pr->lock);
  pthread_join(pr->thread, NULL);
  if (ok)
    draw(pr, 1);
  else
    fputs("\r\033[K", stderr);
  pthread_cond_destroy(&pr->wake);
  pthread_mutex_destroy(&pr->lock);
  free(pr);
}
