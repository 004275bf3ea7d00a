/* fit.c — the public fit entry points: each checks the caller's input (params,
 * data, weights), records the missing policy on the model, then hands over to
 * the driver (src/em/driver.c).  And the fit's memory estimate. */
#include <math.h>
#include <stdlib.h>

#include "src/core/core.h"
#include "src/dist/dist.h"
#include "src/em/driver.h"
#include "src/em/pass.h"

/* The checks of a fit's first call, then one initialisation. */
static int checked_init(emgmm_model *m, const emgmm_params *p, const emgmm_data *X, uint64_t stream)
{
    int st = emgmm_params_validate(p);
    if (st) return emgmm_fail(m, st, "invalid fit parameters");
    st = emgmm_check_data(m, X, p->n_threads, p->missing);
    st = emgmm_check_weights(m, X, st);
    if (st) return st;
    return emgmm_driver_init(m, p, X, stream);
}

int emgmm_fit_init(emgmm_model *m, const emgmm_params *p, const emgmm_data *X)
{
    if (!m || !p || !X) return EMGMM_ERR_NULL;
    emgmm_clear_error(m);
    if (emgmm_params_validate(p) == EMGMM_OK) m->missing = p->missing;
    return checked_init(m, p, X, 0);
}

int emgmm_fit_init_at(emgmm_model *m, const emgmm_params *p, const emgmm_data *X, int init_index)
{
    if (!m || !p || !X) return EMGMM_ERR_NULL;
    emgmm_clear_error(m);
    if (init_index < 0) return emgmm_fail(m, EMGMM_ERR_INVALID_PARAM, "init_index must be >= 0");
    if (emgmm_params_validate(p) == EMGMM_OK) m->missing = p->missing;
    return checked_init(m, p, X, (uint64_t)init_index);
}

int emgmm_fit_iterate(emgmm_model *m, const emgmm_params *p, const emgmm_data *X,
                      double *lower_bound)
{
    if (!m || !p || !X) return EMGMM_ERR_NULL;
    emgmm_clear_error(m);
    if (!m->fitted) return emgmm_fail(m, EMGMM_ERR_NOT_FITTED, "call emgmm_fit_init first");
    int st = emgmm_check_shape(m, X);
    if (st) return st;
    /* a rank of a distributed fit may hold no rows */
    if (X->n == 0 && !emgmm_dist_active(m))
        return emgmm_fail(m, EMGMM_ERR_TOO_FEW_SAMPLES, "no samples");
    st = emgmm_params_validate(p);
    if (st) return emgmm_fail(m, st, "invalid fit parameters");
    m->missing = p->missing;
    return emgmm_run_iterate(m, p, X, lower_bound);
}

int emgmm_fit_converged(emgmm_model *m, double tol)
{
    if (!m) return 0;
    return emgmm_run_converged(m, tol);
}

int emgmm_fit(emgmm_model *m, const emgmm_params *p, const emgmm_data *X)
{
    if (!m || !p || !X) return EMGMM_ERR_NULL;
    emgmm_clear_error(m);
    int st = emgmm_params_validate(p);
    if (st) return emgmm_fail(m, st, "invalid fit parameters");
    st = emgmm_check_data(m, X, p->n_threads, p->missing);
    st = emgmm_check_weights(m, X, st);
    if (st) return st;
    m->missing =
        p->missing; /* predict and score on the fitted model read what it was fitted with */
    return emgmm_driver_fit(m, p, X);
}

/* The pass's part comes from the sizes the pass allocates (src/em/pass_impl.h,
 * ws_sizes and shared_bytes); the rest mirrors src/em/driver.c, run.c and
 * step.c (statistics, the next parameters and the shift of each iteration,
 * the snapshots), the model and the initialisation (src/init).  In doubles throughout, as K·d²
 * can overflow size_t. */
double emgmm_fit_memory_estimate(const emgmm_params *p, size_t n_, int d_, int K_,
                                 int covariance_type, int dtype)
{
    const int cov = emgmm_covariance_storage(covariance_type);
    if (!p || d_ < 1 || K_ < 1 || cov < 0 || (dtype != EMGMM_F64 && dtype != EMGMM_F32))
        return -1.0;
    const double n = (double)n_, d = (double)d_, K = (double)K_;
    const int T = emgmm_threads(p->n_threads);
    const int square = cov == EMGMM_COV_FULL || cov == EMGMM_COV_TIED;
    const double s2 = square ? d * d : d;
    const double cov_len = (double)emgmm_cov_len(cov, K_, d_);
    const double stats = 8 * (K + K * d + K * s2);
    const double paramset = 8 * (2 * cov_len + K * d + 2 * K);
    /* a snapshot (src/em/run.c) holds no precision factors for the plain full
     * and tied families (they are recomputed on restore) */
    const int plain = covariance_type < EMGMM_COV_EII;
    const double snapshot =
        8 * ((plain && square ? 1 : 2) * cov_len + K * d + 2 * K) + 8.0 * p->max_iter;
    /* the model and emgmm_fit's snapshot of the start; of the best, too, for n_init > 1 */
    const double model = paramset + 8.0 * p->max_iter + (p->n_init > 1 ? 2 : 1) * snapshot;
    const double pass = dtype == EMGMM_F32 ? emgmm_pass_bytes_f32(K_, d_, cov, p->missing, 1, T)
                                           : emgmm_pass_bytes_f64(K_, d_, cov, p->missing, 1, T);
    /* one step's statistics and next parameters: the plain full family
     * finishes in place in the model's covariance buffer (src/em/step.c),
     * keeping the covariances' diagonals apart (K·d doubles; the lower
     * triangles keep the rest) when the step is emgmm_fit_iterate's, with the
     * data's moments taken first for a reseed.  (A covariance that is not
     * exactly symmetric, which no fit leaves, is copied whole instead.) */
    const int in_place = plain && cov == EMGMM_COV_FULL;
    const double step = in_place ? 8 * (2 * K + 2 * K * d + K) + 8 * K * d +
                                       (p->degenerate == EMGMM_DEGEN_RESEED ? 8 * (d * d + d) : 0.0)
                                 : stats + paramset;
    const double iterate = step + 8 * K * d + 8 * d * d + pass;
    /* an initialisation's pass, and the search's iterations, finish into a
     * parameter set of their own */
    const double init_pass = stats + paramset + 8 * K * d + 8 * d * d + pass;
    double initx = paramset + 8 * K * d;
    const int init = p->init;
    const int search = init == EMGMM_INIT_EMEM || init == EMGMM_INIT_SMEM;
    if (init == EMGMM_INIT_KMEANS || init == EMGMM_INIT_KMEANSPP || search)
        initx += 8 * n + 8 * T * (K * d + K + 1024 * (d + K)) + 8 * 3 * K * d;
    if (init == EMGMM_INIT_KMEANS || init == EMGMM_INIT_RANDOM || search)
        initx += init_pass;                            /* the one M-step runs a pass */
    if (search) initx += paramset + 8.0 * p->max_iter; /* the search's best short run */
    if (p->missing) initx += 8 * n * d; /* the mean-imputed copy the initialisation runs on */
    return model + (initx > iterate ? initx : iterate);
}
