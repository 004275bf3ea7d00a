/* mclust.c — the ten mclust covariance structures that are not one of the
 * four scikit-learn types (those are VVV = full, EEE = tied, VVI = diag,
 * VII = spherical, in their own files).
 *
 * Σ_k = λ_k D_k A_k D_kᵀ: volume λ_k, shape A_k (diagonal, det 1), orientation
 * D_k (orthogonal); E = equal across components, V = varying, I = identity.
 * Every finish needs only N_k and the scatter W_k = Σ_i r_ik (x_i − μ_k)(x_i −
 * μ_k)ᵀ about the new mean (its diagonal w_k for the diagonal structures),
 * which the pass's shifted statistics give: W_k = s2_k − s1_k s1_kᵀ / N_k.
 * With n = Σ N_k, gm(v) = (Π v_j)^(1/d) and Ω_k, L_k the eigenvalues and
 * eigenvectors of W_k (Celeux & Govaert 1995, Pattern Recognition 28:781):
 *
 *   EII  λ I,                 λ = Σ_k tr W_k / (n d)
 *   EEI  diag(Σ_k w_k) / n
 *   EVI  λ B_k,               B_k = diag(w_k) / gm(w_k),  λ = Σ_k gm(w_k) / n
 *   EEV  L_k diag(Σ_j Ω_j / n) L_kᵀ
 *   EVV  λ W_k / |W_k|^(1/d), λ = Σ_k |W_k|^(1/d) / n
 *
 * and, by an inner iteration in every M-step (each update below minimises
 * Σ_k N_k log|Σ_k| + tr(W_k Σ_k⁻¹) over one block with the others fixed, so
 * it never increases; the loop stops when the change is <= params.inner_tol
 * or after params.inner_max_iter, which is counted in m->inner_failures):
 *
 *   VEI  λ_k = Σ_j w_kj / A_j / (d N_k);  A = Σ_k w_k / λ_k, scaled to det 1
 *   VEV  as VEI on the eigenvalues Ω_k, orientation L_k
 *   VEE  C = Σ_k W_k / λ_k scaled to det 1;  λ_k = tr(W_k C⁻¹) / (d N_k)
 *   EVE, VVE  Σ_k = D Λ_k Dᵀ: given D, with b_k = diag(Dᵀ W_k D),
 *        EVE Λ_k = λ b_k / gm(b_k), λ = Σ_k gm(b_k) / n;  VVE Λ_k = b_k / N_k;
 *        given Λ_k, D by the two majorise-minimise steps of Browne &
 *        McNicholas (2014, Stat. Comput. 24:203), as mclust's meeve/mevve:
 *        F = Σ_k (ω_k I − W_k) D Λ_k⁻¹ = P S Rᵀ → D = P Rᵀ  (ω_k = max eig W_k),
 *        H = Σ_k (α_k I − Λ_k⁻¹) Dᵀ W_k = P S Rᵀ → D = (P Rᵀ)ᵀ  (α_k = max Λ_k⁻¹).
 *
 * The inner loops start from A = 1, λ = 1 (as mclust) and, for EVE/VVE,
 * from the eigenvectors of the current model's first covariance during EM
 * iterations (mclust keeps D between iterations) or of Σ_k W_k at the start.
 * Convergence: the largest relative change of the λ_k (VEI, VEE, VEV), or
 * (EVE, VVE) the decrease of the M-step objective in one iteration relative
 * to n·d, mclust's rule (eve_objective): the MM steps converge linearly, and a rule on the
 * parameters at √ε took the limit of 1000 iterations in most M-steps of a
 * large fit (4–5× the cost of VVV's iteration); the objective's change is
 * second order in the parameters' (bench/results/mclust-periter.md).
 * mclust's VVE (mevve, mclust 6) weights the orientation step by the shapes
 * A_k only, not by Λ_k = λ_k A_k: a different fixed point, with a lower
 * likelihood than the exact M-step; params.mclust_compat = 1 reproduces it.  With a tight inner_tol
 * both starts reach the same fixed point on the fixtures' data, which is
 * what the comparison with mclust relies on (tests/mclust); on larger fits
 * the orientation problem (not convex) can have several, and mclust's start
 * (O = I, shapes carried) and this one can reach different ones, neither
 * better throughout (bench/results/mclust-sweep-2026-12-07-zen5.md).
 *
 * reg_covar is added to the finished diagonal; an empty component
 * (EMGMM_ERR_DEGENERATE) or a singular covariance (EMGMM_ERR_NOT_PD) fails
 * the M-step, naming the component where there is one: mclust's NA. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <lapacke.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#include "src/family/family.h"

long emgmm_mclust_n_parameters(int t, int K, int d)
{
    const long G = K, p = d, rot = p * (p - 1) / 2;
    long var;
    switch (t) {
    case EMGMM_COV_EII: var = 1; break;
    case EMGMM_COV_VII: var = G; break;
    case EMGMM_COV_EEI: var = p; break;
    case EMGMM_COV_VEI: var = G + (p - 1); break;
    case EMGMM_COV_EVI: var = 1 + G * (p - 1); break;
    case EMGMM_COV_VVI: var = G * p; break;
    case EMGMM_COV_EEE: var = p * (p + 1) / 2; break;
    case EMGMM_COV_EVE: var = 1 + G * (p - 1) + rot; break;
    case EMGMM_COV_VEE: var = G + (p - 1) + rot; break;
    case EMGMM_COV_VVE: var = G + G * (p - 1) + rot; break;
    case EMGMM_COV_EEV: var = 1 + (p - 1) + G * rot; break;
    case EMGMM_COV_VEV: var = G + (p - 1) + G * rot; break;
    case EMGMM_COV_EVV: var = 1 - G + G * p * (p + 1) / 2; break;
    case EMGMM_COV_VVV: var = G * p * (p + 1) / 2; break;
    default: return 0;
    }
    return var + G * p + G - 1;
}

/* gm(v) = exp(mean log v); 0 when an entry is not positive. */
static double geomean(const double *v, int d, size_t stride)
{
    double s = 0.0;
    for (int j = 0; j < d; j++) {
        const double x = v[(size_t)j * stride];
        if (!(x > 0.0)) return 0.0;
        s += log(x);
    }
    return exp(s / d);
}

