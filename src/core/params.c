/* params.c — fit parameters: defaults, validation, and the names of enums. */
#include <math.h>
#include <string.h>

#include "src/internal.h"

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
    return p;
}

int emgmm_params_validate(const emgmm_params *p)
{
    if (!p) return EMGMM_ERR_NULL;
    if (!(p->tol >= 0.0) || !isfinite(p->tol)) return EMGMM_ERR_INVALID_PARAM;
    if (!(p->reg_covar >= 0.0) || !isfinite(p->reg_covar)) return EMGMM_ERR_INVALID_PARAM;
    if (p->max_iter < 1 || p->n_init < 1) return EMGMM_ERR_INVALID_PARAM;
    if (p->init < EMGMM_INIT_KMEANS || p->init > EMGMM_INIT_EMEM) return EMGMM_ERR_INVALID_PARAM;
    if (p->search_starts < 0 || p->search_iter < 0) return EMGMM_ERR_INVALID_PARAM;
    if (p->n_threads < 0 || p->block_size < 0) return EMGMM_ERR_INVALID_PARAM;
    if (p->kmeans_max_iter < 1 || !(p->kmeans_tol >= 0.0) || !isfinite(p->kmeans_tol))
        return EMGMM_ERR_INVALID_PARAM;
    if (p->missing < EMGMM_MISSING_ERROR || p->missing > EMGMM_MISSING_DROP_EMPTY)
        return EMGMM_ERR_INVALID_PARAM;
    if (p->degenerate != EMGMM_DEGEN_ERROR && p->degenerate != EMGMM_DEGEN_RESEED)
        return EMGMM_ERR_INVALID_PARAM;
    if (!(p->var_floor >= 0.0 && p->var_floor <= 1.0)) return EMGMM_ERR_INVALID_PARAM;
    return EMGMM_OK;
}

static const char *const cov_names[] = {"full", "tied", "diag", "spherical"};
static const char *const missing_names[] = {"error", "nan", "drop-empty-rows"};

const char *emgmm_missing_policy_name(int t)
{
    return (t >= 0 && t < 3) ? missing_names[t] : NULL;
}

int emgmm_missing_policy_from_name(const char *name)
{
    if (!name) return -1;
    for (int i = 0; i < 3; i++)
        if (strcmp(name, missing_names[i]) == 0) return i;
    return -1;
}

static const char *const init_names[] = {"kmeans", "k-means++", "random", "random_from_data",
                                         "user", "emem"};

const char *emgmm_covariance_type_name(int t)
{
    return (t >= 0 && t < 4) ? cov_names[t] : NULL;
}

int emgmm_covariance_type_from_name(const char *name)
{
    if (!name) return -1;
    for (int i = 0; i < 4; i++)
        if (strcmp(name, cov_names[i]) == 0) return i;
    return -1;
}

const char *emgmm_init_method_name(int t)
{
    return (t >= 0 && t < 6) ? init_names[t] : NULL;
}

int emgmm_init_method_from_name(const char *name)
{
    if (!name) return -1;
    for (int i = 0; i < 6; i++)
        if (strcmp(name, init_names[i]) == 0) return i;
    if (strcmp(name, "k-means") == 0) return EMGMM_INIT_KMEANS;
    if (strcmp(name, "em-em") == 0) return EMGMM_INIT_EMEM;
    return -1;
}

emgmm_data emgmm_data_f64(const double *x, size_t n, size_t d, size_t ld)
{
    emgmm_data X = {x, EMGMM_F64, n, d, ld, NULL};
    return X;
}

emgmm_data emgmm_data_f32(const float *x, size_t n, size_t d, size_t ld)
{
    emgmm_data X = {x, EMGMM_F32, n, d, ld, NULL};
    return X;
}
