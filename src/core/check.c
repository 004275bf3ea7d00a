/* check.c — the checks of the caller's input that every entry point taking
 * data makes: pointers and shape, every value finite (or, under a missing
 * policy, NaN allowed and Inf not), and a fit's sample weights. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "src/core/core.h"
#include "src/dist/dist.h"
#include "src/linalg/linalg.h"

static double value_at(const emgmm_data *X, size_t i, size_t j)
{
    return X->dtype == EMGMM_F64 ? ((const double *)X->x)[i * X->ld + j]
                                 : (double)((const float *)X->x)[i * X->ld + j];
}

/* The data check of a missing mode: NaN is allowed, ±Inf is not; a row with
 * no observed value is an error (EMGMM_MISSING_NAN) or is counted. */
static int missing_check_data(emgmm_model *m, const emgmm_data *X, int n_threads, int missing)
{
    const size_t n = X->n, d = X->d;
    size_t first_inf = SIZE_MAX, first_empty = SIZE_MAX;
    int T = emgmm_threads(n_threads);
    (void)T;
#ifdef _OPENMP
#pragma omp parallel for num_threads(T) schedule(static) reduction(min : first_inf, first_empty)
#endif
    for (size_t i = 0; i < n; i++) {
        if (first_inf != SIZE_MAX && first_inf < i * d) continue;
        size_t nan = 0;
        for (size_t j = 0; j < d; j++) {
            const double v = value_at(X, i, j);
            if (v != v) {
                nan++;
            } else if (!isfinite(v)) {
                if (i * d + j < first_inf) first_inf = i * d + j;
                break;
            }
        }
        if (nan == d && i < first_empty) first_empty = i;
    }
    const long long off = emgmm_dist_row_offset(m);
    if (first_inf != SIZE_MAX) {
        m->err_row = (long long)(first_inf / d) + off;
        m->err_col = (long long)(first_inf % d);
        return emgmm_fail(m, EMGMM_ERR_NONFINITE, "data contains Inf at row %lld, column %lld",
                          m->err_row, m->err_col);
    }
    if (first_empty != SIZE_MAX && missing == EMGMM_MISSING_NAN) {
        m->err_row = (long long)first_empty + off;
        m->err_col = -1;
        return emgmm_fail(m, EMGMM_ERR_NONFINITE,
                          "row %lld has no observed value (all NaN); drop it, or use the "
                          "drop-empty-rows missing policy",
                          m->err_row);
    }
    return EMGMM_OK;
}

/* The view's own shape, the part that needs no model: pointers, the type,
 * d > 0, ld >= d; with want_d > 0 also d == want_d (checked before ld, so a
 * view wrong in both is reported by its column count).  The message goes to
 * m, which may be NULL (emgmm_data_check has no model: the status alone). */
static int view_shape(emgmm_model *m, const emgmm_data *X, int want_d)
{
    if (!X || (!X->x && X->n > 0)) return EMGMM_ERR_NULL;
    if (X->dtype != EMGMM_F64 && X->dtype != EMGMM_F32)
        return emgmm_fail(m, EMGMM_ERR_INVALID_PARAM, "unknown data type %d", (int)X->dtype);
    if (X->d == 0) return emgmm_fail(m, EMGMM_ERR_NO_FEATURES, "data has 0 columns");
    if (want_d > 0 && X->d != (size_t)want_d)
        return emgmm_fail(m, EMGMM_ERR_SHAPE, "data has %zu columns, the model %d", X->d, want_d);
    if (X->ld < X->d)
        return emgmm_fail(m, EMGMM_ERR_SHAPE, "leading dimension %zu is smaller than %zu columns",
                          X->ld, X->d);
    return EMGMM_OK;
}

/* Shape and pointer checks shared by every entry point that takes data. */
int emgmm_check_shape(emgmm_model *m, const emgmm_data *X)
{
    const int st = view_shape(m, X, m->d);
    if (st) return st;
    if (X->n > (size_t)INT32_MAX * 64 || X->ld > SIZE_MAX / 16 / (X->n ? X->n : 1))
        return emgmm_fail(m, EMGMM_ERR_TOO_LARGE, "data of %zu rows is too large", X->n);
    return EMGMM_OK;
}

/* Whether row i holds a NaN or an infinity: x − x is +0 for every finite x
 * and NaN otherwise, so the row's sum of them is NaN exactly then (a
 * branch-free loop that vectorises; the caller then finds the column). */