/* Scratch shared by the structures. */
typedef struct {
    int K, d;
    const double *nk; /* [K], with the 10ε guard */
    double n;         /* Σ nk */
    double tol;
    int max_iter;
    int iters, failed; /* inner iterations used; 1 when the limit stopped them */
    int compat;        /* params.mclust_compat */
    int bad;           /* component that failed (or -1 for a shared parameter) */
} ctx;

/* Symmetric eigen-decomposition: a (row-major d×d) is replaced by the
 * eigenvectors (column j ↔ w[j], ascending). */
static int eig(int d, double *a, double *w)
{
    return (int)LAPACKE_dsyev(LAPACK_ROW_MAJOR, 'V', 'U', d, a, d, w);
}

/* D = U·Vᵀ from the SVD f = U S Vᵀ (f overwritten); transpose: D = (U Vᵀ)ᵀ. */
static int polar(int d, double *f, double *D, int transpose, double *u, double *vt, double *s,
                 double *superb)
{
    int info = (int)LAPACKE_dgesvd(LAPACK_ROW_MAJOR, 'A', 'A', d, d, f, d, s, u, d, vt, d, superb);
    if (info) return info;
    for (int a = 0; a < d; a++)
        for (int b = 0; b < d; b++) {
            double v = 0.0;
            for (int j = 0; j < d; j++) v += u[(size_t)a * d + j] * vt[(size_t)j * d + b];
            if (transpose)
                D[(size_t)b * d + a] = v;
            else
                D[(size_t)a * d + b] = v;
        }
    return 0;
}

/* ---- diagonal structures: w [K][d] → cov (spherical [K] or diag [K][d]) ---- */
/* VEI: λ_k = Σ_j w_kj / A_j / (d N_k);  A = Σ_k w_k / λ_k, scaled to det 1, in turn. */
static int vei_covariances(ctx *c, const double *w, double *cov)
{
    const int K = c->K, d = c->d;
    double *A = malloc((size_t)(d + 2 * K) * sizeof(double));
    if (!A) return EMGMM_ERR_ALLOC;
    double *lam = A + d, *old = lam + K;
    for (int j = 0; j < d; j++) A[j] = 1.0;
    for (int k = 0; k < K; k++) old[k] = NAN;
    int st = EMGMM_OK, it = 0, conv = 0;
    while (it < c->max_iter && !conv) {
        it++;
        double err = 0.0;
        for (int k = 0; k < K; k++) {
            double s = 0.0;
            for (int j = 0; j < d; j++) s += w[(size_t)k * d + j] / A[j];
            lam[k] = s / (d * c->nk[k]);
            if (!(lam[k] > 0.0) || !isfinite(lam[k])) {
                c->bad = k;
                st = EMGMM_ERR_NOT_PD;
                break;
            }
            const double e = fabs(lam[k] - old[k]) / lam[k];
            err = e > err || e != e ? e : err;
            old[k] = lam[k];
        }
        if (st) break;
        for (int j = 0; j < d; j++) {
            double s = 0.0;
            for (int k = 0; k < K; k++) s += w[(size_t)k * d + j] / lam[k];
            A[j] = s;
        }
        const double g = geomean(A, d, 1);
        if (!(g > 0.0) || !isfinite(g)) {
            c->bad = -1;
            st = EMGMM_ERR_NOT_PD;
            break;
        }
        for (int j = 0; j < d; j++) A[j] /= g;
        conv = err <= c->tol;
    }
    c->iters = it;
    c->failed = st == EMGMM_OK && !conv;
    if (st == EMGMM_OK)
        for (int k = 0; k < K; k++)
            for (int j = 0; j < d; j++) cov[(size_t)k * d + j] = lam[k] * A[j];
    free(A);
    return st;
}

