/* splitmerge.c — the 'smem' initialisation: the em-EM search (search.c),
 * EM to convergence from its best run, then split-and-merge moves (Ueda,
 * Nakano, Ghahramani & Hinton, Neural Computation 12, 2000) while they pay.
 *
 * A local optimum of a mixture often has two components sharing one cluster
 * while another covers two; EM cannot leave it, restarts only find it less
 * often.  A move acts on it directly: merge the two components whose
 * responsibilities are most alike (one slot freed), split the component that
 * fits its points worst into that slot and the old one, run EM from there,
 * and keep the result only when the lower bound rises above the state before
 * the move by more than tol / EMGMM_SMEM_TOL_DIV (search.h).  A rejected
 * move restores that state bit for bit, so every kept move leaves the lower
 * bound higher (tests/search).
 *
 * Differences from Ueda et al.: the trial runs full EM, not partial EM on the
 * three components (a pass costs the same here; full EM lets the neighbours
 * adjust), stopping as soon as it beats the current lower bound (then EM goes
 * on to convergence), after SMEM_TRIAL_ITER iterations, or as soon as its
 * rate of climb cannot take it there in the iterations left; the split candidate
 * is ranked by its kurtosis along the axis it would be split along (a
 * component over two clusters is platykurtic there) rather than a local KL
 * divergence, and a round's candidates pair the first merge candidates with
 * the first split candidates (by rank sum), not every merge with the best
 * split; the split is along the
 * principal axis, moment-matched, not a random perturbation, so the moves are
 * deterministic.  docs/search.md has the measurements. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "src/dist/dist.h"
#include "src/em/driver.h"
#include "src/em/pass.h"
#include "src/em/search.h"
#include "src/family/family.h"

/* Candidate moves tried per round (Ueda et al.'s C_max), the EM iterations a
 * trial gets to beat the current lower bound, and the rows per block of the
 * criteria pass. */
#define SMEM_CANDIDATES 5
#define SMEM_TRIAL_ITER 30
#define SMEM_ROWS 4096
/* The em-EM stage's defaults under 'smem' (params.search_starts/_iter = 0):
 * S = 5 runs of L = 5 iterations (emem alone: 20 and 10). */
#define SMEM_STARTS 5
#define SMEM_ITER 5
/* The search's own tolerance: EMGMM_SMEM_TOL_DIV in search.h. */

typedef struct {
    int i, j;
    double score;
} merge_pair;

typedef struct {
    int k;
    double z;
} split_rank;

/* Split candidates by kurtosis z, lowest first (ties by index). */
static int by_z_asc(const void *a, const void *b)
{
    const split_rank *x = a, *y = b;
    if (x->z < y->z) return -1;
    if (x->z > y->z) return 1;
    return (x->k > y->k) - (x->k < y->k);
}

static int by_score_desc(const void *a, const void *b)
{
    const double x = ((const merge_pair *)a)->score, y = ((const merge_pair *)b)->score;
    if (x > y) return -1;
    if (x < y) return 1;
    /* ties in a fixed order */
    const int ia = ((const merge_pair *)a)->i * 65536 + ((const merge_pair *)a)->j;
    const int ib = ((const merge_pair *)b)->i * 65536 + ((const merge_pair *)b)->j;
    return (ia > ib) - (ia < ib);
}

static double principal_axis(int d, const double *S, double *v, double *t);

/* The axis component k of covariances C (cov_type's storage, d features)
 * is split along when the choice needs no randomness (v, unit), and the
 * variance along it: the principal axis (full, tied), the widest coordinate
 * (diag).  Other types (spherical: no preferred axis) give 0, v as it was.
 * t: d of scratch. */
static double fixed_axis(int d, int cov, const double *C, int k, double *v, double *t)
{
    if (cov == EMGMM_COV_FULL) return principal_axis(d, C + (size_t)k * d * d, v, t);
    if (cov == EMGMM_COV_TIED) return principal_axis(d, C, v, t);
    if (cov == EMGMM_COV_DIAG) {
        const double *Ck = C + (size_t)k * d;
        int best = 0;
        for (int a = 1; a < d; a++) best = Ck[a] > Ck[best] ? a : best;
        memset(v, 0, (size_t)d * sizeof(double));
        v[best] = 1.0;
        return Ck[best];
    }
    return 0.0;
}