static int row_nonfinite(const emgmm_data *X, size_t i)
{
    double s = 0.0;
    if (X->dtype == EMGMM_F64) {
        const double *x = (const double *)X->x + i * X->ld;
#pragma omp simd reduction(+ : s)
        for (size_t j = 0; j < X->d; j++) s += x[j] - x[j];
    } else {
        const float *x = (const float *)X->x + i * X->ld;
#pragma omp simd reduction(+ : s)
        for (size_t j = 0; j < X->d; j++) s += (double)x[j] - (double)x[j];
    }
    return s != s;
}

/* The flat index row·d + col of X's first non-finite value, SIZE_MAX when none. */
static size_t first_nonfinite(const emgmm_data *X, int n_threads)
{
    const size_t n = X->n, d = X->d, ld = X->ld;
    size_t first_bad = SIZE_MAX;
    int T = emgmm_threads(n_threads);
#ifdef _OPENMP
#pragma omp parallel for num_threads(T) schedule(static) reduction(min : first_bad)
#endif
    for (size_t i = 0; i < n; i++) {
        if (first_bad != SIZE_MAX && first_bad < i * d) continue;
        if (!row_nonfinite(X, i)) continue;
        for (size_t j = 0; j < d; j++) {
            double v = X->dtype == EMGMM_F64 ? ((const double *)X->x)[i * ld + j]
                                             : (double)((const float *)X->x)[i * ld + j];
            if (!isfinite(v)) {
                if (i * d + j < first_bad) first_bad = i * d + j;
                break;
            }
        }
    }
    (void)T;
    return first_bad;
}

int emgmm_check_data(emgmm_model *m, const emgmm_data *X, int n_threads, int missing)
{
    int st = emgmm_check_shape(m, X);
    if (st) return st;
    /* emgmm_data_check found every value finite: no NaN, no infinity, no row
     * without an observed value, under any missing policy */
    if (X->finite) return EMGMM_OK;
    if (missing != EMGMM_MISSING_ERROR) return missing_check_data(m, X, n_threads, missing);
    const size_t d = X->d, first_bad = first_nonfinite(X, n_threads);
    if (first_bad != SIZE_MAX) {
        m->err_row = (long long)(first_bad / d) + emgmm_dist_row_offset(m); /* global row */
        m->err_col = (long long)(first_bad % d);
        return emgmm_fail(m, EMGMM_ERR_NONFINITE,
                          "data contains NaN or Inf at row %lld, column %lld", m->err_row,
                          m->err_col);
    }
    return EMGMM_OK;
}

/* Fit-only checks of the sample weights; also counts the rows that carry
 * weight, which must be at least K.  Takes the data check's status: when
 * distributed, the count's all-reduce is also where the ranks agree on it. */
int emgmm_check_weights(emgmm_model *m, const emgmm_data *X, int st)
{
    size_t positive = X->n;
    if (st == EMGMM_OK && X->weights) {
        positive = 0;
        for (size_t i = 0; i < X->n; i++) {
            const double w = X->weights[i];
            if (!isfinite(w) || w < 0.0) {
                const long long row = (long long)i + emgmm_dist_row_offset(m);
                m->err_row = row;
                st =
                    emgmm_fail(m, EMGMM_ERR_BAD_WEIGHTS,
                               "sample weight at row %lld is %g (must be finite and >= 0)", row, w);
                break;
            }
            positive += w > 0.0;
        }
    }
    double count = (double)positive;
    st = emgmm_dist_sum(m, &count, 1, st);
    if (st) return st;
    positive = (size_t)count;
    if (X->weights && positive == 0)
        return emgmm_fail(m, EMGMM_ERR_BAD_WEIGHTS, "all sample weights are 0");
    if (positive < (size_t)m->K)
        return emgmm_fail(m, EMGMM_ERR_TOO_FEW_SAMPLES,
                          "%zu samples (with weight > 0) for %d components", positive, m->K);
    return EMGMM_OK;
}

int emgmm_data_check(emgmm_data *X, int n_threads, long long *row, long long *col)
{
    if (!X || (!X->x && X->n > 0)) return EMGMM_ERR_NULL;
    X->finite = 0;
    if (row) *row = -1;
    if (col) *col = -1;
    const int st = view_shape(NULL, X, 0);
    if (st) return st;
    const size_t bad = first_nonfinite(X, n_threads);
    if (bad != SIZE_MAX) {
        if (row) *row = (long long)(bad / X->d);
        if (col) *col = (long long)(bad % X->d);
        return EMGMM_ERR_NONFINITE;
    }
    X->finite = 1;
    return EMGMM_OK;
}