static int diag_structure(int t, ctx *c, const double *w, double *cov)
{
    const int K = c->K, d = c->d;
    switch (t) {
    case EMGMM_COV_EII: {
        double s = 0.0;
        for (size_t i = 0; i < (size_t)K * d; i++) s += w[i];
        for (int k = 0; k < K; k++) cov[k] = s / (c->n * d);
        return EMGMM_OK;
    }
    case EMGMM_COV_EEI:
        for (int j = 0; j < d; j++) {
            double s = 0.0;
            for (int k = 0; k < K; k++) s += w[(size_t)k * d + j];
            for (int k = 0; k < K; k++) cov[(size_t)k * d + j] = s / c->n;
        }
        return EMGMM_OK;
    case EMGMM_COV_EVI: {
        double lam = 0.0;
        for (int k = 0; k < K; k++) {
            const double g = geomean(w + (size_t)k * d, d, 1);
            if (!(g > 0.0)) {
                c->bad = k;
                return EMGMM_ERR_NOT_PD;
            }
            lam += g;
        }
        lam /= c->n;
        for (int k = 0; k < K; k++) {
            const double g = geomean(w + (size_t)k * d, d, 1);
            for (int j = 0; j < d; j++) cov[(size_t)k * d + j] = lam * w[(size_t)k * d + j] / g;
        }
        return EMGMM_OK;
    }
    default: return vei_covariances(c, w, cov);
    }
}

/* ---- full structures: W [K][d][d] (symmetric, overwritten) → cov [K][d][d] ---- */
typedef struct {
    double *E, *Om, *tmp, *tmp2, *u, *vt, *s, *superb, *D, *Dold, *Lam, *omega, *lam, *old;
} fullbuf;

static int fb_alloc(fullbuf *b, int K, int d)
{
    const size_t dd = (size_t)d * d;
    double *p = malloc(((size_t)K * dd + (size_t)K * d + 6 * dd + 2 * (size_t)d + dd + dd +
                        (size_t)K * d + 3 * (size_t)K) *
                       sizeof(double));
    if (!p) return EMGMM_ERR_ALLOC;
    b->E = p;
    p += (size_t)K * dd;
    b->Om = p;
    p += (size_t)K * d;
    b->tmp = p;
    p += dd;
    b->tmp2 = p;
    p += dd;
    b->u = p;
    p += dd;
    b->vt = p;
    p += dd;
    b->D = p;
    p += dd;
    b->Dold = p;
    p += dd;
    b->s = p;
    p += d;
    b->superb = p;
    p += d;
    p += 2 * dd; /* spare */
    b->Lam = p;
    p += (size_t)K * d;
    b->omega = p;
    p += K;
    b->lam = p;
    p += K;
    b->old = p;
    return EMGMM_OK;
}

/* cov_k = V diag(v) Vᵀ (V row-major d×d, columns the vectors). */
static void compose(int d, const double *V, const double *v, double *cov)
{
    for (int a = 0; a < d; a++)
        for (int b = a; b < d; b++) {
            double s = 0.0;
            for (int j = 0; j < d; j++) s += V[(size_t)a * d + j] * v[j] * V[(size_t)b * d + j];
            cov[(size_t)a * d + b] = s;
            cov[(size_t)b * d + a] = s;
        }
}

/* log|S| by Cholesky of a copy (tmp); 1 when S is not positive definite. */
static int logdet_spd(int d, const double *S, double *tmp, double *ld)
{
    memcpy(tmp, S, (size_t)d * d * sizeof(double));
    if (LAPACKE_dpotrf(LAPACK_ROW_MAJOR, 'U', d, tmp, d) != 0) return 1;
    double s = 0.0;
    for (int j = 0; j < d; j++) s += log(tmp[(size_t)j * d + j]);
    *ld = 2.0 * s;
    return 0;
}