/* One pass over the data (in blocks of SMEM_ROWS rows, responsibilities kept
 * only for a block): G = Σ_n w_n r_n r_nᵀ (K×K), and per component the
 * z-score of its kurtosis along the axis a split would use (fixed_axis):
 * with y = vᵀ(x − μ_k), b_k = (Σ w r y⁴ / N_k) / (Σ w r y² / N_k)² against its
 * normal value 3, z = (b − 3) / √(24 / N_k).  Spherical (no such axis):
 * Mardia's multivariate kurtosis b2_k = Σ w r m² / N_k against d(d+2), with m
 * the squared Mahalanobis distance recovered from the responsibility
 * (log g_k = log r + log p(x) − log w_k).  The one-axis statistic is the
 * sharper: a component over two clusters is platykurtic along the line
 * between them (excess about −1.5 for a 2:1 pair) while Mardia's sums d(d+2)
 * terms, d − 1 of them noise (its z for the same pair shrinks about as 1/d).
 * Rows with a missing value count in G only.  Collective. */
static int criteria(emgmm_model *m, const emgmm_params *p, const emgmm_data *X, double *G,
                    double *z)
{
    const int K = m->K, d = m->d;
    const size_t rows = X->n < SMEM_ROWS ? (X->n ? X->n : 1) : SMEM_ROWS;
    double *resp = malloc(rows * (size_t)K * sizeof(double));
    double *logdens = malloc(rows * sizeof(double));
    const size_t nacc = (size_t)K * K + 5 * (size_t)K;
    double *acc = calloc(nacc, sizeof(double));
    /* K axes, d of scratch, then K products va·μ_a */
    double *ax = malloc((((size_t)K + 1) * d + K) * sizeof(double));
    int st = resp && logdens && acc && ax ? EMGMM_OK : EMGMM_ERR_ALLOC;
    double *nk = acc + (size_t)K * K, *m2 = nk + K, *n1 = m2 + K, *y2 = n1 + K, *y4 = y2 + K;
    int use_axis = m->cov_type != EMGMM_COV_SPHERICAL;
    for (int a = 0; st == EMGMM_OK && use_axis && a < K; a++)
        if (!(fixed_axis(d, m->cov_type, m->covariances, a, ax + (size_t)a * d,
                         ax + (size_t)K * d) > 0.0))
            use_axis = 0;
    /* float32 rows: y = va·x − va·μ_a, the second term once per component */
    double *vmu = ax + ((size_t)K + 1) * d;
    for (int a = 0; st == EMGMM_OK && use_axis && a < K; a++) {
        const double *va = ax + (size_t)a * d, *mu = m->means + (size_t)a * d;
        double vm = 0.0;
        for (int c = 0; c < d; c++) vm += va[c] * mu[c];
        vmu[a] = vm;
    }
    const size_t es = X->dtype == EMGMM_F32 ? sizeof(float) : sizeof(double);
    for (size_t i0 = 0; st == EMGMM_OK && i0 < X->n; i0 += rows) {
        emgmm_data sub = *X;
        sub.x = (const char *)X->x + i0 * X->ld * es;
        sub.n = X->n - i0 < rows ? X->n - i0 : rows;
        sub.weights = X->weights ? X->weights + i0 : NULL;
        emgmm_pass pass = {0};
        pass.mode = EMGMM_PASS_ESTEP;
        pass.missing = p->missing;
        pass.n_threads = p->n_threads;
        pass.block_size = (size_t)p->block_size;
        pass.params = p;
        pass.resp = resp;
        pass.logdens = logdens;
        st = emgmm_pass_run_model(m, &pass, &sub);
        for (size_t i = 0; st == EMGMM_OK && i < sub.n; i++) {
            const double w = sub.weights ? sub.weights[i] : 1.0;
            const double *r = resp + i * (size_t)K;
            if (!(w > 0.0) || !isfinite(logdens[i])) continue;
            const char *row = (const char *)sub.x + i * sub.ld * es;
            for (int a = 0; a < K; a++) {
                if (!(r[a] > 1e-12)) continue;
                const double wa = w * r[a];
                for (int b = a; b < K; b++) G[(size_t)a * K + b] += wa * r[b];
                const double lg = log(r[a]) + logdens[i] - log(m->weights[a]);
                const double mah = 2.0 * m->log_det[a] - d * EMGMM_LOG_2PI - 2.0 * lg;
                nk[a] += wa;
                m2[a] += wa * mah * mah;
                if (use_axis) {
                    const double *va = ax + (size_t)a * d, *mu = m->means + (size_t)a * d;
                    double y = 0.0;
                    if (X->dtype == EMGMM_F32) {
                        for (int c = 0; c < d; c++) y += va[c] * ((const float *)row)[c];
                        y -= vmu[a];
                    } else {
                        for (int c = 0; c < d; c++) y += va[c] * (((const double *)row)[c] - mu[c]);
                    }
                    if (isfinite(y)) { /* NaN: a missing value */
                        n1[a] += wa;
                        y2[a] += wa * y * y;
                        y4[a] += wa * y * y * y * y;
                    }
                }
            }
        }
    }
    if (st == EMGMM_OK) memcpy(acc, G, (size_t)K * K * sizeof(double));
    st = emgmm_dist_sum(m, acc, nacc, st);
    if (st == EMGMM_OK) {
        memcpy(G, acc, (size_t)K * K * sizeof(double));
        const double dd = (double)d * (d + 2);
        for (int a = 0; a < K; a++) {
            for (int b = 0; b < a; b++) G[(size_t)a * K + b] = G[(size_t)b * K + a];
            z[a] = nk[a] > 0.0 ? (m2[a] / nk[a] - dd) / sqrt(8.0 * dd / nk[a]) : 0.0;
            if (use_axis) {
                const double v2 = n1[a] > 0.0 ? y2[a] / n1[a] : 0.0;
                z[a] = v2 > 0.0 ? (y4[a] / n1[a] / (v2 * v2) - 3.0) / sqrt(24.0 / n1[a]) : 0.0;
            }
        }
    }
    free(resp);
    free(logdens);
    free(acc);
    free(ax);
    return st;
}

