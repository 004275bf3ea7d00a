/* fixture.h — reader for the scikit-learn fixtures in tests/fixtures/<name>.txt written by
 * make_sklearn_fixtures.py: "<key> <count>" sections of whitespace-separated numbers. */
#ifndef EMGMM_TESTS_FIXTURE_H
#define EMGMM_TESTS_FIXTURE_H

#include <stddef.h>

typedef struct {
    size_t n;
    int d, K, max_iter;
    double reg_covar;
    double *x;                           /* [n][d] */
    double *init_w, *init_mu, *init_cov; /* the starting model */
    double *w, *mu, *cov, *prec_chol;    /* scikit-learn's fitted attributes */
    double lower_bound, score, bic, aic;
    int n_iter, converged;
    double *lower_bounds; /* [max_iter]: lower_bound_ of iteration 1..max_iter */
} sk_fixture;

/* Loads <dir>/<name>.txt; returns 0, or -1 with a message on stderr. */
int sk_fixture_load(sk_fixture *f, const char *dir, const char *name);
void sk_fixture_free(sk_fixture *f);

#endif /* EMGMM_TESTS_FIXTURE_H */
