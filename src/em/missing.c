/* missing.c — missing values in the driver: the mean-imputed copy of the
 * data the initialisation runs on.  The pass's own handling (marginal E-step,
 * expected M-step statistics) is in missing_impl.h; the data check in a
 * missing mode is core's (src/core/check.c), imputation under a fitted model
 * too (src/core/impute.c). */
#include <stdlib.h>

#include "src/dist/dist.h"
#include "src/em/driver.h"

static double value_at(const emgmm_data *X, size_t i, size_t j)
{
    return X->dtype == EMGMM_F64 ? ((const double *)X->x)[i * X->ld + j]
                                 : (double)((const float *)X->x)[i * X->ld + j];
}

int emgmm_missing_init_view(emgmm_model *m, int missing, const emgmm_data *X, emgmm_data *view,
                            void **buf)
{
    *view = *X;
    *buf = NULL;
    if (!missing) return EMGMM_OK;
    const size_t n = X->n, d = X->d;
    /* column sums and counts of the observed values, and the NaN count, over
     * every rank: all ranks then agree on whether a copy is needed */
    double *acc = calloc(2 * d + 1, sizeof(double));
    if (!acc) return emgmm_dist_agree(m, EMGMM_ERR_ALLOC);
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < d; j++) {
            const double v = value_at(X, i, j);
            if (v != v) {
                acc[2 * d] += 1.0;
            } else {
                acc[j] += v;
                acc[d + j] += 1.0;
            }
        }
    int st = emgmm_dist_sum(m, acc, 2 * d + 1, EMGMM_OK);
    if (st || acc[2 * d] == 0.0) {
        free(acc);
        return st;
    }
    double *x = NULL;
    if (n > 0) {
        x = malloc(n * d * sizeof(double));
        if (!x) st = EMGMM_ERR_ALLOC;
    }
    st = emgmm_dist_agree(m, st);
    if (st) {
        free(x);
        free(acc);
        return st;
    }
    for (size_t j = 0; j < d; j++) acc[j] = acc[d + j] > 0.0 ? acc[j] / acc[d + j] : 0.0;
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < d; j++) {
            const double v = value_at(X, i, j);
            x[i * d + j] = v != v ? acc[j] : v;
        }
    free(acc);
    *view = emgmm_data_f64(x, n, d, d);
    view->weights = X->weights;
    *buf = x;
    return EMGMM_OK;
}