/* The principal axis of a d×d covariance by power iteration (v unit, returns
 * its eigenvalue). */
static double principal_axis(int d, const double *S, double *v, double *t)
{
    for (int i = 0; i < d; i++) v[i] = 1.0 / sqrt((double)d) * (1.0 + 0.01 * i);
    double lam = 0.0;
    for (int it = 0; it < 100; it++) {
        double nrm = 0.0;
        for (int i = 0; i < d; i++) {
            double s = 0.0;
            for (int j = 0; j < d; j++) s += S[(size_t)i * d + j] * v[j];
            t[i] = s;
            nrm += s * s;
        }
        nrm = sqrt(nrm);
        if (!(nrm > 0.0)) return 0.0;
        double change = 0.0;
        for (int i = 0; i < d; i++) {
            const double u = t[i] / nrm;
            change += fabs(u - v[i]);
            v[i] = u;
        }
        lam = nrm;
        if (change < 1e-10) break;
    }
    return lam;
}

/* Components i and j of ps merged into slot i: weights added, mean and
 * covariance moment-matched (tied: one covariance for all, left as it is).
 * t: d of scratch. */
static void merge_components(const emgmm_model *m, emgmm_paramset *ps, int i, int j, double *t)
{
    const int d = m->d, cov = m->cov_type;
    double *w = ps->weights, *mu = ps->means, *C = ps->covariances;
    const double wi = w[i], wj = w[j], wm = wi + wj, fi = wi / wm, fj = wj / wm;
    double *mi = mu + (size_t)i * d, *mj = mu + (size_t)j * d;
    for (int a = 0; a < d; a++) t[a] = fi * mi[a] + fj * mj[a];
    switch (cov) {
    case EMGMM_COV_FULL: {
        double *Ci = C + (size_t)i * d * d, *Cj = C + (size_t)j * d * d;
        for (int a = 0; a < d; a++)
            for (int b = 0; b < d; b++) {
                const double di = (mi[a] - t[a]) * (mi[b] - t[b]),
                             dj = (mj[a] - t[a]) * (mj[b] - t[b]);
                Ci[(size_t)a * d + b] =
                    fi * (Ci[(size_t)a * d + b] + di) + fj * (Cj[(size_t)a * d + b] + dj);
            }
        break;
    }
    case EMGMM_COV_DIAG: {
        double *Ci = C + (size_t)i * d, *Cj = C + (size_t)j * d;
        for (int a = 0; a < d; a++) {
            const double di = (mi[a] - t[a]) * (mi[a] - t[a]), dj = (mj[a] - t[a]) * (mj[a] - t[a]);
            Ci[a] = fi * (Ci[a] + di) + fj * (Cj[a] + dj);
        }
        break;
    }
    case EMGMM_COV_SPHERICAL: {
        double di = 0.0, dj = 0.0;
        for (int a = 0; a < d; a++) {
            di += (mi[a] - t[a]) * (mi[a] - t[a]);
            dj += (mj[a] - t[a]) * (mj[a] - t[a]);
        }
        C[i] = fi * (C[i] + di / d) + fj * (C[j] + dj / d);
        break;
    }
    default: break; /* tied: one covariance for all */
    }
    memcpy(mi, t, (size_t)d * sizeof(double));
    w[i] = wm;
}

