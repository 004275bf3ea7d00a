/* weights.c — per-sample weights from a file for `fit` and `select`: a
 * weighted fit is the unweighted fit on rows repeated by integer weights
 * (the library's emgmm_data.weights), so --weights 3 on a row counts it three
 * times, in the fit and in select's BIC/AIC. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "mpi_glue.h"
#include "weights.h"

int cli_read_weights(const char *path, const char *data, size_t n, long long row0, double **w)
{
    *w = NULL;
    emgmm_io_read_opts o = emgmm_io_read_opts_default();
    o.missing = 1; /* NaN, NA and empty fields read as NaN, reported below by row */
    o = emgmm_io_resolve_opts(path, &o);
    if (o.format == EMGMM_IO_FMT_RAW_F64 || o.format == EMGMM_IO_FMT_RAW_F32)
        o.dims = 1; /* raw .f64/.f32: one column */
    emgmm_io_matrix mat;
    memset(&mat, 0, sizeof mat);
    const size_t n_all = (size_t)glue_sum((double)n); /* every rank's rows */
    double *v = malloc((n ? n : 1) * sizeof *v);
    size_t positive = 0;
    int rc = v ? CLI_OK : cli_fail(CLI_INTERNAL, "out of memory");
    if (rc == CLI_OK && !strcmp(path, "-") && (!strcmp(data, "-") || glue_size() > 1))
        rc =
            cli_fail(CLI_USAGE, "--weights -: %s",
                     glue_size() > 1 ? "with several MPI ranks the weights must be a file"
                                     : "DATA already comes from stdin; give the weights as a file");
    if (rc == CLI_OK) rc = cli_read_data(path, &o, &mat);
    if (rc == CLI_OK && mat.d != 1)
        rc = cli_fail(CLI_INPUT,
                      "weights file %s has %zu columns; expected one column, a weight for each "
                      "row of %s",
                      path, mat.d, data);
    else if (rc == CLI_OK && mat.n != n_all)
        rc = cli_fail(CLI_INPUT,
                      "weights file %s has %zu rows but %s has %zu; expected one weight per row",
                      path, mat.n, data, n_all);
    for (size_t i = 0; rc == CLI_OK && i < n; i++) {
        const size_t r = (size_t)row0 + i;
        const double x =
            mat.dtype == EMGMM_F32 ? (double)((const float *)mat.x)[r] : ((const double *)mat.x)[r];
        if (isnan(x))
            rc = cli_fail(
                CLI_INPUT,
                "weights file %s: the weight of row %zu is NaN or missing (rows counted from 0)",
                path, r);
        else if (isinf(x))
            rc =
                cli_fail(CLI_INPUT,
                         "weights file %s: the weight of row %zu is infinite (rows counted from 0)",
                         path, r);
        else if (x < 0)
            rc = cli_fail(
                CLI_INPUT,
                "weights file %s: the weight of row %zu is negative (%g; rows counted from 0)",
                path, r, x);
        else {
            v[i] = x;
            positive += x > 0;
        }
    }
    emgmm_io_matrix_free(&mat);
    rc = glue_agree(rc); /* MPI: the lowest failing rank's message, once */
    if (rc == CLI_OK && glue_sum((double)positive) == 0) {
        if (glue_rank() == 0) rc = cli_fail(CLI_INPUT, "weights file %s: all weights are 0", path);
        rc = glue_agree(rc);
    }
    if (rc != CLI_OK) {
        free(v);
        return rc;
    }
    *w = v;
    return CLI_OK;
}

int cli_weighted_loglik(emgmm_model *m, const emgmm_data *X, double *loglik, double *wsum)
{
    *loglik = *wsum = 0.0;
    const size_t bs = X->n < CLI_BLOCK_ROWS ? X->n : CLI_BLOCK_ROWS;
    if (bs == 0) return EMGMM_OK;
    double *ld = malloc(bs * sizeof *ld);
    if (!ld) return EMGMM_ERR_ALLOC;
    int st = EMGMM_OK;
    for (size_t i0 = 0; i0 < X->n && st == EMGMM_OK; i0 += bs) {
        const size_t rows = X->n - i0 < bs ? X->n - i0 : bs;
        emgmm_data b = cli_block(X, i0, rows);
        b.weights = NULL;
        if ((st = emgmm_score_samples(m, &b, ld)) != EMGMM_OK) break;
        for (size_t i = 0; i < rows; i++) {
            const double wi = X->weights ? X->weights[i0 + i] : 1.0;
            if (wi > 0) /* a row of weight 0 is not in the data at all */
                *loglik += wi * ld[i];
            *wsum += wi;
        }
    }
    free(ld);
    return st;
}
