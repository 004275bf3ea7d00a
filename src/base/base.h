/* base.h — the bottom of the library: the model object's fields, the
 * sufficient statistics and parameter sets every layer passes around, the
 * error helper and the random numbers.  Every layer may include it; it
 * includes nothing of the library but the public header.  Nothing here is part
 * of the public API.  The layers above, bottom up (docs/architecture.md):
 *   linalg/ dist/ em/kernels.h  →  family/ init/  →  em/pass.h  →  em/driver.h  →  core/core.h */
#ifndef EMGMM_BASE_H
#define EMGMM_BASE_H

#include <stddef.h>
#include <stdint.h>

#include "emgmm.h"

#define EMGMM_LOG_2PI 1.8378770664093454835606594728112
/* scikit-learn adds 10·eps to every N_k so that an empty component divides by
 * something; keeping the same guard keeps results comparable number for number. */
#define EMGMM_NK_EPS (10.0 * 2.220446049250313e-16)

/* Sufficient statistics of one pass, all in double.  Shifted moments: for
 * component k with shift c_k,
 *   nk[k] = Σ r_ik,  s1[k] = Σ r_ik (x_i − c_k),  s2[k] = Σ r_ik (x_i − c_k)(x_i − c_k)ᵀ
 * (s2 full/tied: d×d, upper triangle valid; diag/spherical: the d diagonal terms). */
typedef struct {
    int K, d;
    size_t s2_len; /* doubles per component in s2 */
    double *nk;    /* [K] */
    double *s1;    /* [K][d] */
    double *s2;    /* [K][s2_len] */
    double loglik; /* Σ_i log p(x_i) (E-step passes only) */
} emgmm_stats;

/* calloc for arrays that may be large (src/base/mem.c): zeroed, released
 * with free(), backed by huge pages where the system grants them on request. */
void *emgmm_calloc_big(size_t n, size_t size);

int emgmm_stats_init(emgmm_stats *s, int K, int d, int cov_type);
void emgmm_stats_free(emgmm_stats *s);
/* Zero, and dst += src element by element in a fixed order; of a full or
 * tied s2 only the upper triangle (the lower one is left as it is). */
void emgmm_stats_zero(emgmm_stats *s);
void emgmm_stats_add(emgmm_stats *dst, const emgmm_stats *src);
/* Doubles per component of s2 for a storage type: d² (full, tied) or d. */
size_t emgmm_stats_s2_len(int cov_type, int d);

/* One reseed of a component (see emgmm_model_reseed_event). */
typedef struct {
    int iter, comp;
    double logdens;
} emgmm_reseed_event;

/* The data pass's per-thread workspaces, kept between passes so that each
 * iteration does not map and fault in fresh pages (src/em/pass_impl.h): [0]
 * for the double working type, [1] for float.  A resource of its owner (the
 * model), handed to the pass as an argument; emgmm_pass_cache_free frees it. */
typedef struct {
    void *ws[2];
    void (*ws_free[2])(void *);
} emgmm_pass_cache;

struct emgmm_model {
    int K, d, cov_type; /* cov_type: the storage shape, one of the four */
    int structure;      /* the type or mclust structure it was created with (0..13) */
    /* inner iterations of the iterative mclust structures since fit_init
     * (src/family/mclust.c): M-steps that hit the limit, most iterations */
    int inner_failures, inner_max;
    int fitted;
    int n_threads; /* for predict/score/sample */
    int missing;   /* emgmm_missing_policy of predict/score (set by a fit: params.missing) */
    emgmm_pass_cache pass_cache; /* never copied */
    double *weights;             /* [K] */
    double *means;               /* [K][d] */
    double *covariances;         /* shape of cov_type */
    double *prec_chol;           /* shape of cov_type */
    double *log_det;             /* [K]: log det of the precision Cholesky factor */
    size_t cov_len;              /* doubles in covariances / prec_chol */
    /* fit report */
    int converged, n_iter, best_init;
    double *lb_hist; /* [lb_cap] */
    int lb_cap;
    /* degenerate components (src/em/degenerate.c): the reseeds of this fit,
     * in order; only those with iteration <= n_iter count. */
    emgmm_reseed_event *reseeds; /* [reseed_cap] */
    int n_reseeds, reseed_cap;
    /* distribution (src/dist/comm.c): the communicator handle, copied in as
     * bytes so this header needs no mpi.h, and this rank's first global row.
     * dist_on = 0 (calloc) for a single process; not carried by model_copy. */
    int dist_on;
    long long dist_row0;
    unsigned char dist_comm[16];
    double *dist_buf; /* the all-reduce message, allocated with the communicator */
    size_t dist_buf_len;
    /* accelerated EM (src/em/accel.c): data passes of the current
     * initialisation, and the SQUAREM cycle's state (NULL until first used;
     * freed with the model, not copied) */
    long long n_passes;
    struct emgmm_accel *accel;
    /* last error */
    char errmsg[256];
    long long err_row, err_col;
    int err_comp;
};

/* Records a failure on the model (printf-style detail) and returns status. */
int emgmm_fail(emgmm_model *m, int status, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;
void emgmm_clear_error(emgmm_model *m);

/* Parameter set (weights, means, covariances, precision factors) owned apart
 * from a model, so a fit can build the next parameters and commit them only
 * when every component succeeded. */
typedef struct {
    double *weights, *means, *covariances, *prec_chol, *log_det;
} emgmm_paramset;

int emgmm_paramset_alloc(emgmm_paramset *p, int K, int d, size_t cov_len);
void emgmm_paramset_free(emgmm_paramset *p);
void emgmm_paramset_from_model(emgmm_paramset *dst, const emgmm_model *m);
void emgmm_paramset_to_model(emgmm_model *m, const emgmm_paramset *src);

size_t emgmm_cov_len(int cov_type, int K, int d);

/* ---- random numbers: xoshiro256** seeded by splitmix64 (rng.c) ---- */
typedef struct {
    uint64_t s[4];
} emgmm_rng;
void emgmm_rng_seed(emgmm_rng *r, uint64_t seed, uint64_t stream);
uint64_t emgmm_rng_next(emgmm_rng *r);
double emgmm_rng_uniform(emgmm_rng *r); /* [0, 1) */
double emgmm_rng_normal(emgmm_rng *r);  /* N(0, 1) */
uint64_t emgmm_splitmix64(uint64_t x);
/* A uniform [0,1) number that depends only on (seed, i, j): random
 * initialisation is then the same whatever the blocks and threads. */
double emgmm_hash_uniform(uint64_t seed, uint64_t i, uint64_t j);

#endif