/* The axis to split component k along (v, unit) and the variance λ along
 * it: fixed_axis's (full, tied, diag), else a random direction with the
 * k-th stored value (spherical: its variance).  t: d of scratch. */
static double split_axis(const emgmm_model *m, const emgmm_paramset *ps, int k, emgmm_rng *rng,
                         double *v, double *t)
{
    const int d = m->d, cov = m->cov_type;
    if (cov == EMGMM_COV_FULL || cov == EMGMM_COV_TIED || cov == EMGMM_COV_DIAG)
        return fixed_axis(d, cov, ps->covariances, k, v, t);
    double nrm = 0.0;
    for (int a = 0; a < d; a++) {
        v[a] = emgmm_rng_normal(rng);
        nrm += v[a] * v[a];
    }
    nrm = sqrt(nrm);
    for (int a = 0; a < d; a++) v[a] = nrm > 0.0 ? v[a] / nrm : (a == 0);
    return ps->covariances[k];
}

/* Component k of ps split into slots k and j along split_axis: the halves'
 * means sqrt(λ/2) either side, the covariance lowered by λ/2 along that axis
 * (the pair's moments are the old component's), half the weight each. */
static void split_component(const emgmm_model *m, emgmm_paramset *ps, int k, int j, emgmm_rng *rng,
                            double *v, double *t)
{
    const int d = m->d, cov = m->cov_type;
    double *w = ps->weights, *mu = ps->means, *C = ps->covariances;
    const double lam = split_axis(m, ps, k, rng, v, t);
    const double off = sqrt(0.5 * lam);
    double *mk = mu + (size_t)k * d, *mj = mu + (size_t)j * d;
    for (int a = 0; a < d; a++) {
        mj[a] = mk[a] - off * v[a];
        mk[a] += off * v[a];
    }
    w[k] *= 0.5;
    w[j] = w[k];
    switch (cov) {
    case EMGMM_COV_FULL: {
        double *Ckk = C + (size_t)k * d * d, *Cj = C + (size_t)j * d * d;
        for (int a = 0; a < d; a++)
            for (int b = 0; b < d; b++) Ckk[(size_t)a * d + b] -= 0.5 * lam * v[a] * v[b];
        memcpy(Cj, Ckk, (size_t)d * d * sizeof(double));
        break;
    }
    case EMGMM_COV_DIAG: {
        double *Ckk = C + (size_t)k * d, *Cj = C + (size_t)j * d;
        for (int a = 0; a < d; a++) Ckk[a] -= 0.5 * lam * v[a] * v[a];
        memcpy(Cj, Ckk, (size_t)d * sizeof(double));
        break;
    }
    case EMGMM_COV_SPHERICAL: C[j] = C[k]; break;
    default: break;
    }
}

