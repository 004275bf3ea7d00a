/* fixture.c — parses the scikit-learn fixture files (format documented in
 * tests/fixtures/make_sklearn_fixtures.py).  strtod reads Python's repr exactly. */
#include "fixture.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    char *buf;
    char *p;
    const char *path;
} sk_parser;

static void skip_space_and_comments(sk_parser *ps)
{
    for (;;) {
        while (*ps->p == ' ' || *ps->p == '\n' || *ps->p == '\t' || *ps->p == '\r')
            ps->p++;
        if (*ps->p != '#')
            return;
        while (*ps->p && *ps->p != '\n')
            ps->p++;
    }
}

/* Reads section `key`, which must hold exactly `count` numbers, into a new array. */
static double *read_section(sk_parser *ps, const char *key, size_t count)
{
    skip_space_and_comments(ps);
    const size_t klen = strlen(key);
    if (strncmp(ps->p, key, klen) != 0 || (ps->p[klen] != ' ')) {
        fprintf(stderr, "%s: expected section '%s' at '%.20s'\n", ps->path, key, ps->p);
        return NULL;
    }
    ps->p += klen;
    char *end;
    const unsigned long long got = strtoull(ps->p, &end, 10);
    if (end == ps->p || got != count) {
        fprintf(stderr, "%s: section '%s' holds %llu values, expected %zu\n", ps->path, key, got,
                count);
        return NULL;
    }
    ps->p = end;
    double *v = malloc(sizeof(double) * (count ? count : 1));
    if (!v)
        return NULL;
    for (size_t i = 0; i < count; i++) {
        const double t = strtod(ps->p, &end);
        if (end == ps->p) {
            fprintf(stderr, "%s: section '%s': bad number %zu\n", ps->path, key, i);
            free(v);
            return NULL;
        }
        v[i] = t;
        ps->p = end;
    }
    return v;
}

static int read_scalar(sk_parser *ps, const char *key, double *out)
{
    double *v = read_section(ps, key, 1);
    if (!v)
        return -1;
    *out = v[0];
    free(v);
    return 0;
}

int sk_fixture_load(sk_fixture *f, const char *dir, const char *name)
{
    memset(f, 0, sizeof *f);
    char path[1024];
    snprintf(path, sizeof path, "%s/%s.txt", dir, name);
    FILE *fp = fopen(path, "rb");
    if (!fp) {
        fprintf(stderr, "cannot open %s\n", path);
        return -1;
    }
    fseek(fp, 0, SEEK_END);
    const long size = ftell(fp);
    fseek(fp, 0, SEEK_SET);
    sk_parser ps = {malloc((size_t)size + 1), NULL, path};
    if (!ps.buf || fread(ps.buf, 1, (size_t)size, fp) != (size_t)size) {
        fclose(fp);
        free(ps.buf);
        return -1;
    }
    fclose(fp);
    ps.buf[size] = '\0';
    ps.p = ps.buf;

    double n, d, K, max_iter, n_iter, converged;
    int rc = -1;
    if (read_scalar(&ps, "n", &n) || read_scalar(&ps, "d", &d) || read_scalar(&ps, "k", &K) ||
        read_scalar(&ps, "max_iter", &max_iter) || read_scalar(&ps, "reg_covar", &f->reg_covar))
        goto out;
    f->n = (size_t)n;
    f->d = (int)d;
    f->K = (int)K;
    f->max_iter = (int)max_iter;
    const size_t nd = f->n * (size_t)f->d, kd = (size_t)f->K * f->d, kdd = kd * f->d;
    double *init_prec = NULL;
    if (!(f->x = read_section(&ps, "data", nd)) ||
        !(f->init_w = read_section(&ps, "init_weights", (size_t)f->K)) ||
        !(f->init_mu = read_section(&ps, "init_means", kd)) ||
        !(f->init_cov = read_section(&ps, "init_covariances", kdd)) ||
        !(init_prec = read_section(&ps, "init_precisions", kdd)) ||
        !(f->w = read_section(&ps, "weights", (size_t)f->K)) ||
        !(f->mu = read_section(&ps, "means", kd)) ||
        !(f->cov = read_section(&ps, "covariances", kdd)) ||
        !(f->prec_chol = read_section(&ps, "precisions_cholesky", kdd)))
        goto out;
    free(init_prec); /* scikit-learn's form of the start; emgmm starts from init_covariances */
    if (read_scalar(&ps, "lower_bound", &f->lower_bound) || read_scalar(&ps, "n_iter", &n_iter) ||
        read_scalar(&ps, "converged", &converged) || read_scalar(&ps, "score", &f->score) ||
        read_scalar(&ps, "bic", &f->bic) || read_scalar(&ps, "aic", &f->aic) ||
        !(f->lower_bounds = read_section(&ps, "lower_bounds", (size_t)f->max_iter)))
        goto out;
    f->n_iter = (int)n_iter;
    f->converged = (int)converged;
    rc = 0;
out:
    free(ps.buf);
    if (rc)
        sk_fixture_free(f);
    return rc;
}

void sk_fixture_free(sk_fixture *f)
{
    free(f->x);
    free(f->init_w);
    free(f->init_mu);
    free(f->init_cov);
    free(f->w);
    free(f->mu);
    free(f->cov);
    free(f->prec_chol);
    free(f->lower_bounds);
    memset(f, 0, sizeof *f);
}
