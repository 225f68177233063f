/*
 * Glob matching on '/'-separated paths, the one matcher of both store
 * flavors.  A level is the text between two '/'; `*`, `?` and `[...]`
 * never cross a '/', and a level that is exactly `**` matches zero or
 * more whole levels.
 */
#include <string.h>

#include "fs/fs_internal.h"

int cairn__glob_has_magic(const char *s, size_t len)
{
  size_t i;

  for (i = 0; i < len && s[i]; i++)
    if (s[i] == '*' || s[i] == '?' || s[i] == '[')
      return 1;
  return 0;
}

/*
 * Match the bracket expression at @p p (just after '[') against @p c.
 * Sets *end to the byte after the closing ']'.  Returns -1 when there
 * is no closing ']' in this level (the '[' is then a plain character).
 */
static int match_bracket(const char *p, char c, const char **end)
{
  int negate = 0, found = 0;
  const char *q = p;

  if (*q == '!' || *q == '^') {
    negate = 1;
    q++;
  }
  /* A ']' right after the opening (or the negation) is a member. */
  if (*q == ']') {
    if (c == ']')
      found = 1;
    q++;
  }
  while (*q && *q != ']' && *q != '/') {
    if (q[1] == '-' && q[2] && q[2] != ']' && q[2] != '/') {
      if ((unsigned char)c >= (unsigned char)q[0] &&
          (unsigned char)c <= (unsigned char)q[2])
        found = 1;
      q += 3;
      continue;
    }
    if (*q == c)
      found = 1;
    q++;
  }
  if (*q != ']')
    return -1;
  *end = q + 1;
  return found != negate;
}

/* Match one level: pattern [p, pe) against text [s, se). */
static int match_level(const char *p, const char *pe, const char *s,
                       const char *se)
{
  const char *star_p = NULL, *star_s = NULL;

  while (s < se) {
    if (p < pe && *p == '*') {
      while (p < pe && *p == '*')
        p++;
      star_p = p;
      star_s = s;
      continue;
    }
    if (p < pe && *p == '?') {
      p++;
      s++;
      continue;
    }
    if (p < pe && *p == '[') {
      const char *end = NULL;
      int m = match_bracket(p + 1, *s, &end);

      if (m == 1 && end <= pe) {
        p = end;
        s++;
        continue;
      }
      if (m == -1 && *s == '[') {
        p++;
        s++;
        continue;
      }
    } else if (p < pe && *p == *s) {
      p++;
      s++;
      continue;
    }
    /* Mismatch: let the last '*' take one more character. */
    if (!star_p)
      return 0;
    p = star_p;
    s = ++star_s;
  }
  while (p < pe && *p == '*')
    p++;
  return p == pe;
}

static const char *level_end(const char *s)
{
  const char *e = strchr(s, '/');

  return e ? e : s + strlen(s);
}

int cairn__glob_match(const char *pattern, const char *path)
{
  const char *pe = level_end(pattern);
  const char *se;

  if (pe - pattern == 2 && pattern[0] == '*' && pattern[1] == '*') {
    /* `**`: zero levels, or one more level and try again. */
    const char *rest = *pe ? pe + 1 : pe;

    if (!*rest)
      return 1;
    for (;;) {
      if (cairn__glob_match(rest, path))
        return 1;
      se = level_end(path);
      if (!*se)
        return 0;
      path = se + 1;
    }
  }
  se = level_end(path);
  if (!match_level(pattern, pe, path, se))
    return 0;
  if (!*pe && !*se)
    return 1;
  if (!*pe || !*se)
    return 0;
  return cairn__glob_match(pe + 1, se + 1);
}