/* b_kj = d_jᵀ W_k d_j for D's columns d_j, then Λ_k per EVE/VVE. */
/* What the EVE/VVE inner loop minimises, with Λ_k the optimum given D, and
 * the size of a change that counts as none.  The exact M-step's objective
 * Σ_k N_k log|Σ_k| + tr(W_k Σ_k⁻¹) = Σ_k N_k Σ_j log Λ_kj + n d (its
 * constant left out), to inner_tol·n·d.  mclust's VVE (mclust_compat) steps
 * on another: its target Σ_k tr(W_k D A_k⁻¹ Dᵀ) = d Σ_k N_k gm(Λ_k), to
 * inner_tol·(1 + target), as mevve. */
static double eve_objective(int t, const ctx *c, const double *Lam, double *eps)
{
    const int d = c->d;
    double f = 0.0;
    if (t == EMGMM_COV_VVE && c->compat) {
        for (int k = 0; k < c->K; k++) f += c->nk[k] * geomean(Lam + (size_t)k * d, d, 1);
        f *= d;
        *eps = c->tol * (1.0 + fabs(f));
        return f;
    }
    for (int k = 0; k < c->K; k++) {
        double s = 0.0;
        for (int j = 0; j < d; j++) s += log(Lam[(size_t)k * d + j]);
        f += c->nk[k] * s;
    }
    *eps = c->tol * c->n * d;
    return f;
}

static int eve_shapes(int t, ctx *c, const double *W, const double *D, double *Lam, double *tmp)
{
    const int K = c->K, d = c->d;
    const size_t dd = (size_t)d * d;
    for (int k = 0; k < K; k++) {
        const double *Wk = W + (size_t)k * dd;
        /* tmp = W_k D */
        for (int a = 0; a < d; a++)
            for (int j = 0; j < d; j++) {
                double s = 0.0;
                for (int q = 0; q < d; q++) s += Wk[(size_t)a * d + q] * D[(size_t)q * d + j];
                tmp[(size_t)a * d + j] = s;
            }
        for (int j = 0; j < d; j++) {
            double s = 0.0;
            for (int a = 0; a < d; a++) s += D[(size_t)a * d + j] * tmp[(size_t)a * d + j];
            Lam[(size_t)k * d + j] = s;
        }
    }
    if (t == EMGMM_COV_VVE) {
        for (int k = 0; k < K; k++)
            for (int j = 0; j < d; j++) {
                double *l = &Lam[(size_t)k * d + j];
                *l /= c->nk[k];
                if (!(*l > 0.0) || !isfinite(*l)) {
                    c->bad = k;
                    return EMGMM_ERR_NOT_PD;
                }
            }
        return EMGMM_OK;
    }
    double lam = 0.0;
    for (int k = 0; k < K; k++) {
        const double g = geomean(Lam + (size_t)k * d, d, 1);
        if (!(g > 0.0)) {
            c->bad = k;
            return EMGMM_ERR_NOT_PD;
        }
        for (int j = 0; j < d; j++) Lam[(size_t)k * d + j] /= g;
        lam += g;
    }
    lam /= c->n;
    for (size_t i = 0; i < (size_t)K * d; i++) Lam[i] *= lam;
    return EMGMM_OK;
}

/* EVV: λ W_k / |W_k|^(1/d), λ = Σ_k |W_k|^(1/d) / n. */
static int evv_covariances(ctx *c, const double *W, fullbuf *b, double *cov)
{
    const int K = c->K, d = c->d;
    const size_t dd = (size_t)d * d;
    double lam = 0.0;
    for (int k = 0; k < K; k++) {
        double ld;
        if (logdet_spd(d, W + (size_t)k * dd, b->tmp, &ld)) {
            c->bad = k;
            return EMGMM_ERR_NOT_PD;
        }
        b->lam[k] = exp(ld / d);
        lam += b->lam[k];
    }
    lam /= c->n;
    for (int k = 0; k < K; k++)
        for (size_t i = 0; i < dd; i++)
            cov[(size_t)k * dd + i] = W[(size_t)k * dd + i] * (lam / b->lam[k]);
    return EMGMM_OK;
}

/* EEV and VEV: each W_k's eigenvectors into E_k, its eigenvalues into Ω_k
 * (all positive, else the component is singular). */
static int eigen_scatters(ctx *c, const double *W, fullbuf *b)
{
    const int K = c->K, d = c->d;
    const size_t dd = (size_t)d * d;
    int st = EMGMM_OK;
    for (int k = 0; k < K; k++) {
        memcpy(b->E + (size_t)k * dd, W + (size_t)k * dd, dd * sizeof(double));
        if (eig(d, b->E + (size_t)k * dd, b->Om + (size_t)k * d)) return EMGMM_ERR_INTERNAL;
        for (int j = 0; j < d; j++)
            if (!(b->Om[(size_t)k * d + j] > 0.0)) {
                c->bad = k;
                st = EMGMM_ERR_NOT_PD;
            }
        if (st) return st;
    }
    return EMGMM_OK;
}

