/* params.c — fit parameters: defaults, validation, and the names of enums. */
#include <float.h>
#include <math.h>
#include <string.h>

#include "src/base/base.h"

emgmm_params emgmm_params_default(void)
{
    emgmm_params p;
    memset(&p, 0, sizeof p);
    p.tol = 1e-3;
    p.reg_covar = 1e-6;
    p.max_iter = 100;
    p.n_init = 1;
    p.init = EMGMM_INIT_KMEANS;
    p.seed = 0;
    p.n_threads = 0;
    p.block_size = 0;
    p.kmeans_max_iter = 300;
    p.kmeans_tol = 1e-4;
    p.degenerate = EMGMM_DEGEN_RESEED;
    p.var_floor = 0.0;
    p.missing = EMGMM_MISSING_ERROR;
    p.inner_tol = sqrt(DBL_EPSILON);
    p.inner_max_iter = 1000;
    p.init_resp = NULL;
    p.init_centres = NULL;
    return p;
}

int emgmm_params_validate(const emgmm_params *p)
{
    if (!p) return EMGMM_ERR_NULL;
    if (!(p->tol >= 0.0) || !isfinite(p->tol)) return EMGMM_ERR_INVALID_PARAM;
    if (!(p->reg_covar >= 0.0) || !isfinite(p->reg_covar)) return EMGMM_ERR_INVALID_PARAM;
    if (p->max_iter < 1 || p->n_init < 1) return EMGMM_ERR_INVALID_PARAM;
    if (p->init < EMGMM_INIT_KMEANS || p->init > EMGMM_INIT_SMEM) return EMGMM_ERR_INVALID_PARAM;
    if (p->search_starts < 0 || p->search_iter < 0) return EMGMM_ERR_INVALID_PARAM;
    if (p->init == EMGMM_INIT_RESP && !p->init_resp) return EMGMM_ERR_INVALID_PARAM;
    if (!(p->inner_tol >= 0.0) || !isfinite(p->inner_tol) || p->inner_max_iter < 1 ||
        (p->mclust_compat != 0 && p->mclust_compat != 1))
        return EMGMM_ERR_INVALID_PARAM;
    if (p->n_threads < 0 || p->block_size < 0) return EMGMM_ERR_INVALID_PARAM;
    if (p->kmeans_max_iter < 1 || !(p->kmeans_tol >= 0.0) || !isfinite(p->kmeans_tol))
        return EMGMM_ERR_INVALID_PARAM;
    if (p->missing < EMGMM_MISSING_ERROR || p->missing > EMGMM_MISSING_DROP_EMPTY)
        return EMGMM_ERR_INVALID_PARAM;
    if (p->degenerate != EMGMM_DEGEN_ERROR && p->degenerate != EMGMM_DEGEN_RESEED)
        return EMGMM_ERR_INVALID_PARAM;
    if (!(p->var_floor >= 0.0 && p->var_floor <= 1.0)) return EMGMM_ERR_INVALID_PARAM;
    if (p->accel < EMGMM_ACCEL_NONE || p->accel > EMGMM_ACCEL_ANDERSON)
        return EMGMM_ERR_INVALID_PARAM;
    if (p->pass_kernels < EMGMM_KERNELS_AUTO || p->pass_kernels > EMGMM_KERNELS_GEMM_MSTEP)
        return EMGMM_ERR_INVALID_PARAM;
    return EMGMM_OK;
}

static const char *const cov_names[] = {"full", "tied", "diag", "spherical", "EII", "EEI", "VEI",
                                        "EVI",  "VEE",  "EVE",  "VVE",       "EEV", "VEV", "EVV"};
static const char *const mclust_names[] = {"VVV", "EEE", "VVI", "VII", "EII", "EEI", "VEI",
                                           "EVI", "VEE", "EVE", "VVE", "EEV", "VEV", "EVV"};
static const char *const missing_names[] = {"error", "nan", "drop-empty-rows"};

const char *emgmm_missing_policy_name(int t) { return (t >= 0 && t < 3) ? missing_names[t] : NULL; }

int emgmm_missing_policy_from_name(const char *name)
{
    if (!name) return -1;
    for (int i = 0; i < 3; i++)
        if (strcmp(name, missing_names[i]) == 0) return i;
    return -1;
}

static const char *const init_names[] = {"kmeans", "k-means++", "random", "random_from_data",
                                         "user",   "emem",      "resp",   "smem"};

const char *emgmm_covariance_type_name(int t)
{
    return (t >= 0 && t < EMGMM_N_COV_TYPES) ? cov_names[t] : NULL;
}

const char *emgmm_mclust_model_name(int t)
{
    return (t >= 0 && t < EMGMM_N_COV_TYPES) ? mclust_names[t] : NULL;
}

int emgmm_covariance_type_from_name(const char *name)
{
    if (!name) return -1;
    for (int i = 0; i < 4; i++)
        if (strcmp(name, cov_names[i]) == 0) return i;
    if (strlen(name) != 3) return -1;
    char up[4];
    for (int j = 0; j < 3; j++)
        up[j] = (char)(name[j] >= 'a' && name[j] <= 'z' ? name[j] - 32 : name[j]);
    up[3] = '\0';
    for (int i = 0; i < EMGMM_N_COV_TYPES; i++)
        if (strcmp(up, mclust_names[i]) == 0) return i;
    return -1;
}

int emgmm_covariance_storage(int t)
{
    switch (t) {
    case EMGMM_COV_FULL:
    case EMGMM_COV_TIED:
    case EMGMM_COV_DIAG:
    case EMGMM_COV_SPHERICAL: return t;
    case EMGMM_COV_EII: return EMGMM_COV_SPHERICAL;
    case EMGMM_COV_EEI:
    case EMGMM_COV_VEI:
    case EMGMM_COV_EVI: return EMGMM_COV_DIAG;
    case EMGMM_COV_VEE:
    case EMGMM_COV_EVE:
    case EMGMM_COV_VVE:
    case EMGMM_COV_EEV:
    case EMGMM_COV_VEV:
    case EMGMM_COV_EVV: return EMGMM_COV_FULL;
    default: return -1;
    }
}

const char *emgmm_init_method_name(int t)
{
    return (t >= 0 && t < 8 && t != EMGMM_INIT_RESP) ? init_names[t] : NULL;
}

int emgmm_init_method_from_name(const char *name)
{
    if (!name) return -1;
    for (int i = 0; i < 8; i++)
        if (i != EMGMM_INIT_RESP && strcmp(name, init_names[i]) == 0) return i;
    if (strcmp(name, "k-means") == 0) return EMGMM_INIT_KMEANS;
    if (strcmp(name, "em-em") == 0) return EMGMM_INIT_EMEM;
    if (strcmp(name, "split-merge") == 0) return EMGMM_INIT_SMEM;
    return -1;
}

emgmm_data emgmm_data_f64(const double *x, size_t n, size_t d, size_t ld)
{
    emgmm_data X = {x, EMGMM_F64, n, d, ld, NULL, 0};
    return X;
}

emgmm_data emgmm_data_f32(const float *x, size_t n, size_t d, size_t ld)
{
    emgmm_data X = {x, EMGMM_F32, n, d, ld, NULL, 0};
    return X;
}

static const char *const accel_names[] = {"none", "squarem", "anderson"};

const char *emgmm_accel_method_name(int t) { return (t >= 0 && t < 3) ? accel_names[t] : NULL; }

int emgmm_accel_method_from_name(const char *name)
{
    if (!name) return -1;
    for (int i = 0; i < 3; i++)
        if (strcmp(name, accel_names[i]) == 0) return i;
    return -1;
}
