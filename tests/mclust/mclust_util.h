/* mclust_util.h — helpers shared by the tests of tests/mclust (header only). */
#ifndef EMGMM_TESTS_MCLUST_UTIL_H
#define EMGMM_TESTS_MCLUST_UTIL_H

#include <stdlib.h>
#include <string.h>

#include "emgmm.h"

static const char *const mu_models[14] = {"EII", "VII", "EEI", "VEI", "EVI", "VVI", "EEE",
                                          "VEE", "EVE", "VVE", "EEV", "VEV", "EVV", "VVV"};

/* 1 for the structures fitted by an inner iteration. */
static inline int mu_iterative(const char *name)
{
    return !strcmp(name, "VEI") || !strcmp(name, "VEE") || !strcmp(name, "EVE") ||
           !strcmp(name, "VVE") || !strcmp(name, "VEV");
}

/* The model's covariances as full matrices out[K][d][d], whatever the storage. */
static inline void mu_expand(const emgmm_model *m, double *out)
{
    const int K = emgmm_model_n_components(m), d = emgmm_model_n_features(m);
    const int t = emgmm_model_covariance_type(m);
    const double *c = emgmm_model_covariances(m);
    memset(out, 0, (size_t)K * d * d * sizeof(double));
    for (int k = 0; k < K; k++) {
        double *o = out + (size_t)k * d * d;
        for (int i = 0; i < d; i++)
            for (int j = 0; j < d; j++) {
                double v = 0.0;
                if (t == EMGMM_COV_FULL)
                    v = c[(size_t)k * d * d + (size_t)i * d + j];
                else if (t == EMGMM_COV_TIED)
                    v = c[(size_t)i * d + j];
                else if (i == j)
                    v = t == EMGMM_COV_DIAG ? c[(size_t)k * d + j] : c[k];
                o[(size_t)i * d + j] = v;
            }
    }
}

/* Params for a comparison with mclust's me(): an M-step from RESP, then max_iter E/M
 * iterations, no regularisation, the inner iterations converged tightly. */
static inline emgmm_params mu_me_params(const double *resp, int max_iter)
{
    emgmm_params p = emgmm_params_default();
    p.init = EMGMM_INIT_RESP;
    p.init_resp = resp;
    p.reg_covar = 0.0;
    p.tol = 0.0;
    p.max_iter = max_iter;
    p.degenerate = EMGMM_DEGEN_ERROR;
    p.n_threads = 1;
    p.inner_tol = 1e-13;
    p.inner_max_iter = 100000;
    p.mclust_compat = 1; /* mclust's VVE orientation step */
    return p;
}

#endif