/* EEV: L_k diag(Σ_k Ω_k / n) L_kᵀ. */
static void eev_covariances(const ctx *c, fullbuf *b, double *cov)
{
    const int K = c->K, d = c->d;
    const size_t dd = (size_t)d * d;
    double *A = b->s;
    for (int j = 0; j < d; j++) {
        double s = 0.0;
        for (int k = 0; k < K; k++) s += b->Om[(size_t)k * d + j];
        A[j] = s / c->n;
    }
    for (int k = 0; k < K; k++) compose(d, b->E + (size_t)k * dd, A, cov + (size_t)k * dd);
}

/* VEV: the inner iteration of VEI on the eigenvalues Ω_k, orientation L_k. */
static int vev_covariances(ctx *c, fullbuf *b, double *cov, int *it, int *conv)
{
    const int K = c->K, d = c->d;
    const size_t dd = (size_t)d * d;
    double *A = b->s;
    for (int j = 0; j < d; j++) A[j] = 1.0;
    for (int k = 0; k < K; k++) b->old[k] = NAN;
    *conv = 0;
    while (*it < c->max_iter && !*conv) {
        (*it)++;
        double err = 0.0;
        for (int k = 0; k < K; k++) {
            double s = 0.0;
            for (int j = 0; j < d; j++) s += b->Om[(size_t)k * d + j] / A[j];
            b->lam[k] = s / (d * c->nk[k]);
            const double e = fabs(b->lam[k] - b->old[k]) / b->lam[k];
            err = e > err || e != e ? e : err;
            b->old[k] = b->lam[k];
        }
        for (int j = 0; j < d; j++) {
            double s = 0.0;
            for (int k = 0; k < K; k++) s += b->Om[(size_t)k * d + j] / b->lam[k];
            A[j] = s;
        }
        const double g = geomean(A, d, 1);
        if (!(g > 0.0) || !isfinite(g)) {
            c->bad = -1;
            return EMGMM_ERR_NOT_PD;
        }
        for (int j = 0; j < d; j++) A[j] /= g;
        *conv = err <= c->tol;
    }
    for (int k = 0; k < K; k++) {
        for (int j = 0; j < d; j++) b->u[j] = b->lam[k] * A[j];
        compose(d, b->E + (size_t)k * dd, b->u, cov + (size_t)k * dd);
    }
    return EMGMM_OK;
}

/* VEE: C = Σ_k W_k / λ_k scaled to det 1, λ_k = tr(W_k C⁻¹) / (d N_k), in turn. */
static int vee_covariances(ctx *c, const double *W, fullbuf *b, double *cov, int *it, int *conv)
{
    const int K = c->K, d = c->d;
    const size_t dd = (size_t)d * d;
    double *C = b->tmp2, *Ci = b->u;
    for (int k = 0; k < K; k++) {
        b->lam[k] = 1.0;
        b->old[k] = NAN;
    }
    *conv = 0;
    while (*it < c->max_iter && !*conv) {
        (*it)++;
        memset(C, 0, dd * sizeof(double));
        for (int k = 0; k < K; k++)
            for (size_t i = 0; i < dd; i++) C[i] += W[(size_t)k * dd + i] / b->lam[k];
        double ld;
        if (logdet_spd(d, C, b->tmp, &ld)) {
            c->bad = -1;
            return EMGMM_ERR_NOT_PD;
        }
        const double g = exp(ld / d);
        for (size_t i = 0; i < dd; i++) C[i] /= g;
        /* C⁻¹: Cholesky of C / g is tmp / √g; invert it */
        for (size_t i = 0; i < dd; i++) Ci[i] = b->tmp[i] / sqrt(g);
        if (LAPACKE_dpotri(LAPACK_ROW_MAJOR, 'U', d, Ci, d) != 0) {
            c->bad = -1;
            return EMGMM_ERR_NOT_PD;
        }
        for (int a = 0; a < d; a++)
            for (int q = 0; q < a; q++) Ci[(size_t)a * d + q] = Ci[(size_t)q * d + a];
        double err = 0.0;
        for (int k = 0; k < K; k++) {
            double s = 0.0;
            for (size_t i = 0; i < dd; i++) s += W[(size_t)k * dd + i] * Ci[i];
            b->lam[k] = s / (d * c->nk[k]);
            if (!(b->lam[k] > 0.0) || !isfinite(b->lam[k])) {
                c->bad = k;
                return EMGMM_ERR_NOT_PD;
            }
            const double e = fabs(b->lam[k] - b->old[k]) / b->lam[k];
            err = e > err || e != e ? e : err;
            b->old[k] = b->lam[k];
        }
        *conv = err <= c->tol;
    }
    for (int k = 0; k < K; k++)
        for (size_t i = 0; i < dd; i++) cov[(size_t)k * dd + i] = b->lam[k] * C[i];
    return EMGMM_OK;
}