/* The move on the parameter set ps (the current parameters): components i
 * and j merged into slot i, component k split into slots k and j. */
static void make_move(const emgmm_model *m, emgmm_paramset *ps, int i, int j, int k, emgmm_rng *rng,
                      double *v, double *t)
{
    merge_components(m, ps, i, j, t);
    split_component(m, ps, k, j, rng, v, t);
}

/* EM from the model's parameters: until it converges at tol, max_iter
 * iterations, or (beat > −∞) its lower bound exceeds beat.  n_iter and the
 * history restart at 0. */
static int run_em(emgmm_model *m, const emgmm_params *q, const emgmm_data *X, int max_iter,
                  double beat, int *beaten)
{
    m->n_iter = 0;
    m->n_reseeds = 0;
    m->converged = 0;
    emgmm_accel_reset(m);
    *beaten = 0;
    while (m->n_iter < max_iter) {
        const int st = emgmm_run_iterate(m, q, X, NULL);
        if (st) return st;
        const double lb = emgmm_run_lower_bound(m);
        if (lb > beat) {
            *beaten = 1;
            return EMGMM_OK;
        }
        if (emgmm_run_converged(m, q->tol)) break;
        /* a trial that, at its last rate of climb, cannot beat the bound
         * within its iterations is dropped (EM's steps shrink as it
         * converges, so the rate overstates what is left) */
        if (isfinite(beat) && m->n_iter >= 3) {
            const double rate = lb - m->lb_hist[m->n_iter - 2];
            if (lb + (max_iter - m->n_iter) * rate <= beat) break;
        }
    }
    return EMGMM_OK;
}

/* The rounds of moves from the converged state in m (lower bound *cur): each
 * round ranks the candidates once and tries up to SMEM_CANDIDATES of them;
 * the first kept ends the round, a round with none kept ends the search. */
