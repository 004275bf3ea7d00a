/* dist.h — the reduction seam (src/dist/): per-thread statistics summed in a
 * fixed order, then, when distributed, all-reduced over an MPI communicator.
 * Below the family, init and pass layers; calls only into src/base. */
#ifndef EMGMM_DIST_H
#define EMGMM_DIST_H
#include "src/base/base.h"

/* Sums per-thread statistics into out in thread order.  The sum over ranks
 * follows in the pass's caller (emgmm_dist_allreduce_stats), which also sees
 * a pass that failed on this rank and so can agree on the failure. */
void emgmm_reduce_stats(emgmm_stats *out, emgmm_stats *const *parts, int n_parts);
void emgmm_reduce_doubles(double *out, const double *parts, int n_parts, size_t len);

/* Distribution over an MPI communicator (comm.c).  Every function below is a
 * no-op returning its input status when the model has no communicator, so a
 * single process runs exactly the code it always ran.  With one, each is
 * collective: every rank must call it, in the same order, whatever its own
 * status — a rank that failed still takes part, so no rank waits forever. */
int emgmm_dist_active(const emgmm_model *m);
long long emgmm_dist_row_offset(const emgmm_model *m);
/* This rank and the number of ranks (0 and 1 without a communicator). */
void emgmm_dist_rank_size(const emgmm_model *m, int *rank, int *size);
/* Agrees on a status: if any rank's st is not EMGMM_OK, every rank returns
 * the status of the lowest failing rank, with its error message and location
 * copied onto m. */
int emgmm_dist_agree(emgmm_model *m, int st);
/* Sums v[0..n) over the ranks in place and agrees on st in the same message. */
int emgmm_dist_sum(emgmm_model *m, double *v, size_t n, int st);
/* The seam of every data pass that accumulates statistics: sums N_k, Σ r·x,
 * the upper triangle of the second moments (packed), the log-likelihood and
 * *extra (the caller's weight sum; may be NULL) over the ranks, agreeing on st
 * in the same all-reduce.  Every rank then holds the global statistics. */
int emgmm_dist_allreduce_stats(emgmm_model *m, emgmm_stats *s, double *extra, int st);
/* Doubles sent by one emgmm_dist_allreduce_stats: the figure in docs/mpi.md. */
size_t emgmm_dist_stats_doubles(int cov_type, int K, int d);

#endif
