/* fixture_file.c — parses the fixture files (format documented in
 * tests/fixtures/make_sklearn_fixtures.py and make_family_fixtures.py) into keyed sections.
 * strtod reads Python's repr exactly. */
#include "fixture_file.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *slurp(const char *path)
{
    FILE *fp = fopen(path, "rb");
    if (!fp) return NULL;
    char *buf = NULL;
    if (fseek(fp, 0, SEEK_END) == 0) {
        const long size = ftell(fp);
        if (size >= 0 && fseek(fp, 0, SEEK_SET) == 0 && (buf = malloc((size_t)size + 1))) {
            if (fread(buf, 1, (size_t)size, fp) == (size_t)size) {
                buf[size] = '\0';
            } else {
                free(buf);
                buf = NULL;
            }
        }
    }
    fclose(fp);
    return buf;
}

int ff_load(ff_file *f, const char *dir, const char *name)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/family_%s.txt", dir, name);
    return ff_load_path(f, path);
}

int ff_load_path(ff_file *f, const char *path)
{
    memset(f, 0, sizeof *f);
    char *buf = slurp(path);
    if (!buf) {
        fprintf(stderr, "cannot read %s\n", path);
        return -1;
    }
    char *p = buf;
    size_t cap = 0;
    int rc = 0;
    for (;;) {
        while (*p == ' ' || *p == '\n' || *p == '\t' || *p == '\r') p++;
        if (*p == '#') {
            while (*p && *p != '\n') p++;
            continue;
        }
        if (!*p) break;
        if (f->nsec == cap) {
            cap = cap ? 2 * cap : 32;
            ff_section *s = realloc(f->sec, cap * sizeof *s);
            if (!s) {
                rc = -1;
                break;
            }
            f->sec = s;
        }
        ff_section *s = &f->sec[f->nsec];
        size_t kl = strcspn(p, " \t\n");
        if (kl == 0 || kl >= sizeof s->key) {
            fprintf(stderr, "%s: bad section key at '%.20s'\n", path, p);
            rc = -1;
            break;
        }
        memcpy(s->key, p, kl);
        s->key[kl] = '\0';
        p += kl;
        char *end;
        s->count = (size_t)strtoull(p, &end, 10);
        if (end == p || !(s->v = malloc(sizeof(double) * (s->count ? s->count : 1)))) {
            fprintf(stderr, "%s: section '%s': bad count\n", path, s->key);
            rc = -1;
            break;
        }
        f->nsec++;
        p = end;
        for (size_t i = 0; i < s->count; i++) {
            s->v[i] = strtod(p, &end);
            if (end == p) {
                fprintf(stderr, "%s: section '%s': bad number %zu\n", path, s->key, i);
                rc = -1;
                break;
            }
            p = end;
        }
        if (rc) break;
    }
    free(buf);
    if (rc) ff_free(f);
    return rc;
}

void ff_free(ff_file *f)
{
    for (size_t i = 0; i < f->nsec; i++) free(f->sec[i].v);
    free(f->sec);
    memset(f, 0, sizeof *f);
}

static const ff_section *find(const ff_file *f, const char *prefix, const char *key)
{
    char full[160];
    snprintf(full, sizeof full, "%s%s%s", prefix ? prefix : "", prefix ? "." : "", key);
    for (size_t i = 0; i < f->nsec; i++)
        if (!strcmp(f->sec[i].key, full)) return &f->sec[i];
    return NULL;
}

int ff_has(const ff_file *f, const char *prefix, const char *key)
{
    return find(f, prefix, key) != NULL;
}

const double *ff_get(const ff_file *f, const char *prefix, const char *key, size_t count)
{
    const ff_section *s = find(f, prefix, key);
    if (!s) {
        fprintf(stderr, "fixture: no section %s%s%s\n", prefix ? prefix : "", prefix ? "." : "",
                key);
        return NULL;
    }
    if (count != (size_t)-1 && s->count != count) {
        fprintf(stderr, "fixture: section %s holds %zu values, expected %zu\n", s->key, s->count,
                count);
        return NULL;
    }
    return s->v;
}

double ff_scalar(const ff_file *f, const char *prefix, const char *key)
{
    const double *v = ff_get(f, prefix, key, 1);
    return v ? v[0] : NAN;
}