/* EVE/VVE's start: ω_k, the largest eigenvalue of each W_k, and D, the
 * current orientation (warm) or else the pooled scatter's axes. */
static int eve_start(const ctx *c, const double *W, const double *warm, fullbuf *b)
{
    const int K = c->K, d = c->d;
    const size_t dd = (size_t)d * d;
    int st = EMGMM_OK;
    for (int k = 0; k < K && st == EMGMM_OK; k++) {
        memcpy(b->tmp, W + (size_t)k * dd, dd * sizeof(double));
        if (LAPACKE_dsyev(LAPACK_ROW_MAJOR, 'N', 'U', d, b->tmp, d, b->s)) st = EMGMM_ERR_INTERNAL;
        b->omega[k] = b->s[d - 1];
    }
    if (st) return st;
    if (warm) {
        memcpy(b->D, warm, dd * sizeof(double));
    } else {
        memset(b->D, 0, dd * sizeof(double));
        for (int k = 0; k < K; k++)
            for (size_t i = 0; i < dd; i++) b->D[i] += W[(size_t)k * dd + i];
    }
    if (eig(d, b->D, b->s)) return EMGMM_ERR_INTERNAL;
    return EMGMM_OK;
}

/* One EVE/VVE orientation update given the shapes Λ_k: the two
 * majorise-minimise steps (Browne & McNicholas). */
static int eve_orientation_step(int t, const ctx *c, const double *W, fullbuf *b)
{
    const int K = c->K, d = c->d;
    const size_t dd = (size_t)d * d;
    /* mclust's mevve weights VVE's orientation step by the shapes
     * A_k = Λ_k / λ_k alone (params.mclust_compat); the exact step
     * weights by Λ_k⁻¹ */
    for (int k = 0; k < K; k++)
        b->lam[k] = t == EMGMM_COV_VVE && c->compat ? geomean(b->Lam + (size_t)k * d, d, 1) : 1.0;
    /* MM 1: F = Σ_k (ω_k D − W_k D) Λ_k⁻¹ */
    double *F = b->tmp2;
    memset(F, 0, dd * sizeof(double));
    for (int k = 0; k < K; k++) {
        const double *Wk = W + (size_t)k * dd, *L = b->Lam + (size_t)k * d;
        const double sk = b->lam[k];
        for (int a = 0; a < d; a++)
            for (int j = 0; j < d; j++) {
                double s = 0.0;
                for (int q = 0; q < d; q++) s += Wk[(size_t)a * d + q] * b->D[(size_t)q * d + j];
                F[(size_t)a * d + j] += (b->omega[k] * b->D[(size_t)a * d + j] - s) * sk / L[j];
            }
    }
    if (polar(d, F, b->D, 0, b->u, b->vt, b->s, b->superb)) return EMGMM_ERR_INTERNAL;
    /* MM 2: H = Σ_k (α_k I − Λ_k⁻¹) Dᵀ W_k, D = (P Rᵀ)ᵀ */
    memset(F, 0, dd * sizeof(double));
    for (int k = 0; k < K; k++) {
        const double *Wk = W + (size_t)k * dd, *L = b->Lam + (size_t)k * d;
        const double sk = b->lam[k];
        double alpha = 0.0;
        for (int j = 0; j < d; j++) alpha = sk / L[j] > alpha ? sk / L[j] : alpha;
        for (int j = 0; j < d; j++) {
            const double f = alpha - sk / L[j];
            for (int q = 0; q < d; q++) {
                double s = 0.0;
                for (int a = 0; a < d; a++) s += b->D[(size_t)a * d + j] * Wk[(size_t)a * d + q];
                F[(size_t)j * d + q] += f * s;
            }
        }
    }
    if (polar(d, F, b->D, 1, b->u, b->vt, b->s, b->superb)) return EMGMM_ERR_INTERNAL;
    return EMGMM_OK;
}

