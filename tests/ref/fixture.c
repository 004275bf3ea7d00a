/* fixture.c — the scikit-learn fixture (format documented in
 * tests/fixtures/make_sklearn_fixtures.py), read by the tests' one fixture reader
 * (tests/common/fixture_file.c) and copied into an sk_fixture. */
#include "fixture.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/fixture_file.h"

/* Section KEY, which must hold exactly COUNT numbers, as a new array. */
static double *dup_section(const ff_file *ff, const char *key, size_t count)
{
    const double *v = ff_get(ff, NULL, key, count);
    if (!v) return NULL;
    double *c = malloc(sizeof(double) * (count ? count : 1));
    if (c) memcpy(c, v, sizeof(double) * count);
    return c;
}

static int read_scalar(const ff_file *ff, const char *key, double *out)
{
    const double *v = ff_get(ff, NULL, key, 1);
    if (!v) return -1;
    *out = v[0];
    return 0;
}

int sk_fixture_load(sk_fixture *f, const char *dir, const char *name)
{
    memset(f, 0, sizeof *f);
    char path[1024];
    snprintf(path, sizeof path, "%s/%s.txt", dir, name);
    ff_file ff;
    if (ff_load_path(&ff, path) != 0) return -1;
    double n, d, K, max_iter, n_iter, converged;
    int rc = -1;
    if (read_scalar(&ff, "n", &n) || read_scalar(&ff, "d", &d) || read_scalar(&ff, "k", &K) ||
        read_scalar(&ff, "max_iter", &max_iter) || read_scalar(&ff, "reg_covar", &f->reg_covar))
        goto out;
    f->n = (size_t)n;
    f->d = (int)d;
    f->K = (int)K;
    f->max_iter = (int)max_iter;
    const size_t nd = f->n * (size_t)f->d, kd = (size_t)f->K * f->d, kdd = kd * f->d;
    /* init_precisions, scikit-learn's form of the start, must be there; emgmm starts from
     * init_covariances */
    if (!(f->x = dup_section(&ff, "data", nd)) ||
        !(f->init_w = dup_section(&ff, "init_weights", (size_t)f->K)) ||
        !(f->init_mu = dup_section(&ff, "init_means", kd)) ||
        !(f->init_cov = dup_section(&ff, "init_covariances", kdd)) ||
        !ff_get(&ff, NULL, "init_precisions", kdd) ||
        !(f->w = dup_section(&ff, "weights", (size_t)f->K)) ||
        !(f->mu = dup_section(&ff, "means", kd)) ||
        !(f->cov = dup_section(&ff, "covariances", kdd)) ||
        !(f->prec_chol = dup_section(&ff, "precisions_cholesky", kdd)))
        goto out;
    if (read_scalar(&ff, "lower_bound", &f->lower_bound) || read_scalar(&ff, "n_iter", &n_iter) ||
        read_scalar(&ff, "converged", &converged) || read_scalar(&ff, "score", &f->score) ||
        read_scalar(&ff, "bic", &f->bic) || read_scalar(&ff, "aic", &f->aic) ||
        !(f->lower_bounds = dup_section(&ff, "lower_bounds", (size_t)f->max_iter)))
        goto out;
    f->n_iter = (int)n_iter;
    f->converged = (int)converged;
    rc = 0;
out:
    ff_free(&ff);
    if (rc) sk_fixture_free(f);
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
