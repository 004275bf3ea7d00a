/* model_fields.c — what the JSON (model_json.c) and HDF5 (model_h5.c) model
 * readers share: the header fields' checks and the shapes they imply, and
 * the model built from them, filled in place and committed (issue 22). */
#include <math.h>
#include <string.h>

#include "emgmm_io.h"
#include "io_internal.h"

#define MAX_DIM (1 << 20)

static const char *const cov_names[4] = {"full", "tied", "diag", "spherical"};

int emgmm_io_model_fields(emgmm_io_model_file *mf, const char *kind, const char *cov_name,
                          const char *model_name, int has_model, double K, double d, char *what,
                          size_t wsize)
{
    mf->covariance_type = -1;
    for (int i = 0; cov_name && i < 4; i++)
        if (!strcmp(cov_name, cov_names[i])) mf->covariance_type = i;
    if (mf->covariance_type < 0) {
        if (cov_name)
            snprintf(
                what, wsize,
                "%s 'covariance_type' must be one of full, tied, diag, spherical, not \"%.40s\"",
                kind, cov_name);
        else
            snprintf(what, wsize, "%s 'covariance_type' must be one of full, tied, diag, spherical",
                     kind);
        return -1;
    }
    /* the mclust structure (issue 19), stored in covariance_type's shape; optional */
    mf->structure = mf->covariance_type;
    if (has_model || model_name) {
        const int t = model_name ? emgmm_covariance_type_from_name(model_name) : -1;
        if (t < 0 || emgmm_covariance_storage(t) != mf->covariance_type) {
            snprintf(what, wsize,
                     "%s 'model' must be an mclust model name stored as '%s' (e.g. %s)", kind,
                     cov_names[mf->covariance_type], emgmm_mclust_model_name(mf->covariance_type));
            return -1;
        }
        mf->structure = t;
    }
    if (isnan(K) || isnan(d)) {
        snprintf(what, wsize, "missing %s '%s'", kind, isnan(K) ? "n_components" : "n_features");
        return -1;
    }
    if (!(K == floor(K)) || K < 1 || K > MAX_DIM) {
        snprintf(what, wsize, "%s 'n_components' must be an integer in [1, %d]", kind, MAX_DIM);
        return -1;
    }
    if (!(d == floor(d)) || d < 1 || d > MAX_DIM) {
        snprintf(what, wsize, "%s 'n_features' must be an integer in [1, %d]", kind, MAX_DIM);
        return -1;
    }
    mf->n_components = (int)K;
    mf->n_features = (int)d;
    const size_t k = (size_t)K, dd = (size_t)d;
    mf->cov_size = mf->covariance_type == 0   ? k * dd * dd
                   : mf->covariance_type == 1 ? dd * dd
                   : mf->covariance_type == 2 ? k * dd
                                              : k;
    if (k * dd > ((size_t)1 << 32) || mf->cov_size > ((size_t)1 << 32)) {
        snprintf(what, wsize, "model too large: %zu components × %zu features", k, dd);
        return -1;
    }
    return 0;
}

int emgmm_io_model_dims(const emgmm_io_model_file *mf, const char *array, size_t dims[3])
{
    const size_t k = (size_t)mf->n_components, d = (size_t)mf->n_features;
    if (!strcmp(array, "weights")) {
        dims[0] = k;
        return 1;
    }
    if (!strcmp(array, "means")) {
        dims[0] = k;
        dims[1] = d;
        return 2;
    }
    switch (mf->covariance_type) { /* covariances, precisions_cholesky */
    case 0:
        dims[0] = k;
        dims[1] = dims[2] = d;
        return 3;
    case 1: dims[0] = dims[1] = d; return 2;
    case 2:
        dims[0] = k;
        dims[1] = d;
        return 2;
    default: dims[0] = k; return 1;
    }
}

int emgmm_io_model_create(const emgmm_io_model_file *mf, const char *path, emgmm_model **out,
                          emgmm_io_error *err)
{
    int st = emgmm_model_create(out, mf->n_components, mf->n_features, mf->structure);
    if (st == EMGMM_ERR_ALLOC || st == EMGMM_ERR_TOO_LARGE) {
        emgmm_io_error_set(err, EMGMM_IO_ENOMEM, "out of memory reading %s", path);
        return -1;
    }
    if (st != EMGMM_OK) {
        emgmm_io_error_set(err, EMGMM_IO_EUSAGE,
                           "covariance type '%s' of %s is not supported by this build",
                           emgmm_covariance_type_name(mf->structure), path);
        return -1;
    }
    return 0;
}

int emgmm_io_model_commit(emgmm_model *model, unsigned flags, const char *kind, const char *path,
                          emgmm_io_error *err)
{
    int st = emgmm_model_commit_parameters(model, flags);
    if (st == EMGMM_OK) return 0;
    int comp = -1;
    emgmm_model_error_location(model, NULL, NULL, &comp);
    const char *why = emgmm_model_last_error(model);
    if (st == EMGMM_ERR_ALLOC)
        emgmm_io_error_set(err, EMGMM_IO_ENOMEM, "out of memory reading %s", path);
    else if (strstr(why, "not positive definite") && comp >= 0) {
        /* the file's own name for the matrix, as for every other field */
        char field[64] = "covariances";
        if (emgmm_model_covariance_type(model) != EMGMM_COV_TIED)
            snprintf(field, sizeof field, "covariances[%d]", comp);
        emgmm_io_error_set(err, EMGMM_IO_EINPUT,
                           "bad model file: %s '%s' is not positive definite (%s)", kind, field,
                           path);
    } else
        emgmm_io_error_set(err, EMGMM_IO_EINPUT, "bad model file: %s (%s)", why, path);
    return -1;
}