/* EVE, VVE: Σ_k = D Λ_k Dᵀ, D and Λ_k updated in turn. */
static int eve_covariances(int t, ctx *c, const double *W, const double *warm, fullbuf *b,
                           double *cov, int *it, int *conv)
{
    const int K = c->K, d = c->d;
    const size_t dd = (size_t)d * d;
    int st = eve_start(c, W, warm, b);
    if (st) return st;
    *conv = 0;
    /* convergence on the M-step's objective, as mclust's meeve/mevve:
     * with Λ_k the optimum given D (eve_shapes), Σ_k N_k log|Σ_k| +
     * tr(W_k Σ_k⁻¹) = Σ_k N_k Σ_j log Λ_kj + n d, and the loop stops when
     * an iteration lowers it by at most inner_tol·n·d (for EVE that is
     * mclust's relative change of its target, n d λ).  Each MM step
     * lowers it, so a stop at any point is a generalised M-step: the
     * likelihood still never decreases. */
    st = eve_shapes(t, c, W, b->D, b->Lam, b->tmp);
    if (st) return st;
    double eps_obj;
    double obj = eve_objective(t, c, b->Lam, &eps_obj);
    while (*it < c->max_iter && !*conv) {
        (*it)++;
        st = eve_orientation_step(t, c, W, b);
        if (st) return st;
        st = eve_shapes(t, c, W, b->D, b->Lam, b->tmp);
        if (st) return st;
        const double next_obj = eve_objective(t, c, b->Lam, &eps_obj);
        /* signed: MM never raises its objective, so a rise is rounding at the
         * fixed point (and stops the loop there) */
        *conv = obj - next_obj <= eps_obj;
        obj = next_obj;
    }
    for (int k = 0; k < K; k++) compose(d, b->D, b->Lam + (size_t)k * d, cov + (size_t)k * dd);
    return EMGMM_OK;
}

static int full_structure(int t, ctx *c, double *W, const double *warm, double *cov)
{
    fullbuf b;
    if (fb_alloc(&b, c->K, c->d)) return EMGMM_ERR_ALLOC;
    int st, it = 0, conv = 1;
    switch (t) {
    case EMGMM_COV_EVV: st = evv_covariances(c, W, &b, cov); break;
    case EMGMM_COV_EEV:
        st = eigen_scatters(c, W, &b);
        if (st == EMGMM_OK) eev_covariances(c, &b, cov);
        break;
    case EMGMM_COV_VEV:
        st = eigen_scatters(c, W, &b);
        if (st == EMGMM_OK) st = vev_covariances(c, &b, cov, &it, &conv);
        break;
    case EMGMM_COV_VEE: st = vee_covariances(c, W, &b, cov, &it, &conv); break;
    case EMGMM_COV_EVE:
    case EMGMM_COV_VVE: st = eve_covariances(t, c, W, warm, &b, cov, &it, &conv); break;
    default: st = EMGMM_ERR_INVALID_PARAM; break;
    }
    c->iters = it;
    c->failed = st == EMGMM_OK && !conv;
    free(b.E);
    return st;
}

/* Weights, means and the scatters about the new means (W: [K][d][d] full,
 * [K][d] diagonal) from the shifted statistics; nk ← N_k + 10ε.  An empty
 * component fails the M-step. */
static int weights_means_scatters(emgmm_model *m, const emgmm_stats *st, const double *shift,
                                  double total, double *nk, double *W, emgmm_paramset *out)
{
    const int K = m->K, d = m->d, t = m->structure;
    const size_t dd = (size_t)d * d;
    const int full = m->cov_type == EMGMM_COV_FULL;
    double raw = 0.0;
    for (int k = 0; k < K; k++) raw += st->nk[k];
    const double empty = emgmm_empty_threshold(d, raw);
    for (int k = 0; k < K; k++) {
        if (!(st->nk[k] >= empty)) {
            m->err_comp = k;
            return emgmm_fail(m, EMGMM_ERR_DEGENERATE,
                              "component %d of model %s is empty (N_k = %g)", k,
                              emgmm_mclust_model_name(t), st->nk[k]);
        }
        nk[k] = st->nk[k] + EMGMM_NK_EPS;
        const double *s1 = st->s1 + (size_t)k * d, *s2 = st->s2 + (size_t)k * st->s2_len;
        out->weights[k] = nk[k] / total;
        const double a = st->nk[k] / nk[k];
        for (int i = 0; i < d; i++)
            out->means[(size_t)k * d + i] = shift[(size_t)k * d + i] * a + s1[i] / nk[k];
        if (full) {
            double *Wk = W + (size_t)k * dd;
            for (int i = 0; i < d; i++)
                for (int j = i; j < d; j++) {
                    const double v = s2[(size_t)i * d + j] - s1[i] * s1[j] / nk[k];
                    Wk[(size_t)i * d + j] = v;
                    Wk[(size_t)j * d + i] = v;
                }
        } else {
            for (int j = 0; j < d; j++) W[(size_t)k * d + j] = s2[j] - s1[j] * s1[j] / nk[k];
        }
    }
    return EMGMM_OK;
}

/* reg_covar and the floor on the finished diagonal, as the four types;
 * a covariance left non-finite is singular (c->bad names it). */