static int moves(emgmm_model *m, const emgmm_params *p, const emgmm_params *q, const emgmm_data *X,
                 uint64_t stream, double *cur, double *trace, int trace_cap, int *n_trace)
{
    const int K = m->K, d = m->d;
    void *snap = emgmm_run_snap_new(m);
    double *G = malloc((size_t)K * K * sizeof(double));
    double *z = malloc((size_t)K * sizeof(double));
    double *v = malloc(2 * (size_t)d * sizeof(double));
    merge_pair *pairs = malloc((size_t)K * (K - 1) / 2 * sizeof *pairs);
    split_rank *splits = malloc((size_t)K * sizeof *splits);
    emgmm_paramset ps = {0};
    int st = snap && G && z && v && pairs && splits ? emgmm_paramset_alloc(&ps, K, d, m->cov_len)
                                                    : EMGMM_ERR_ALLOC;
    emgmm_rng rng;
    emgmm_rng_seed(&rng, p->seed, emgmm_search_run_stream(stream, -1));
    for (int round = 0; st == EMGMM_OK && round < K; round++) {
        emgmm_run_snap_take(snap, m);
        memset(G, 0, (size_t)K * K * sizeof(double));
        st = criteria(m, p, X, G, z);
        if (st) break;
        int np = 0;
        for (int i = 0; i < K; i++)
            for (int j = i + 1; j < K; j++) {
                const double den = sqrt(G[(size_t)i * K + i] * G[(size_t)j * K + j]);
                pairs[np].i = i;
                pairs[np].j = j;
                pairs[np++].score = den > 0.0 ? G[(size_t)i * K + j] / den : 0.0;
            }
        qsort(pairs, (size_t)np, sizeof *pairs, by_score_desc);
        for (int a = 0; a < K; a++) {
            splits[a].k = a;
            splits[a].z = z[a];
        }
        qsort(splits, (size_t)K, sizeof *splits, by_z_asc);
        int accepted = 0;
        /* The candidates: (merge rank, split rank) by their sum, then merge
         * rank — (0,0) (0,1) (1,0) (0,2) (1,1) …  Ueda et al. pair each
         * merge pair with the best split only: a round then tries one split,
         * and when that component is not the one over two clusters no
         * candidate can pay (on well-separated data only the first merge
         * pairs overlap at all, so the later merges are no help either). */
        for (int c = 0, diag = 0, pos = 0; c < SMEM_CANDIDATES && !accepted && st == EMGMM_OK;
             c++) {
            const int mr = pos, sr = diag - pos;
            if (++pos > diag) {
                diag++;
                pos = 0;
            }
            if (mr >= np) continue;
            const int i = pairs[mr].i, j = pairs[mr].j;
            int k = -1, beaten = 0;
            for (int a = 0, skip = sr; a < K && k < 0; a++) {
                if (splits[a].k == i || splits[a].k == j) continue;
                if (skip-- == 0) k = splits[a].k;
            }
            if (k < 0) { /* fewer than sr + 1 outside the pair: the best */
                for (int a = 0; a < K && k < 0; a++)
                    if (splits[a].k != i && splits[a].k != j) k = splits[a].k;
            }
            emgmm_paramset_from_model(&ps, m);
            make_move(m, &ps, i, j, k, &rng, v, v + d);
            int bad = -1;
            if (emgmm_family_precisions(m->cov_type, K, d, ps.covariances, ps.prec_chol, ps.log_det,
                                        &bad))
                continue; /* the split covariance is not PD: not a move */
            emgmm_paramset_to_model(m, &ps);
            st = run_em(m, q, X, SMEM_TRIAL_ITER, *cur + q->tol, &beaten);
            if (st == EMGMM_OK && beaten)
                st = run_em(m, q, X, EMGMM_SMEM_MAX_ITER, INFINITY, &beaten);
            if (st == EMGMM_OK && emgmm_run_lower_bound(m) > *cur + q->tol) {
                *cur = emgmm_run_lower_bound(m);
                if (trace && *n_trace < trace_cap) trace[(*n_trace)++] = *cur;
                accepted = 1;
            } else {
                /* a trial that collapses is a rejected move, not a failed fit */
                if (st == EMGMM_ERR_NOT_PD || st == EMGMM_ERR_DEGENERATE ||
                    st == EMGMM_ERR_NONFINITE) {
                    emgmm_clear_error(m);
                    st = EMGMM_OK;
                }
                emgmm_run_snap_restore(snap, m);
            }
        }
        if (!accepted) break;
    }
    emgmm_paramset_free(&ps);
    emgmm_run_snap_free(snap);
    free(G);
    free(z);
    free(v);
    free(pairs);
    free(splits);
    return st;
}

int emgmm_search_smem(emgmm_model *m, const emgmm_params *p, const emgmm_data *X, uint64_t stream,
                      double *trace, int trace_cap, int *n_trace)
{
    int nt = 0;
    /* the moves do what many starts did: fewer, shorter short runs */
    emgmm_params pe = *p;
    if (pe.search_starts == 0) pe.search_starts = SMEM_STARTS;
    if (pe.search_iter == 0) pe.search_iter = SMEM_ITER;
    int st = emgmm_search_emem(m, &pe, X, stream);
    if (st) return st;
    emgmm_params q = *p;
    q.init = EMGMM_INIT_USER;
    q.tol = p->tol / EMGMM_SMEM_TOL_DIV;
    int beaten = 0;
    st = run_em(m, &q, X, EMGMM_SMEM_MAX_ITER, INFINITY, &beaten);
    if (st) return st;
    double cur = emgmm_run_lower_bound(m);
    if (trace && nt < trace_cap) trace[nt++] = cur;
    if (m->K >= 3) st = moves(m, p, &q, X, stream, &cur, trace, trace_cap, &nt);
    if (n_trace) *n_trace = nt;
    if (st) return st;
    /* as after emem: the search is the initialisation */
    m->n_iter = 0;
    m->n_reseeds = 0;
    m->converged = 0;
    m->fitted = 1;
    emgmm_accel_reset(m);
    emgmm_clear_error(m);
    return EMGMM_OK;
}
