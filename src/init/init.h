/* init.h — initialisations (src/init/): k-means++ and Lloyd's k-means, their
 * distributed k-means|| form, random and from-data starts, and the statistics
 * of given responsibilities.  An initialisation never runs the data pass or
 * the M-step finish itself: it returns either parameters or what the driver's
 * one statistics pass needs (centres to label by, or a random seed), or, for
 * given responsibilities, the statistics themselves.  Calls only into dist/,
 * linalg/, em/kernels.h and base/. */
#ifndef EMGMM_INIT_H
#define EMGMM_INIT_H
#include "src/base/base.h"

/* What an initialisation gives the driver. */
typedef enum {
    EMGMM_START_PARAMS = 0, /* out holds the initial parameters */
    EMGMM_START_LABELS = 1, /* a pass labelling the rows by the nearest of centres [K][d],
                               shifted by centres, then the M-step finish */
    EMGMM_START_RANDOM = 2, /* a pass with random responsibilities from seed, every
                               component shifted by centres[0..d) (the data's mean) */
    EMGMM_START_STATS = 3   /* stats (shifted by centres) are given: the M-step finish */
} emgmm_start_kind;

typedef struct {
    emgmm_start_kind kind;
    double *centres;   /* [K][d]: LABELS the centres, every kind but PARAMS the shift */
    uint64_t seed;     /* RANDOM */
    emgmm_stats stats; /* STATS */
} emgmm_start;

/* Initialisation by p->init (not 'user' or 'emem') on random stream STREAM,
 * into *start (centres allocated here, out filled for START_PARAMS); free
 * with emgmm_start_free.  Collective when distributed. */
int emgmm_init_start(emgmm_model *m, const emgmm_params *p, const emgmm_data *X, uint64_t stream,
                     emgmm_start *start, emgmm_paramset *out);
void emgmm_start_free(emgmm_start *start);
/* The centres [K][d] init 'kmeans' labels by on stream STREAM: k-means++ and
 * Lloyd's iterations (k-means|| when distributed; collective), from p's seed,
 * kmeans_max_iter, kmeans_tol and n_threads.  Nothing in them depends on the
 * covariance type, so one run serves a fit of every type with this K
 * (p->init_centres; the public emgmm_kmeans_centres). */
int emgmm_init_kmeans_centres(emgmm_model *m, const emgmm_params *p, const emgmm_data *X,
                              uint64_t stream, double *centres);
/* The statistics of the caller's responsibilities p->init_resp (resp.c). */
int emgmm_init_from_resp(emgmm_model *m, const emgmm_params *p, const emgmm_data *X,
                         emgmm_start *start);

/* k-means++ centres [K][d] (chosen: their row indices) and Lloyd iterations
 * (kmeans.c). */
int emgmm_kmeanspp(emgmm_model *m, const emgmm_data *X, emgmm_rng *rng, int n_threads,
                   double *centres, size_t *chosen);
int emgmm_kmeans_lloyd(emgmm_model *m, const emgmm_data *X, int max_iter, double tol, int n_threads,
                       double *centres, int *n_iter_out);
/* k-means|| seeding over all ranks' rows, then k-means++ on the weighted
 * candidates (the same on every rank) and up to lloyd_iter distributed Lloyd
 * iterations (kmeans_par.c).  centres [K][d] are the same on every rank. */
int emgmm_dist_kmeans_par(emgmm_model *m, const emgmm_data *X, emgmm_rng *rng, int n_threads,
                          int lloyd_iter, double tol, double *centres);

#endif