static int regularise(const emgmm_model *m, double reg_covar, const double *floor, double *cov,
                      ctx *c)
{
    const int K = m->K, d = m->d;
    const int full = m->cov_type == EMGMM_COV_FULL;
    const size_t per = full ? (size_t)d * d : m->cov_type == EMGMM_COV_DIAG ? (size_t)d : 1;
    int rc = EMGMM_OK;
    for (int k = 0; k < K; k++) {
        double *cv = cov + (size_t)k * per;
        for (int j = 0; j < (per == 1 ? 1 : d); j++) {
            double *v = full ? &cv[(size_t)j * d + j] : &cv[j];
            *v += reg_covar;
            if (floor && *v < floor[j]) *v = floor[j];
        }
        for (size_t i = 0; i < per; i++)
            if (!isfinite(cv[i])) {
                c->bad = k;
                rc = EMGMM_ERR_NOT_PD;
            }
    }
    return rc;
}

/* The M-step's failure in last_error: the singular component (or the shared
 * parameters), or the LAPACK call. */
static int finish_failed(emgmm_model *m, int rc, int bad, double reg_covar)
{
    const int t = m->structure;
    if (rc == EMGMM_ERR_NOT_PD) {
        m->err_comp = bad;
        if (bad >= 0)
            return emgmm_fail(m, rc,
                              "model %s: covariance of component %d is singular (reg_covar=%g)",
                              emgmm_mclust_model_name(t), bad, reg_covar);
        return emgmm_fail(m, rc,
                          "model %s: the shared covariance parameters are singular (reg_covar=%g)",
                          emgmm_mclust_model_name(t), reg_covar);
    }
    if (rc == EMGMM_ERR_INTERNAL)
        return emgmm_fail(m, rc, "model %s: a LAPACK call failed", emgmm_mclust_model_name(t));
    return rc;
}

/* The body, on one thread (LAPACK calls stay on the calling thread, as in
 * src/linalg/chol.c). */
static int finish_1t(emgmm_model *m, const emgmm_params *p, const emgmm_stats *st,
                     const double *shift, double reg_covar, const double *floor,
                     emgmm_paramset *out, int warm_start)
{
    const int K = m->K, d = m->d, t = m->structure;
    const size_t dd = (size_t)d * d;
    const int full = m->cov_type == EMGMM_COV_FULL;
    double total = 0.0;
    for (int k = 0; k < K; k++) total += st->nk[k] + EMGMM_NK_EPS;
    double *nk = malloc(((size_t)K + (size_t)K * (full ? dd : (size_t)d)) * sizeof(double));
    if (!nk) return EMGMM_ERR_ALLOC;
    double *W = nk + K;
    int rc = weights_means_scatters(m, st, shift, total, nk, W, out);
    if (rc) {
        free(nk);
        return rc;
    }
    ctx c = {K,
             d,
             nk,
             total,
             p ? p->inner_tol : 1.4901161193847656e-08,
             p ? p->inner_max_iter : 1000,
             0,
             0,
             p ? p->mclust_compat : 0,
             -1};
    if (full) {
        /* EVE/VVE continue from the orientation of the model being updated
         * (its first covariance's axes) during EM iterations; at K = 1 the
         * axes of W_1 are the exact M-step (Σ = W_1 / N_1, as VVV), which
         * the start from the pooled scatter takes in one inner iteration */
        double *warm = NULL;
        if ((t == EMGMM_COV_EVE || t == EMGMM_COV_VVE) && m->fitted && warm_start && K > 1) {
            warm = m->covariances;
            for (size_t i = 0; i < dd; i++)
                if (!isfinite(warm[i])) warm = NULL;
        }
        rc = full_structure(t, &c, W, warm, out->covariances);
    } else {
        rc = diag_structure(t, &c, W, out->covariances);
    }
    free(nk);
    if (rc == EMGMM_OK) {
        if (c.iters > m->inner_max) m->inner_max = c.iters;
        m->inner_failures += c.failed;
        rc = regularise(m, reg_covar, floor, out->covariances, &c);
    }
    if (rc == EMGMM_OK) {
        int badk = -1;
        rc = emgmm_family_precisions(m->cov_type, K, d, out->covariances, out->prec_chol,
                                     out->log_det, &badk);
        if (rc == EMGMM_ERR_NOT_PD) c.bad = badk;
    }
    return finish_failed(m, rc, c.bad, reg_covar);
}

int emgmm_mclust_finish(emgmm_model *m, const emgmm_params *p, const emgmm_stats *st,
                        const double *shift, double reg_covar, const double *floor,
                        emgmm_paramset *out, int warm_start)
{
    int rc = EMGMM_OK;
#ifdef _OPENMP
#pragma omp parallel num_threads(1)
    {
        omp_set_num_threads(1);
        rc = finish_1t(m, p, st, shift, reg_covar, floor, out, warm_start);
    }
#else
    rc = finish_1t(m, p, st, shift, reg_covar, floor, out, warm_start);
#endif
    return rc;
}
