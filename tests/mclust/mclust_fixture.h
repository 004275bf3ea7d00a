/* mclust_fixture.h — reader of the mclust fixtures tests/fixtures/mclust/<set>.txt written by
 * tests/fixtures/make_mclust_fixtures.R: "<key> <count>" sections of numbers (%.17g, or NA),
 * looked up by key.  Header only: the tests of tests/mclust include it once each. */
#ifndef EMGMM_TESTS_MCLUST_FIXTURE_H
#define EMGMM_TESTS_MCLUST_FIXTURE_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    char key[64];
    size_t count;
    double *v;
} mf_section;

typedef struct {
    mf_section *sec;
    size_t nsec;
} mf_file;

static inline void mf_free(mf_file *f)
{
    for (size_t i = 0; i < f->nsec; i++) free(f->sec[i].v);
    free(f->sec);
    f->sec = NULL;
    f->nsec = 0;
}

/* Loads PATH; returns 0, or -1 with a message on stderr. */
static inline int mf_load(mf_file *f, const char *path)
{
    memset(f, 0, sizeof *f);
    FILE *fp = fopen(path, "r");
    if (!fp) {
        fprintf(stderr, "cannot open %s\n", path);
        return -1;
    }
    size_t cap = 0;
    char tok[64];
    int rc = 0;
    while (fscanf(fp, "%63s", tok) == 1) {
        if (tok[0] == '#') {
            int c;
            while ((c = fgetc(fp)) != EOF && c != '\n') {
            }
            continue;
        }
        unsigned long cnt;
        if (fscanf(fp, "%lu", &cnt) != 1) {
            rc = -1;
            break;
        }
        if (f->nsec == cap) {
            cap = cap ? 2 * cap : 64;
            mf_section *s = realloc(f->sec, cap * sizeof *s);
            if (!s) {
                rc = -1;
                break;
            }
            f->sec = s;
        }
        mf_section *s = &f->sec[f->nsec++];
        snprintf(s->key, sizeof s->key, "%s", tok);
        s->count = cnt;
        s->v = malloc((cnt ? cnt : 1) * sizeof(double));
        if (!s->v) {
            rc = -1;
            break;
        }
        for (size_t i = 0; i < cnt && rc == 0; i++) {
            char num[64];
            if (fscanf(fp, "%63s", num) != 1) {
                rc = -1;
                break;
            }
            if (strcmp(num, "NA") == 0) {
                s->v[i] = NAN;
                continue;
            }
            char *end;
            s->v[i] = strtod(num, &end);
            if (*end) rc = -1;
        }
        if (rc) break;
    }
    fclose(fp);
    if (rc) {
        fprintf(stderr, "%s: malformed\n", path);
        mf_free(f);
    }
    return rc;
}

/* Section KEY with COUNT numbers ((size_t)-1: any), or NULL. */
static inline const double *mf_get(const mf_file *f, const char *key, size_t count)
{
    for (size_t i = 0; i < f->nsec; i++)
        if (strcmp(f->sec[i].key, key) == 0)
            return count == (size_t)-1 || f->sec[i].count == count ? f->sec[i].v : NULL;
    return NULL;
}

#endif
