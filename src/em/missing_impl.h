/* missing_impl.h — the block pass's handling of missing values (NaN read as
 * missing at random), included by pass_impl.h with its TYPE (src/em/type_on.h).
 *
 * A block's rows are loaded as always; a row with missing coordinates M has
 * them set to 0 in the centred block, i.e. to the centre g, so the block's
 * GEMMs run unchanged over every row.  The incomplete rows then get
 * corrections that cost O(m·d + m³) per row and component (m = |M|), never a
 * per-row factorisation of the d×d observed block:
 *
 * E-step (full, tied).  With P = U·Uᵀ the component's precision, μ' = μ − g,
 * δ0 = x̃ − μ' (x̃ the row with zeros at M), w = (P·δ0)_M and P_MM = L·Lᵀ:
 *   δ_Oᵀ Σ_OO⁻¹ δ_O = δ0ᵀ P δ0 − wᵀ P_MM⁻¹ w = ‖z‖² − ‖L⁻¹w‖²   (Schur complement)
 *   log det Σ_OO    = log det Σ + log det P_MM
 * where ‖z‖² = δ0ᵀPδ0 is what the GEMM path already computed for the row.
 * The identity holds whatever the values at M, so zeros are as good as any.
 *
 * M-step.  The expected statistics given x_O: the missing coordinates take
 * their conditional mean x̂_M = μ'_M − P_MM⁻¹ P_MO δ_O = −P_MM⁻¹ w (in the
 * centred coordinates, because x̃_M = 0), and the conditional covariance
 * P_MM⁻¹ adds to the second moment.  Writing x̂ = x̃ + e (e supported on M),
 * the block's GEMM has already added r·a·aᵀ with a = x̃ − c (c the shift);
 * what remains is r·(a·eᵀ + e·aᵀ + e·eᵀ + P_MM⁻¹), O(m·d) per row and
 * component, added to the upper triangle, and r·e to the first moment.
 *
 * Where the work goes.  w costs m·d per row and component (miss_pw, all
 * components in the vector lanes), the cross terms m·d, P_MM's factor m³/6
 * and P_MM⁻¹ m³/3.  The full family takes a cached pattern's factors, laid
 * out like the lanes (lane_pattern), when the pattern repeats (lane_choice);
 * other rows it factors afresh, 8 components
 * side by side in the vector lanes (lane_estep_row, lane_mstats_row), so the
 * cost does not grow with how many distinct patterns the data hold; the
 * M-step skips groups of 8 components whose responsibilities are all 0.  The
 * tied family (one P_MM per row) and rows with more than EMGMM_MISS_LANE_MAX
 * missing values factor per pattern, with a per-thread cache (miss_pattern).
 *
 * diag / spherical: P is diagonal, so x̂_M = μ'_M, the conditional variance is
 * σ²_M, and the log-density is recomputed directly over the observed
 * coordinates (O(d) per row and component). */

/* Finds the block's incomplete rows, lists their missing coordinates in
 * ascending order and zeroes them in xs.  Without branches on the data (at
 * 10 % missing every test of an entry, and of a row, would be a coin to the
 * branch predictor): each coordinate is written to midx and kept by advancing
 * q when it is missing, each row to mrow and kept by advancing nm when it has
 * a missing value (the writes stay below B·d and B: q and nm never pass the
 * entries and rows seen). */
static void scan_missing(pass_ws *w, size_t nb, size_t d)
{
    size_t nm = 0, q = 0;
    size_t *restrict midx = w->midx;
    if (d <= 64) { /* a row's missing set as a bit mask, zeroed by a blend */
        for (size_t i = 0; i < nb; i++) {
            TYPE *restrict x = w->xs + i * d;
            uint64_t mask = 0;
#pragma omp simd reduction(| : mask)
            for (size_t j = 0; j < d; j++) mask |= (uint64_t)(x[j] != x[j]) << j;
            w->mrow[nm] = i;
            w->mlane[nm] = -1; /* the E-step's lane_choice may set it */
            w->mptr[nm] = q;
            nm += mask != 0;
            if (!mask) continue;
#pragma omp simd
            for (size_t j = 0; j < d; j++) x[j] = x[j] != x[j] ? (TYPE)0 : x[j];
            do {
                midx[q++] = (size_t)__builtin_ctzll(mask);
                mask &= mask - 1;
            } while (mask);
        }
        w->mptr[nm] = q;
        w->nmr = nm;
        return;
    }
    for (size_t i = 0; i < nb; i++) {
        TYPE *restrict x = w->xs + i * d;
        const size_t q0 = q;
        for (size_t j = 0; j < d; j++) {
            const TYPE v = x[j];
            const int nan = v != v;
            midx[q] = j;
            q += (size_t)nan;
            x[j] = nan ? (TYPE)0 : v;
        }
        w->mrow[nm] = i;
        w->mlane[nm] = -1; /* the E-step's lane_choice may set it */
        w->mptr[nm] = q0;
        nm += q != q0;
    }
    w->mptr[nm] = q;
    w->nmr = nm;
}

/* The factor of one missing pattern M (m >= 2) for one precision P of the
 * full or tied family, FAC_LEN(m) doubles: C = P_MM⁻¹ (upper, packed by rows),
 * then log det L with L·Lᵀ = P_MM (NaN when P_MM is not numerically positive
 * definite).  ‖L⁻¹w‖² = wᵀCw, so C alone serves the density and the
 * conditional mean.  Scratch: L (m²) and li (m(m+1)/2). */
#define EMGMM_FAC_LEN(m) ((m) * ((m) + 1) / 2 + 1)

static void miss_factor(const double *P, size_t d, const size_t *M, size_t m, double *fac,
                        double *L, double *li)
{
    double *ldl = fac + m * (m + 1) / 2;
    for (size_t a = 0; a < m; a++)
        for (size_t b = 0; b <= a; b++) L[a * m + b] = P[M[a] * d + M[b]];
    if (emgmm_small_chol(L, m, m) != 0) {
        *ldl = NAN;
        return;
    }
    /* log det L = Σ log L_jj, one log per pattern; the diagonal holds 1/L_jj
     * from here on */
    double prod = 1.0, lacc = 0.0;
    for (size_t j = 0; j < m; j++) {
        prod *= L[j * m + j];
        if (prod > 1e150 || prod < 1e-150) {
            lacc += log(prod);
            prod = 1.0;
        }
        L[j * m + j] = 1.0 / L[j * m + j];
    }
    /* L⁻¹ by columns, packed by rows */
    for (size_t a = 0; a < m; a++) li[a * (a + 1) / 2 + a] = L[a * m + a];
    for (size_t c = 0; c < m; c++)
        for (size_t a = c + 1; a < m; a++) {
            double v = 0.0;
            for (size_t b = c; b < a; b++) v -= L[a * m + b] * li[b * (b + 1) / 2 + c];
            li[a * (a + 1) / 2 + c] = v * L[a * m + a];
        }
    double *C = fac;
    size_t o = 0;
    for (size_t a = 0; a < m; a++)
        for (size_t b = a; b < m; b++) {
            double v = 0.0;
            for (size_t c = b; c < m; c++) v += li[c * (c + 1) / 2 + a] * li[c * (c + 1) / 2 + b];
            C[o++] = v;
        }
    *ldl = lacc + log(prod);
}

static uint64_t miss_hash(const size_t *M, size_t m)
{
    uint64_t h = 0x9e3779b97f4a7c15ULL ^ m;
    for (size_t a = 0; a < m; a++) h = (h ^ (uint64_t)M[a]) * 0x100000001b3ULL;
    return h ^ (h >> 29);
}

/* The factors (one per component for full, one for tied) of pattern M: from
 * the thread's pattern cache, or computed (and cached while there is room).
 * Rows share few patterns when values are missing in blocks (a sensor down),
 * many when entries are missing at random; both gain, the first the most. */
/* The cached factors of pattern M, or NULL; *slotp: where its entry is or would go. */
static const double *miss_lookup(const pass_ws *w, const size_t *M, size_t m, uint64_t h,
                                 size_t *slotp)
{
    size_t slot = (size_t)h & (EMGMM_PC_TAB - 1);
    for (;;) {
        const int32_t e = w->pc_tab[slot];
        if (e < 0) break;
        if (w->pc_h[e] == h && w->pc_m[e] == m &&
            memcmp(w->pc_key + w->pc_koff[e], M, m * sizeof(size_t)) == 0) {
            *slotp = slot;
            return w->pc_fac + w->pc_foff[e];
        }
        slot = (slot + 1) & (EMGMM_PC_TAB - 1);
    }
    *slotp = slot;
    return NULL;
}

/* Whether the cache has room for one more pattern of m values and flen doubles of factors. */
static inline int miss_room(const pass_shared *sh, const pass_ws *w, size_t m, size_t flen)
{
    return w->pc_n < EMGMM_PC_TAB / 2 && w->pc_fn + flen <= sh->pc_fac_max &&
           w->pc_kn + m <= EMGMM_PC_TAB * 8;
}

/* Pattern M (m values, hash h), whose flen doubles of factors were just written
 * at the end of the cache's factor buffer, becomes the cache's next entry, in
 * table slot `slot` (miss_lookup's). */
static inline void miss_register(pass_ws *w, const size_t *M, size_t m, uint64_t h, size_t slot,
                                 size_t flen)
{
    const int32_t e = (int32_t)w->pc_n++;
    w->pc_h[e] = h;
    w->pc_m[e] = m;
    w->pc_koff[e] = w->pc_kn;
    w->pc_foff[e] = w->pc_fn;
    memcpy(w->pc_key + w->pc_kn, M, m * sizeof(size_t));
    w->pc_kn += m;
    w->pc_fn += flen;
    w->pc_tab[slot] = e;
}

static const double *miss_pattern(const pass_shared *sh, pass_ws *w, const size_t *M, size_t m)
{
    const size_t d = sh->d, nf = sh->cov_type == EMGMM_COV_FULL ? sh->K : 1;
    const size_t flen = nf * EMGMM_FAC_LEN(m);
    const uint64_t h = miss_hash(M, m);
    size_t slot;
    const double *hit = miss_lookup(w, M, m, h, &slot);
    if (hit) return hit;
    double *out = w->mfac;
    if (miss_room(sh, w, m, flen)) {
        if (w->pc_fn + flen > w->pc_fcap) {
            size_t nc = w->pc_fcap ? 2 * w->pc_fcap : 4096;
            while (nc < w->pc_fn + flen) nc *= 2;
            double *nb = realloc(w->pc_fac, nc * sizeof(double));
            if (nb) {
                w->pc_fac = nb;
                w->pc_fcap = nc;
            }
        }
        if (w->pc_fn + flen <= w->pc_fcap) out = w->pc_fac + w->pc_fn;
    }
    for (size_t f = 0; f < nf; f++)
        miss_factor(sh->pfull + f * d * d, d, M, m, out + f * EMGMM_FAC_LEN(m), w->mscr + d,
                    w->mscr + d + d * d);
    if (out != w->mfac) miss_register(w, M, m, h, slot, flen);
    return out;
}

/* Row x (centred, zeros at M), component k, full or tied family: the
 * observed-marginal log-density's data-dependent part and, when e is not NULL,
 * the conditional mean in the centred coordinates, e[m] = x̂_M = −P_MM⁻¹w.
 * *logp receives ½m·log 2π − log det L − ½(q0 − ‖L⁻¹w‖²), to be added to
 * cst_k, where q0 = δ0ᵀPδ0 is the GEMM path's.  fac: the pattern's factor for
 * k (m >= 2; NULL for m = 1).  *C is set to P_MM⁻¹ (packed upper; for m = 1 in
 * c1).  scr: 2d doubles.  Returns 0, or nonzero when P_MM is not numerically
 * positive definite. */
static inline __attribute__((always_inline)) int
miss_rowcomp(const pass_shared *sh, const TYPE *x, const size_t *M, size_t m, size_t k, double q0,
             const double *fac, const double *wk, size_t wstride, double *logp, double *e,
             double *c1, const double **C, double *scr)
{
    const size_t d = sh->d;
    const size_t f = sh->cov_type == EMGMM_COV_FULL ? k : 0;
    const double *P = sh->pfull + f * d * d;
    const double *mu = sh->mk + k * d;
    const double half_m = 0.5 * (double)m * EMGMM_LOG_2PI;
    if (m == 1) { /* the common case at low missingness: scalars only */
        const size_t j = M[0];
        const double *pr = P + j * d;
        double w0 = 0.0;
        if (wk) {
            w0 = wk[0];
        } else {
#pragma omp simd reduction(+ : w0)
            for (size_t l = 0; l < d; l++) w0 += pr[l] * ((double)x[l] - mu[l]);
        }
        const double pjj = pr[j];
        if (!(pjj > 0.0)) return 1;
        double quad = q0 - w0 * w0 / pjj;
        if (quad < 0.0) quad = 0.0; /* δ_Oᵀ Σ_OO⁻¹ δ_O >= 0; only rounding makes it less */
        *logp = half_m - 0.5 * sh->lpt[j * sh->kp + k] - 0.5 * quad;
        if (e) {
            e[0] = -w0 / pjj;
            *c1 = 1.0 / pjj;
            *C = c1;
        }
        return 0;
    }
    const double ldl = fac[m * (m + 1) / 2];
    if (ldl != ldl) return 1;
    double *wv = scr, *eo = scr + d;
    for (size_t a = 0; a < m; a++) {
        if (wk) {
            wv[a] = wk[a * wstride];
            continue;
        }
        const double *pr = P + M[a] * d;
        double sacc = 0.0;
#pragma omp simd reduction(+ : sacc)
        for (size_t l = 0; l < d; l++) sacc += pr[l] * ((double)x[l] - mu[l]);
        wv[a] = sacc;
    }
    /* eo = C·w (C = P_MM⁻¹ packed upper by rows); ‖L⁻¹w‖² = w·eo */
    const double *cc = fac;
    for (size_t a = 0; a < m; a++) eo[a] = 0.0;
    size_t o = 0;
    for (size_t a = 0; a < m; a++) {
        eo[a] += cc[o++] * wv[a];
        for (size_t b = a + 1; b < m; b++) {
            const double c = cc[o++];
            eo[a] += c * wv[b];
            eo[b] += c * wv[a];
        }
    }
    double n2 = 0.0;
    for (size_t a = 0; a < m; a++) n2 += wv[a] * eo[a];
    double quad = q0 - n2;
    if (quad < 0.0) quad = 0.0;
    *logp = half_m - ldl - 0.5 * quad;
    if (!e) return 0;
    for (size_t a = 0; a < m; a++) e[a] = -eo[a];
    *C = cc;
    return 0;
}

static void miss_fail(pass_ws *w, size_t i, size_t k)
{
    if (w->err) return;
    w->err = EMGMM_ERR_NOT_PD;
    w->err_row = i;
    w->err_comp = k;
}

/* Doubles of stored conditional moments per component for m missing values. */
#define EMGMM_MISS_SLOT(m) ((m) + (m) * ((m) + 1) / 2)

/* The doubles a row with m missing values keeps in the block's store: the
 * lane path's v = L⁻¹w (m·kp), else conditional moments per component. */
/* whether a row with m missing values may take the full family's lane path */
static inline int lane_row(const pass_shared *sh, size_t m)
{
    return sh->cov_type == EMGMM_COV_FULL && m >= 2 && m <= EMGMM_MISS_LANE_MAX && m < sh->d;
}

/* doubles of one pattern's cached factors in the lanes' layout (lane_pattern) */
static inline size_t lane_flen(const pass_shared *sh, size_t m)
{
    const size_t tri = m * (m + 1) / 2;
    return sh->kp * (2 * tri + m + 2);
}

/* The doubles a row with m missing values may keep in the block's store: the
 * lane path's v = L⁻¹w (m·kp) or conditional moments per component, the more
 * of the two where the row may take either (lane_choice). */
static inline size_t miss_slot_len(const pass_shared *sh, size_t m)
{
    const size_t moments = sh->K * EMGMM_MISS_SLOT(m);
    if (!lane_row(sh, m)) return moments;
    return m * sh->kp > moments ? m * sh->kp : moments;
}

/* Patterns a thread factors per pass for the per-pattern path before new
 * ones go to the lanes, when none of them has been used twice; every cache
 * hit adds one to the budget (lane_choice). */
#define EMGMM_MISS_FEW_PATTERNS 256

/* Doubles of cached factors up to which cache hits extend that budget (4 MiB;
 * a cached row reads only its pattern's P_MM⁻¹, 8·m(m+1)/2 doubles a group).
 * Unbounded, 10,000 patterns of ~5 values (tall at 30 %) went to the cache and
 * ran slower than the lanes (14.1× a complete iteration against 12.8–13.7×
 * at 1 MiB).  At 1 MiB tall 10 % (680 patterns of 2–3 values, 1.37 MiB of
 * factors, and 1820 of 4) left a quarter of its m = 3 patterns and most m = 4
 * rows to the lanes, refactored in the E- and the M-step: 4 MiB took its
 * missing iteration from 0.140 to 0.126 s (miss24, two interleaved runs). */
#define EMGMM_MISS_HOT_FAC ((size_t)1 << 19)

/* Which path a lane-eligible row takes: the per-pattern factors (0) when its
 * pattern is cached, or is new and the cache has room and the pass has
 * factored fewer new patterns than EMGMM_MISS_FEW_PATTERNS plus the pass's
 * cache hits so far; else the lanes (1).  A cached pattern's row costs
 * O(K·(m·d + m²)) against the lanes' O(K·m³) refactorisation (twice: E- and
 * M-step), and a new pattern's factors cost about what one row's lanes do, so
 * each hit pays for one more new pattern while the cache holds fewer than
 * EMGMM_MISS_HOT_FAC doubles: rows sharing few patterns (values
 * missing in blocks) keep the cache, rows with few missing values at random
 * (d = 16 at 10 %: 696 patterns of 1–3 missing values, each in dozens of rows
 * of 2·10⁵) fill it while it pays, and rows whose patterns never repeat (30 %
 * in d = 64) go to the lanes once the first EMGMM_MISS_FEW_PATTERNS are spent;
 * without a cache (pattern_cache_max < 0) every such row takes the lanes.  The
 * E-step records the choice in mlane for the M-step: the cache entry, or −1
 * for the lanes.  Returns the entry of a cached pattern, −2 for a new one to
 * be factored (lane_pattern, into table slot *slotp, hash *hp), else −1. */
static inline int32_t lane_choice(const pass_shared *sh, pass_ws *w, const size_t *M, size_t m,
                                  uint64_t *hp, size_t *slotp)
{
    const uint64_t h = miss_hash(M, m);
    *hp = h;
    if (miss_lookup(w, M, m, h, slotp)) {
        w->pc_hits++;
        return w->pc_tab[*slotp];
    }
    const size_t flen = lane_flen(sh, m);
    if (miss_room(sh, w, m, flen) &&
        (w->pc_new < EMGMM_MISS_FEW_PATTERNS ||
         (w->pc_new < EMGMM_MISS_FEW_PATTERNS + w->pc_hits &&
          w->pc_fn + flen <= EMGMM_MISS_HOT_FAC))) {
        w->pc_new++;
        return -2;
    }
    return -1;
}

/* w->mstored: whether this block's conditional moments are kept for the
 * M-step (a fit of the full/tied families, when the block's need fits the
 * workspace, grown up to miss_store_max). */
static inline __attribute__((always_inline)) void miss_store_room(const pass_shared *sh, pass_ws *w,
                                                                  int store, int diag)
{
    w->mstored = 0;
    if (!store || diag) return;
    size_t need = 0;
    for (size_t q = 0; q < w->nmr; q++) {
        need += miss_slot_len(sh, w->mptr[q + 1] - w->mptr[q]);
    }
    if (need > w->mstore_cap && need <= sh->miss_store_max) {
        double *nbuf = realloc(w->mstore, need * sizeof(double));
        if (nbuf) {
            w->mstore = nbuf;
            w->mstore_cap = need;
        }
    }
    w->mstored = need <= w->mstore_cap && need <= sh->miss_store_max;
}

/* W[a][k] = (P_k·δ0_k)_{M_a} = (P_k x̃)_{M_a} − (P_k μ̃_k)_{M_a} for the
 * row x, for all components at once, 8 at a time in the vector lanes (rows
 * padded to kp).  Up to 8 missing coordinates go together (nA, a constant
 * after inlining), so that 8 independent sums hide the multiply-add's
 * latency; each sum runs over l in order, whatever the blocking. */
static inline __attribute__((always_inline)) void miss_pw_blk(const pass_shared *sh, const TYPE *x,
                                                              const size_t *M, size_t nA, double *W)
{
    const size_t d = sh->d, kp = sh->kp;
    for (size_t k0 = 0; k0 < kp; k0 += 8) {
        const double *pa[8];
        double acc[8][8];
#pragma GCC unroll 8
        for (size_t a = 0; a < nA; a++) {
            pa[a] = sh->pt + M[a] * d * kp + k0;
            const double *restrict pm = sh->pm + M[a] * kp + k0;
#pragma omp simd
            for (size_t k = 0; k < 8; k++) acc[a][k] = -pm[k];
        }
        for (size_t l = 0; l < d; l++) {
            const double xl = (double)x[l];
#pragma GCC unroll 8
            for (size_t a = 0; a < nA; a++) {
                const double *restrict pl = pa[a] + l * kp;
#pragma omp simd
                for (size_t k = 0; k < 8; k++) acc[a][k] += pl[k] * xl;
            }
        }
#pragma GCC unroll 8
        for (size_t a = 0; a < nA; a++) {
            double *restrict wa = W + a * kp + k0;
#pragma omp simd
            for (size_t k = 0; k < 8; k++) wa[k] = acc[a][k];
        }
    }
}

/* BLK(n) for the rows i .. END−1 in blocks of 8, then at most one each of
 * 4, 2 and 1, advancing I: every block kernel of this file takes its block
 * size as a constant, so each call unrolls its n sums into registers. */
#ifndef MISS_BY_8421
#define MISS_BY_8421(I, END, BLK)                                                                  \
    do {                                                                                           \
        for (; (I) + 8 <= (END); (I) += 8) BLK(8);                                                 \
        if ((I) + 4 <= (END)) {                                                                    \
            BLK(4);                                                                                \
            (I) += 4;                                                                              \
        }                                                                                          \
        if ((I) + 2 <= (END)) {                                                                    \
            BLK(2);                                                                                \
            (I) += 2;                                                                              \
        }                                                                                          \
        if ((I) < (END)) BLK(1);                                                                   \
    } while (0)
#endif

static inline __attribute__((always_inline)) void miss_pw(const pass_shared *sh, const TYPE *x,
                                                          const size_t *M, size_t m, double *W)
{
    const size_t kp = sh->kp;
    size_t a = 0;
#define PW_BLK(nA) miss_pw_blk(sh, x, M + a, nA, W + a * kp)
    MISS_BY_8421(a, m, PW_BLK);
#undef PW_BLK
}

/* Row i (full/tied) with one missing value j, every component at once from
 * W[k] = (P_k δ0_k)_j; e2: the stored moments (or NULL), e = x̂_j for the K
 * components, then c = 1/(P_k)_jj for the K (miss_one_mstats). */
static inline __attribute__((always_inline)) void miss_row_one(const pass_shared *sh, pass_ws *w,
                                                               size_t nb, size_t i, size_t i0,
                                                               size_t j, double half_m,
                                                               const double *W, double *restrict e2)
{
    const size_t K = sh->K, kp = sh->kp;
    const double *restrict pjj = sh->pt + (j * sh->d + j) * kp;
    const double *restrict lpj = sh->lpt + j * kp;
    const double *restrict cst = sh->cst;
    double *restrict r = w->r + i;
    int bad = 0;
    /* every component in the vector lanes; a lane whose (P_k)_jj is not
     * positive gets −∞ here and its failure recorded below */
#pragma omp simd reduction(| : bad)
    for (size_t k = 0; k < K; k++) {
        const double pv = W[k], p = pjj[k];
        const int ok = p > 0.0;
        bad |= !ok;
        const double ps = ok ? p : 1.0;
        double quad = 2.0 * (cst[k] - r[k * nb]) - pv * pv / ps;
        if (quad < 0.0) quad = 0.0;
        r[k * nb] = ok ? cst[k] + (half_m - 0.5 * lpj[k] - 0.5 * quad) : -INFINITY;
    }
    if (e2) {
#pragma omp simd
        for (size_t k = 0; k < K; k++) {
            const double p = pjj[k] > 0.0 ? pjj[k] : 1.0;
            e2[k] = -W[k] / p;
            e2[K + k] = 1.0 / p;
        }
    }
    if (bad)
        for (size_t k = 0; k < K; k++)
            if (!(pjj[k] > 0.0)) miss_fail(w, i0 + i, k);
}

/* The diagonal families' log-density of row x's observed coordinates under
 * component k, less log π_k + const (the row's missing set M, m of them). */
static inline __attribute__((always_inline)) double
miss_diag(const pass_shared *sh, const TYPE *x, const size_t *M, size_t m, size_t k, double half_m)
{
    const size_t d = sh->d;
    const double *pk = sh->pk + k * d, *mk = sh->mk + k * d, *lp = sh->lpk + k * d;
    double qo = 0.0, lm = 0.0;
    size_t a = 0;
    for (size_t j = 0; j < d; j++) {
        if (a < m && M[a] == j) {
            lm += lp[j];
            a++;
            continue;
        }
        const double df = (double)x[j] - mk[j];
        qo += pk[j] * df * df;
    }
    return sh->cst[k] + half_m - 0.5 * lm - 0.5 * qo;
}

/* ---- The full family's lane path: 8 components at once ----
 *
 * Rows of random missingness share few patterns, so factoring P_MM once per
 * pattern (above) buys little and costs a scalar O(m³) per row and component.
 * Here the factorisations of the 8 components k0 .. k0+7 run side by side,
 * one component per vector lane, from the component-innermost copy pt (so
 * each entry of P_MM for 8 components is one contiguous load): Cholesky
 * P_MM = L·Lᵀ (m³/6 multiply-adds a lane), v = L⁻¹w (the E-step's
 * ‖L⁻¹w‖² = ‖v‖²), log det L from the pivots; the M-step refactors (cheaper
 * than keeping K factors a row) and forms e = −L⁻ᵀv and P_MM⁻¹ = L⁻ᵀL⁻¹
 * (m³/3 more).  Every entry below is 8 doubles, one per lane; triangles are
 * packed by columns (lcol).  Lanes past K read zeros from pt and get the
 * identity, so they stay finite; their results are never used. */
#define EMGMM_LN 8

/* Whether the block's cross terms go by coordinate (miss_cross, d <= 32), or
 * row by row into G's rows (wide rows: at d = 64, K = 32 the coefficients
 * of a block, 0.1·B·d·kp doubles, overflow L2, and a row's few components
 * with a responsibility are cheaper to add directly: wide 10 % took 5 %
 * longer by coordinate). */
#define EMGMM_MISS_CROSS_D 32
static inline int miss_by_coord(const pass_shared *sh) { return sh->d <= EMGMM_MISS_CROSS_D; }

/* The cross term r·e_j·x̃ of row x (missing entry at sorted position pos,
 * coordinate j) for component k: its coefficient for miss_cross, or added
 * to G_k's row j now. */
static inline __attribute__((always_inline)) void miss_cross_add(const pass_shared *sh, pass_ws *w,
                                                                 size_t pos, size_t j, size_t k,
                                                                 double ej, const TYPE *x)
{
    if (miss_by_coord(sh)) {
        w->mcoef[pos * sh->kp + k] = ej;
        return;
    }
    const size_t d = sh->d;
    double *restrict gj = w->mg + (k * d + j) * d;
    const TYPE *restrict xr = x;
#pragma omp simd
    for (size_t q = 0; q < d; q++) gj[q] += ej * (double)xr[q];
}

/* offset (in entries) of column b of a packed lower m×m triangle */
static inline size_t lcol(size_t m, size_t b) { return b * (2 * m - b + 1) / 2; }

/* log x for 8 lanes from x = prod·2^ex with prod in [1, 2): the softmax's
 * log (kernels_vlog.h) of prod, plus ex·ln 2 in two parts */
static inline __attribute__((always_inline)) void
lane_log(const double *restrict prod, const double *restrict ex, double *restrict out)
{
#pragma omp simd
    for (size_t l = 0; l < EMGMM_LN; l++)
        out[l] = ex[l] * 6.93147180369123816490e-01 +
                 (emgmm_vlog_ge1(prod[l]) + ex[l] * 1.90821492927058770002e-10);
}

/* prod·2^ex *= s for 8 lanes (s > 0 finite), prod kept in [1, 2) by moving
 * exponents into ex, so a product of any number of pivots neither over- nor
 * underflows */
static inline __attribute__((always_inline)) void
lane_mulexp(double *restrict prod, double *restrict ex, const double *restrict s)
{
#pragma omp simd
    for (size_t l = 0; l < EMGMM_LN; l++) {
        double sv = s[l], adj = 0.0;
        if (sv < 0x1p-1022) { /* subnormal: scale into the normal range */
            sv *= 0x1p54;
            adj = -54.0;
        }
        uint64_t u;
        memcpy(&u, &sv, sizeof u);
        const double e1 = (double)((int64_t)(u >> 52) - 1023);
        u = (u & 0x000fffffffffffffULL) | 0x3ff0000000000000ULL;
        memcpy(&sv, &u, sizeof u);
        double p = prod[l] * sv; /* in [1, 4) */
        memcpy(&u, &p, sizeof u);
        const double e2 = (double)((int64_t)(u >> 52) - 1023);
        u = (u & 0x000fffffffffffffULL) | 0x3ff0000000000000ULL;
        memcpy(&p, &u, sizeof u);
        prod[l] = p;
        ex[l] += adj + e1 + e2;
    }
}

/* Rows a0 .. a0+nA−1 of column b of the lane Cholesky, before scaling:
 * P[M_a][M_b] (+ the padding lanes' identity) − Σ_{c<b} L[a][c]·L[b][c], the
 * nA sums (nA constant after inlining) side by side in registers, each over
 * c in order. */
static inline __attribute__((always_inline)) void
lane_chol_col(const pass_shared *sh, const size_t *M, size_t m, size_t k0, size_t b, size_t a0,
              size_t nA, double *restrict L, const double *restrict pad)
{
    const size_t d = sh->d, kp = sh->kp;
    const double *restrict src = sh->pt + M[b] * d * kp + k0; /* P[M_b][·], symmetric */
    double acc[8][EMGMM_LN];
#pragma GCC unroll 8
    for (size_t i = 0; i < nA; i++) {
        const double *restrict s = src + M[a0 + i] * kp;
        const double dg = a0 + i == b ? 1.0 : 0.0;
#pragma omp simd
        for (size_t l = 0; l < EMGMM_LN; l++) acc[i][l] = s[l] + dg * pad[l];
    }
    for (size_t c = 0; c < b; c++) {
        const double *restrict Lc = L + lcol(m, c) * EMGMM_LN; /* column c: rows c .. */
        const double *restrict lbc = Lc + (b - c) * EMGMM_LN, *restrict q =
                                                                  Lc + (a0 - c) * EMGMM_LN;
#pragma GCC unroll 8
        for (size_t i = 0; i < nA; i++)
#pragma omp simd
            for (size_t l = 0; l < EMGMM_LN; l++) acc[i][l] -= q[i * EMGMM_LN + l] * lbc[l];
    }
    double *restrict o = L + (lcol(m, b) + (a0 - b)) * EMGMM_LN;
#pragma GCC unroll 8
    for (size_t i = 0; i < nA; i++)
#pragma omp simd
        for (size_t l = 0; l < EMGMM_LN; l++) o[i * EMGMM_LN + l] = acc[i][l];
}

/* L·Lᵀ = P_MM for components k0 .. k0+7 (left-looking by columns, so the
 * updates of a column are independent multiply-adds); id[b] = 1/L_bb.  With
 * ld (E-step), ld = log det L per lane.  bad[l] = 1 where P_MM is not
 * numerically positive definite (that lane continues on the identity). */
static inline __attribute__((always_inline)) void
lane_chol(const pass_shared *sh, const size_t *M, size_t m, size_t k0, double *restrict L,
          double *restrict id, double *restrict ld, double *restrict bad)
{
    const size_t K = sh->K;
    double prod[EMGMM_LN], ex[EMGMM_LN], piv[EMGMM_LN], pad[EMGMM_LN];
    for (size_t l = 0; l < EMGMM_LN; l++) {
        prod[l] = 1.0;
        ex[l] = 0.0;
        bad[l] = 0.0;
        pad[l] = k0 + l < K ? 0.0 : 1.0;
    }
    for (size_t b = 0; b < m; b++) {
        double *restrict Lb = L + lcol(m, b) * EMGMM_LN;
        size_t a0 = b;
#define CHOL_COL(nA) lane_chol_col(sh, M, m, k0, b, a0, nA, L, pad)
        MISS_BY_8421(a0, m, CHOL_COL);
#undef CHOL_COL
        double *restrict ib = id + b * EMGMM_LN;
#pragma omp simd
        for (size_t l = 0; l < EMGMM_LN; l++) {
            double s = Lb[l];
            const int ok = s > 0.0 && s <= 0x1.fffffffffffffp+1023;
            bad[l] = ok ? bad[l] : 1.0;
            s = ok ? s : 1.0;
            piv[l] = s;
            const double r = sqrt(s);
            Lb[l] = r;
            ib[l] = 1.0 / r;
        }
        if (ld) lane_mulexp(prod, ex, piv);
        for (size_t a = 1; a < m - b; a++) {
            double *restrict o = Lb + a * EMGMM_LN;
#pragma omp simd
            for (size_t l = 0; l < EMGMM_LN; l++) o[l] *= ib[l];
        }
    }
    if (ld) {
        lane_log(prod, ex, ld);
#pragma omp simd
        for (size_t l = 0; l < EMGMM_LN; l++) ld[l] *= 0.5; /* log det L = ½ Σ log pivots */
    }
}

/* v = L⁻¹w for 8 lanes, w read from W[a·kp + k0] (right-looking: the updates
 * after each solved entry are independent) */
static inline __attribute__((always_inline)) void lane_fsolve(const double *restrict L,
                                                              const double *restrict id, size_t m,
                                                              const double *restrict W, size_t kp,
                                                              double *restrict v)
{
    for (size_t a = 0; a < m; a++) {
        double *restrict o = v + a * EMGMM_LN;
        const double *restrict s = W + a * kp;
#pragma omp simd
        for (size_t l = 0; l < EMGMM_LN; l++) o[l] = s[l];
    }
    for (size_t c = 0; c < m; c++) {
        double *restrict vc = v + c * EMGMM_LN;
        const double *restrict ic = id + c * EMGMM_LN;
        const double *restrict Lc = L + lcol(m, c) * EMGMM_LN;
#pragma omp simd
        for (size_t l = 0; l < EMGMM_LN; l++) vc[l] *= ic[l];
        for (size_t a = 1; a < m - c; a++) {
            double *restrict o = vc + a * EMGMM_LN;
            const double *restrict q = Lc + a * EMGMM_LN;
#pragma omp simd
            for (size_t l = 0; l < EMGMM_LN; l++) o[l] -= q[l] * vc[l];
        }
    }
}

/* E-step of row i (full family, 2 <= m <= EMGMM_MISS_LANE_MAX, m < d) from
 * W = (P_k·δ0_k)_M: its log-densities replace r's; with vs, v = L⁻¹w for
 * every component (m·kp doubles) is kept for the M-step. */
static inline __attribute__((always_inline)) void lane_estep_row(const pass_shared *sh, pass_ws *w,
                                                                 size_t nb, size_t i, size_t i0,
                                                                 const size_t *M, size_t m,
                                                                 const double *W, double *vs)
{
    const size_t K = sh->K, kp = sh->kp;
    const double half_m = 0.5 * (double)m * EMGMM_LOG_2PI;
    double *L = w->mfac, *id = L + EMGMM_LN * m * (m + 1) / 2, *vt = id + EMGMM_LN * m;
    for (size_t k0 = 0; k0 < K; k0 += EMGMM_LN) {
        double ld[EMGMM_LN], bad[EMGMM_LN], n2[EMGMM_LN];
        lane_chol(sh, M, m, k0, L, id, ld, bad);
        double *v = vs ? vs + k0 * m : vt;
        lane_fsolve(L, id, m, W + k0, kp, v);
        for (size_t l = 0; l < EMGMM_LN; l++) n2[l] = 0.0;
        for (size_t a = 0; a < m; a++) {
            const double *restrict q = v + a * EMGMM_LN;
#pragma omp simd
            for (size_t l = 0; l < EMGMM_LN; l++) n2[l] += q[l] * q[l];
        }
        const size_t kn = K - k0 < EMGMM_LN ? K - k0 : EMGMM_LN;
        for (size_t l = 0; l < kn; l++) {
            const size_t k = k0 + l;
            double *rk = w->r + k * nb + i;
            if (bad[l] != 0.0) {
                miss_fail(w, i0 + i, k);
                *rk = -INFINITY;
                continue;
            }
            double quad = 2.0 * (sh->cst[k] - *rk) - n2[l];
            if (quad < 0.0) quad = 0.0; /* δ_Oᵀ Σ_OO⁻¹ δ_O >= 0; only rounding makes it less */
            *rk = sh->cst[k] + (half_m - ld[l] - 0.5 * quad);
        }
    }
}

/* Rows a0 .. a0+nA−1 (a0 > j, nA constant after inlining) of column j of
 * L⁻¹ for 8 lanes, y[a] = −id[a]·Σ_{j<=c<a} L[a][c]·y[c], y holding the
 * column's rows j .. a0−1 already: the nA sums side by side in registers,
 * then the block's own triangle in order. */
static inline __attribute__((always_inline)) void lane_inv_blk(size_t m, size_t j, size_t a0,
                                                               size_t nA, const double *restrict L,
                                                               const double *restrict id,
                                                               double *restrict y)
{
    double acc[8][EMGMM_LN];
#pragma GCC unroll 8
    for (size_t i = 0; i < nA; i++)
#pragma omp simd
        for (size_t l = 0; l < EMGMM_LN; l++) acc[i][l] = 0.0;
    for (size_t c = j; c < a0; c++) {
        const double *restrict yc = y + (c - j) * EMGMM_LN;
        const double *restrict q = L + (lcol(m, c) + (a0 - c)) * EMGMM_LN; /* L[a0+i][c] */
#pragma GCC unroll 8
        for (size_t i = 0; i < nA; i++)
#pragma omp simd
            for (size_t l = 0; l < EMGMM_LN; l++) acc[i][l] += q[i * EMGMM_LN + l] * yc[l];
    }
#pragma GCC unroll 8
    for (size_t i = 0; i < nA; i++) {
        const size_t a = a0 + i;
        double *restrict ya = y + (a - j) * EMGMM_LN;
#pragma omp simd
        for (size_t l = 0; l < EMGMM_LN; l++) ya[l] = -acc[i][l] * id[a * EMGMM_LN + l];
        const double *restrict q = L + (lcol(m, a) + 1) * EMGMM_LN; /* L[a+1+u][a] */
#pragma GCC unroll 8
        for (size_t u = i + 1; u < nA; u++)
#pragma omp simd
            for (size_t l = 0; l < EMGMM_LN; l++)
                acc[u][l] += q[(u - i - 1) * EMGMM_LN + l] * ya[l];
    }
}

/* Li = L⁻¹ for 8 lanes, by columns (L·y = unit vector j, left-looking), each
 * column's rows j .. m−1 at Li + lcol(m, j)·EMGMM_LN. */
static inline __attribute__((always_inline)) void lane_inverse(size_t m, const double *restrict L,
                                                               const double *restrict id,
                                                               double *restrict Li)
{
    for (size_t j = 0; j < m; j++) {
        double *restrict y = Li + lcol(m, j) * EMGMM_LN;
#pragma omp simd
        for (size_t l = 0; l < EMGMM_LN; l++) y[l] = id[j * EMGMM_LN + l];
        size_t a0 = j + 1;
#define INV_BLK(nA) lane_inv_blk(m, j, a0, nA, L, id, y)
        MISS_BY_8421(a0, m, INV_BLK);
#undef INV_BLK
    }
}

/* Rows b0 .. b0+nB−1 (b0 >= a, nB constant after inlining) of column a of
 * X = t·tᵀ + L⁻ᵀL⁻¹ for 8 lanes: X[b][a] = t_a·t_b + Σ_{c>=b} Li[c][a]·Li[c][b],
 * the nB sums side by side in registers, each over c in order.  Li is L⁻¹
 * packed by columns (lcol); X is written packed the same way. */
static inline __attribute__((always_inline)) void lane_x_blk(size_t m, size_t a, size_t b0,
                                                             size_t nB, const double *restrict Li,
                                                             const double *restrict t,
                                                             double *restrict X)
{
    const double *restrict ca = Li + (lcol(m, a) - a) * EMGMM_LN; /* Li[c][a] = ca[c·8] */
    const double *restrict cb[8];
    double acc[8][EMGMM_LN];
#pragma GCC unroll 8
    for (size_t i = 0; i < nB; i++) {
        cb[i] = Li + (lcol(m, b0 + i) - (b0 + i)) * EMGMM_LN;
#pragma omp simd
        for (size_t l = 0; l < EMGMM_LN; l++)
            acc[i][l] = t[a * EMGMM_LN + l] * t[(b0 + i) * EMGMM_LN + l];
    }
    /* c in [b0, b0 + nB): column b0 + i starts at c = b0 + i */
#pragma GCC unroll 8
    for (size_t j = 0; j < nB; j++) {
        const size_t c = b0 + j;
        const double *restrict u = ca + c * EMGMM_LN;
#pragma GCC unroll 8
        for (size_t i = 0; i <= j; i++)
#pragma omp simd
            for (size_t l = 0; l < EMGMM_LN; l++) acc[i][l] += u[l] * cb[i][c * EMGMM_LN + l];
    }
    for (size_t c = b0 + nB; c < m; c++) {
        const double *restrict u = ca + c * EMGMM_LN;
#pragma GCC unroll 8
        for (size_t i = 0; i < nB; i++)
#pragma omp simd
            for (size_t l = 0; l < EMGMM_LN; l++) acc[i][l] += u[l] * cb[i][c * EMGMM_LN + l];
    }
    double *restrict o = X + (lcol(m, a) + (b0 - a)) * EMGMM_LN;
#pragma GCC unroll 8
    for (size_t i = 0; i < nB; i++)
#pragma omp simd
        for (size_t l = 0; l < EMGMM_LN; l++) o[i * EMGMM_LN + l] = acc[i][l];
}

/* The M-step sums of row x (missing set M) for the lanes l < kn of group k0:
 * with t = −e = −x̂_M and X = t·tᵀ + P_MM⁻¹ (packed lower by columns, lcol)
 * per lane, s1_k += r·e and the cross terms and r·X via G_k's rows (below);
 * lanes with r = 0 or bad (P_MM not positive definite) are skipped. */
static inline __attribute__((always_inline)) void
lane_scatter(const pass_shared *sh, pass_ws *w, const size_t *M, size_t m, const size_t *pos,
             const TYPE *x, size_t k0, size_t kn, const double *rl, const double *bad, const double *t,
             const double *X)
{
    const size_t d = sh->d;
    for (size_t l = 0; l < kn; l++) {
        const double r = rl[l];
        if (r == 0.0 || bad[l] != 0.0) continue;
        const size_t k = k0 + l;
        double *s1 = w->st.s1 + k * d;
        double *G = w->mg + k * d * d, *T = w->mt + k * d;
        /* r·X goes into G's row j too, right after the cross term (the
         * row is in L1 then; s2 would be a second K·d² array to touch
         * per row): fold_missing adds G[p][q] + G[q][p] to s2[p][q]
         * (p <= q), so X[a][b] (M_a < M_b) lands once and the diagonal,
         * added twice, goes in halved */
        for (size_t a = 0; a < m; a++) {
            const size_t j = M[a];
            const double ej = -r * t[a * EMGMM_LN + l];
            s1[j] += ej;
            T[j] += ej;
            miss_cross_add(sh, w, pos[a], j, k, ej, x); /* r·e_j·x̃ */
            double *restrict gj = G + j * d;
            const double *restrict xa = X + lcol(m, a) * EMGMM_LN + l;
            gj[j] += 0.5 * r * xa[0];
            for (size_t b = a + 1; b < m; b++) gj[M[b]] += r * xa[(b - a) * EMGMM_LN];
        }
    }
}

/* M-step corrections of row i (full family, lane path): for each group of 8
 * components with a responsibility, e = x̂_M = −L⁻ᵀv and X = e·eᵀ + P_MM⁻¹,
 * then per component the same sums as mstats_missing's (r·X via G's rows,
 * see below).  vs: the E-step's v, or NULL to recompute it from W (the same
 * arithmetic). */
static inline __attribute__((always_inline)) void lane_mstats_row(const pass_shared *sh, pass_ws *w,
                                                                  size_t nb, size_t i,
                                                                  const size_t *M, size_t m,
                                                                  const TYPE *x, const size_t *pos,
                                                                  const double *vs)
{
    const size_t K = sh->K, kp = sh->kp, tri = m * (m + 1) / 2;
    double *L = w->mfac, *Li = L + EMGMM_LN * tri, *id = Li + EMGMM_LN * tri;
    double *t = id + EMGMM_LN * m, *vt = t + EMGMM_LN * m;
    int have_w = 0;
    for (size_t k0 = 0; k0 < K; k0 += EMGMM_LN) {
        const size_t kn = K - k0 < EMGMM_LN ? K - k0 : EMGMM_LN;
        double rl[EMGMM_LN], bad[EMGMM_LN];
        int any = 0;
        for (size_t l = 0; l < EMGMM_LN; l++) {
            rl[l] = l < kn ? w->r[(k0 + l) * nb + i] : 0.0;
            any |= rl[l] != 0.0;
        }
        if (!any) continue;
        lane_chol(sh, M, m, k0, L, id, NULL, bad);
        const double *v = vs ? vs + k0 * m : NULL;
        if (!v) {
            if (!have_w) {
                miss_pw(sh, x, M, m, w->mw);
                have_w = 1;
            }
            lane_fsolve(L, id, m, w->mw + k0, kp, vt);
            v = vt;
        }
        /* t = L⁻ᵀv (so e = −t), by columns of L from the last */
        for (size_t a = m; a-- > 0;) {
            const double *restrict La = L + lcol(m, a) * EMGMM_LN;
            double acc[EMGMM_LN];
#pragma omp simd
            for (size_t l = 0; l < EMGMM_LN; l++) acc[l] = v[a * EMGMM_LN + l];
            for (size_t c = a + 1; c < m; c++) {
                const double *restrict q = La + (c - a) * EMGMM_LN, *restrict tc = t + c * EMGMM_LN;
#pragma omp simd
                for (size_t l = 0; l < EMGMM_LN; l++) acc[l] -= q[l] * tc[l];
            }
#pragma omp simd
            for (size_t l = 0; l < EMGMM_LN; l++)
                t[a * EMGMM_LN + l] = acc[l] * id[a * EMGMM_LN + l];
        }
        lane_inverse(m, L, id, Li);
        /* X = t·tᵀ + Σ_c Li[c]ᵀ·Li[c] (rows of L⁻¹), lower by columns, into L
         * (L is not read again); up to 8 entries of a column at a time, their
         * sums in registers */
        double *X = L;
        for (size_t a = 0; a < m; a++) {
            size_t b0 = a;
#define X_BLK(nB) lane_x_blk(m, a, b0, nB, Li, t, X)
            MISS_BY_8421(b0, m, X_BLK);
#undef X_BLK
        }
        lane_scatter(sh, w, M, m, pos, x, k0, kn, rl, bad, t, X);
    }
}

/* ---- Cached patterns in the lanes ----
 *
 * A lane-eligible row whose pattern is cached (lane_choice) reads P_MM⁻¹ and
 * log det L of its pattern for 8 components at a time, laid out as the lanes'
 * (component innermost), so its E-step is m² multiply-adds a lane and its
 * M-step m²/2 more, with no factorisation and no per-component scalar loop.
 * One pattern's factors: per group of 8 components, C = P_MM⁻¹ packed lower
 * by columns (lcol), 8·m(m+1)/2 doubles, then log det L, 8 doubles (NaN where
 * P_MM is not numerically positive definite); after the groups, the M-step's
 * sums over the pass's rows of the pattern, per group of 8 components: Σ r
 * (8), Σ r·t (8·m) and Σ r·t·tᵀ (8·m(m+1)/2, packed as C) with t = −x̂_M, so
 * that fold_missing adds s1's r·e, s2's (Σ r)·P_MM⁻¹ + Σ r·e·eᵀ once per
 * pattern and component, and a row's own work is its cross terms (G's rows)
 * and a few vector multiply-adds; kp·(2·m(m+1)/2 + m + 2) in all
 * (lane_flen, lane_acc). */
/* The M-step sums of group k0 (a multiple of 8) in a pattern's factors fac:
 * Σ r (8 doubles), then Σ r·t (8·m), then Σ r·t·tᵀ (8·m(m+1)/2) */
static inline double *lane_acc(const pass_shared *sh, double *fac, size_t m, size_t k0)
{
    const size_t tri = m * (m + 1) / 2;
    return fac + sh->kp * (tri + 1) + k0 * (tri + m + 1);
}

/* The lane-laid-out factors of the new pattern M (lane_row(sh, m); hash h,
 * table slot `slot`, lane_choice's), computed into the thread's cache: its
 * entry, or −1 when the cache cannot take them (the row then takes the
 * lanes).  Scratch: mfac (lane_mstats_row's map). */
static int32_t lane_pattern(const pass_shared *sh, pass_ws *w, const size_t *M, size_t m,
                            uint64_t h, size_t slot)
{
    const size_t K = sh->K, tri = m * (m + 1) / 2, flen = lane_flen(sh, m);
    if (!miss_room(sh, w, m, flen)) return -1;
    if (w->pc_fn + flen > w->pc_fcap) {
        size_t nc = w->pc_fcap ? 2 * w->pc_fcap : 4096;
        while (nc < w->pc_fn + flen) nc *= 2;
        double *nb = realloc(w->pc_fac, nc * sizeof(double));
        if (!nb) return -1;
        w->pc_fac = nb;
        w->pc_fcap = nc;
    }
    double *out = w->pc_fac + w->pc_fn;
    double *L = w->mfac, *Li = L + EMGMM_LN * tri, *id = Li + EMGMM_LN * tri;
    double *t = id + EMGMM_LN * m;
    for (size_t a = 0; a < EMGMM_LN * m; a++) t[a] = 0.0;
    for (size_t k0 = 0; k0 < K; k0 += EMGMM_LN) {
        double ld[EMGMM_LN], bad[EMGMM_LN];
        double *C = out + (k0 / EMGMM_LN) * EMGMM_LN * (tri + 1), *lo = C + EMGMM_LN * tri;
        lane_chol(sh, M, m, k0, L, id, ld, bad);
        /* Li = L⁻¹, then C = L⁻ᵀL⁻¹ (lane_mstats_row's X with t = 0) */
        lane_inverse(m, L, id, Li);
        for (size_t a = 0; a < m; a++) {
            size_t b0 = a;
#define X_BLK(nB) lane_x_blk(m, a, b0, nB, Li, t, C)
            MISS_BY_8421(b0, m, X_BLK);
#undef X_BLK
        }
        for (size_t l = 0; l < EMGMM_LN; l++) lo[l] = bad[l] != 0.0 ? NAN : ld[l];
    }
    for (size_t q = sh->kp * (tri + 1); q < flen; q++) out[q] = 0.0;
    miss_register(w, M, m, h, slot, flen);
    return (int32_t)w->pc_n - 1;
}

/* t = C·w for 8 lanes (C symmetric, its lower triangle packed by columns,
 * walked once in storage order: C_ab adds to t_a and, off the diagonal, to
 * t_b), w read from W[a·kp]; n2 = wᵀt = ‖L⁻¹w‖² */
static inline __attribute__((always_inline)) void lane_cw(const double *restrict C, size_t m,
                                                          const double *restrict W, size_t kp,
                                                          double *restrict t,
                                                          double *restrict n2)
{
    for (size_t a = 0; a < m; a++) {
        double *restrict ta = t + a * EMGMM_LN;
#pragma omp simd
        for (size_t l = 0; l < EMGMM_LN; l++) ta[l] = 0.0;
    }
    const double *restrict c = C;
    for (size_t b = 0; b < m; b++) {
        const double *restrict wb = W + b * kp;
        double tb[EMGMM_LN];
#pragma omp simd
        for (size_t l = 0; l < EMGMM_LN; l++) tb[l] = t[b * EMGMM_LN + l] + c[l] * wb[l];
        c += EMGMM_LN;
        for (size_t a = b + 1; a < m; a++, c += EMGMM_LN) {
            const double *restrict wa = W + a * kp;
            double *restrict ta = t + a * EMGMM_LN;
#pragma omp simd
            for (size_t l = 0; l < EMGMM_LN; l++) {
                ta[l] += c[l] * wb[l];
                tb[l] += c[l] * wa[l];
            }
        }
#pragma omp simd
        for (size_t l = 0; l < EMGMM_LN; l++) t[b * EMGMM_LN + l] = tb[l];
    }
#pragma omp simd
    for (size_t l = 0; l < EMGMM_LN; l++) n2[l] = 0.0;
    for (size_t a = 0; a < m; a++) {
        const double *restrict wa = W + a * kp;
#pragma omp simd
        for (size_t l = 0; l < EMGMM_LN; l++) n2[l] += wa[l] * t[a * EMGMM_LN + l];
    }
}

/* E-step of row i from its cached pattern's factors fac (lane_pattern) and
 * W = (P_k·δ0_k)_M; with ts, t = −x̂_M = P_MM⁻¹w for every component (m·kp
 * doubles, by groups of 8 as the lanes' v) is kept for the M-step. */
static inline __attribute__((always_inline)) void
lane_cached_estep_row(const pass_shared *sh, pass_ws *w, size_t nb, size_t i, size_t i0, size_t m,
                      const double *W, const double *fac, double *ts)
{
    const size_t K = sh->K, kp = sh->kp, tri = m * (m + 1) / 2;
    const double half_m = 0.5 * (double)m * EMGMM_LOG_2PI;
    double *tt = w->mfac;
    for (size_t k0 = 0; k0 < K; k0 += EMGMM_LN) {
        const double *C = fac + (k0 / EMGMM_LN) * EMGMM_LN * (tri + 1), *ld = C + EMGMM_LN * tri;
        double n2[EMGMM_LN];
        lane_cw(C, m, W + k0, kp, ts ? ts + k0 * m : tt, n2);
        const size_t kn = K - k0 < EMGMM_LN ? K - k0 : EMGMM_LN;
        for (size_t l = 0; l < kn; l++) {
            const size_t k = k0 + l;
            double *rk = w->r + k * nb + i;
            if (ld[l] != ld[l]) {
                miss_fail(w, i0 + i, k);
                *rk = -INFINITY;
                continue;
            }
            double quad = 2.0 * (sh->cst[k] - *rk) - n2[l];
            if (quad < 0.0) quad = 0.0; /* δ_Oᵀ Σ_OO⁻¹ δ_O >= 0; only rounding makes it less */
            *rk = sh->cst[k] + (half_m - ld[l] - 0.5 * quad);
        }
    }
}

/* The M-step sums of a cached-pattern row x for group k0 (kn lanes), t = −e
 * = −x̂_M per lane: G_k's rows j ∈ M += r·e_j·x̃ (the cross terms), and the
 * pattern's sums acc (lane_acc) += r, r·t, r·t·tᵀ in the lanes; lanes with
 * r = 0 or bad (P_MM not positive definite) add nothing. */
static inline __attribute__((always_inline)) void
lane_scatter_cached(const pass_shared *sh, pass_ws *w, const size_t *M, size_t m,
                    const size_t *pos, const TYPE *x, size_t k0, size_t kn, const double *rl,
                    const double *bad, const double *t, double *restrict acc)
{
    double rv[EMGMM_LN];
#pragma omp simd
    for (size_t l = 0; l < EMGMM_LN; l++) {
        rv[l] = bad[l] != 0.0 ? 0.0 : rl[l];
        acc[l] += rv[l];
    }
    double *restrict st = acc + EMGMM_LN, *restrict stt = st + EMGMM_LN * m;
    for (size_t a = 0; a < m; a++) {
        const double *restrict ta = t + a * EMGMM_LN;
        double rt[EMGMM_LN];
#pragma omp simd
        for (size_t l = 0; l < EMGMM_LN; l++) {
            rt[l] = rv[l] * ta[l];
            st[a * EMGMM_LN + l] += rt[l];
        }
        for (size_t b = a; b < m; b++) {
            const double *restrict tb = t + b * EMGMM_LN;
            double *restrict o = stt + (lcol(m, a) + (b - a)) * EMGMM_LN;
#pragma omp simd
            for (size_t l = 0; l < EMGMM_LN; l++) o[l] += rt[l] * tb[l];
        }
    }
    /* the cross terms' coefficients r·e_j (miss_cross), lanes past K too
     * (their r is 0); or, row by row, r·e_j·x̃ into G_k's row j */
    if (!miss_by_coord(sh)) {
        for (size_t l = 0; l < kn; l++)
            if (rv[l] != 0.0)
                for (size_t a = 0; a < m; a++)
                    miss_cross_add(sh, w, pos[a], M[a], k0 + l, -rv[l] * t[a * EMGMM_LN + l], x);
        return;
    }
    for (size_t a = 0; a < m; a++) {
        double *restrict c = w->mcoef + pos[a] * sh->kp + k0;
        const double *restrict ta = t + a * EMGMM_LN;
#pragma omp simd
        for (size_t l = 0; l < EMGMM_LN; l++) c[l] = rv[l] != 0.0 ? -rv[l] * ta[l] : 0.0;
    }
}

/* M-step corrections of row i from its cached pattern's factors fac: per
 * group of 8 components with a responsibility, the E-step's t (ts, or
 * recomputed from W when NULL), then lane_scatter_cached. */
static inline __attribute__((always_inline)) void
lane_cached_mstats_row(const pass_shared *sh, pass_ws *w, size_t nb, size_t i, const size_t *M,
                       size_t m, const TYPE *x, const size_t *pos, double *fac, const double *ts)
{
    const size_t K = sh->K, kp = sh->kp, tri = m * (m + 1) / 2;
    double *tt = w->mfac;
    int have_w = 0;
    for (size_t k0 = 0; k0 < K; k0 += EMGMM_LN) {
        const size_t kn = K - k0 < EMGMM_LN ? K - k0 : EMGMM_LN;
        double rl[EMGMM_LN];
        int any = 0;
        for (size_t l = 0; l < EMGMM_LN; l++) {
            rl[l] = l < kn ? w->r[(k0 + l) * nb + i] : 0.0;
            any |= rl[l] != 0.0;
        }
        if (!any) continue;
        const double *C = fac + (k0 / EMGMM_LN) * EMGMM_LN * (tri + 1), *ld = C + EMGMM_LN * tri;
        const double *t = ts ? ts + k0 * m : NULL;
        if (!t) {
            double n2[EMGMM_LN];
            if (!have_w) {
                miss_pw(sh, x, M, m, w->mw);
                have_w = 1;
            }
            lane_cw(C, m, w->mw + k0, kp, tt, n2);
            t = tt;
        }
        double bad[EMGMM_LN];
        for (size_t l = 0; l < EMGMM_LN; l++) bad[l] = ld[l] != ld[l] ? 1.0 : 0.0;
        lane_scatter_cached(sh, w, M, m, pos, x, k0, kn, rl, bad, t, lane_acc(sh, fac, m, k0));
    }
}

/* Replaces the incomplete rows' log π_k + log N(x | μ_k, Σ_k) in r by the
 * log-densities of their observed coordinates.  With store (a fit), the
 * full/tied families also keep each row's conditional moments for the M-step,
 * when the block's need fits the workspace (else the M-step recomputes). */
EMGMM_VERSIONS_VOID(static, FMA, estep_missing,
                    (const pass_shared *sh, pass_ws *w, size_t nb, size_t i0, int store),
                    (sh, w, nb, i0, store))
{
    const size_t K = sh->K, d = sh->d;
    const int diag = sh->cov_type == EMGMM_COV_DIAG || sh->cov_type == EMGMM_COV_SPHERICAL;
    miss_store_room(sh, w, store, diag);
    double *slot = w->mstore;
    for (size_t q = 0; q < w->nmr; q++) {
        const size_t i = w->mrow[q], m = w->mptr[q + 1] - w->mptr[q];
        const size_t *M = w->midx + w->mptr[q];
        const TYPE *x = w->xs + i * d;
        if (m == d) { /* nothing observed: the density of nothing is 1 */
            for (size_t k = 0; k < K; k++) w->r[k * nb + i] = sh->logw[k];
            if (w->mstored)
                slot += K * EMGMM_MISS_SLOT(m); /* left unused: r is 0 or the row is not fitted */
            continue;
        }
        const double half_m = 0.5 * (double)m * EMGMM_LOG_2PI;
        double *W = w->mw;
        if (!diag) miss_pw(sh, x, M, m, W);
        if (!diag && m == 1) {
            miss_row_one(sh, w, nb, i, i0, M[0], half_m, W, w->mstored ? slot : NULL);
            if (w->mstored) slot += K * EMGMM_MISS_SLOT(1);
            continue;
        }
        if (lane_row(sh, m)) {
            uint64_t h;
            size_t pslot;
            int32_t e = lane_choice(sh, w, M, m, &h, &pslot);
            if (e == -2) e = lane_pattern(sh, w, M, m, h, pslot);
            w->mlane[q] = e;
            if (e >= 0) {
                lane_cached_estep_row(sh, w, nb, i, i0, m, W, w->pc_fac + w->pc_foff[e],
                                      w->mstored ? slot : NULL);
                if (w->mstored) slot += m * sh->kp;
                continue;
            }
            lane_estep_row(sh, w, nb, i, i0, M, m, W, w->mstored ? slot : NULL);
            if (w->mstored) slot += m * sh->kp;
            continue;
        }
        const double *fac = !diag && m >= 2 ? miss_pattern(sh, w, M, m) : NULL;
        const size_t fstep = sh->cov_type == EMGMM_COV_FULL ? EMGMM_FAC_LEN(m) : 0;
        const size_t kp = sh->kp;
        for (size_t k = 0; k < K; k++) {
            double *rk = w->r + k * nb + i;
            if (diag) {
                *rk = miss_diag(sh, x, M, m, k, half_m);
                continue;
            }
            double lp, c1;
            const double *C = NULL;
            double *e = w->mstored ? slot : NULL;
            if (miss_rowcomp(sh, x, M, m, k, 2.0 * (sh->cst[k] - *rk), fac ? fac + k * fstep : NULL,
                             W + k, kp, &lp, e, &c1, &C, w->mscr)) {
                miss_fail(w, i0 + i, k);
                *rk = -INFINITY;
            } else {
                *rk = sh->cst[k] + lp;
                if (e) memcpy(e + m, C, m * (m + 1) / 2 * sizeof(double));
            }
            if (w->mstored) slot += EMGMM_MISS_SLOT(m);
        }
    }
}

/* Drops (drop-empty-rows) the rows with nothing observed from the statistics;
 * returns their weight. */
static double drop_empty(const pass_shared *sh, pass_ws *w, size_t nb, const double *weights)
{
    double dropped = 0.0;
    for (size_t q = 0; q < w->nmr; q++) {
        if (w->mptr[q + 1] - w->mptr[q] != sh->d) continue;
        const size_t i = w->mrow[q];
        for (size_t k = 0; k < sh->K; k++) w->r[k * nb + i] = 0.0;
        dropped += weights ? weights[i] : 1.0;
    }
    return dropped;
}

/* ---- The cross terms by coordinate ----
 *
 * Every incomplete row adds r_k·e_kj·x̃ to row j of G_k for each of its
 * missing coordinates j and each component: K·m·d multiply-adds, which, done
 * row by row, load and store G's row each time.  Instead the M-step writes the
 * coefficients r_k·e_kj (kp per missing entry, mcoef) in the order of the
 * block's missing entries sorted by coordinate (miss_cross_prep), and
 * miss_cross adds, per coordinate j and 8 components, Σ_i c_i·x̃_i over the
 * block's rows missing j with the sums in registers: G_k's row j is loaded
 * and stored once per block.  A row whose 8 coefficients are all 0 (no
 * responsibility in the group) is skipped, as the row-wise update skipped
 * each component with r = 0. */

/* Sorts the block's missing entries by coordinate (stable: rows ascending
 * within a coordinate) into mpos/msrow/mjptr and makes room for, and zeroes,
 * their coefficients; returns 0 when mcoef cannot grow. */
static inline __attribute__((always_inline)) int miss_cross_prep(const pass_shared *sh, pass_ws *w)
{
    const size_t d = sh->d, kp = sh->kp, ne = w->mptr[w->nmr];
    size_t *cnt = w->mjptr;
    for (size_t j = 0; j <= d; j++) cnt[j] = 0;
    for (size_t p = 0; p < ne; p++) cnt[w->midx[p] + 1]++;
    for (size_t j = 0; j < d; j++) cnt[j + 1] += cnt[j];
    /* mjptr[j] now the start of coordinate j; advance a copy per placement */
    for (size_t q = 0; q < w->nmr; q++) {
        const size_t i = w->mrow[q];
        for (size_t p = w->mptr[q]; p < w->mptr[q + 1]; p++) {
            const size_t j = w->midx[p];
            w->mpos[p] = cnt[j];
            w->msrow[cnt[j]] = i;
            cnt[j]++;
        }
    }
    /* cnt[j] is now the end of j = the start of j + 1: shift back */
    for (size_t j = d; j > 0; j--) cnt[j] = cnt[j - 1];
    cnt[0] = 0;
    const size_t need = ne * kp;
    if (need > w->mcoef_cap) {
        double *nbuf = realloc(w->mcoef, need * sizeof(double));
        if (!nbuf) return 0;
        w->mcoef = nbuf;
        w->mcoef_cap = need;
    }
    memset(w->mcoef, 0, need * sizeof(double));
    return 1;
}

/* Columns q0 .. q0+nq−1 (nq <= 16; a constant 16 after inlining in the main
 * case) of G_k's row j, k = k0 .. k0+kn−1: += Σ over the sorted positions
 * [p0, p1) of c_k·x̃_row, the 8 components' sums in registers, each over the
 * rows in order. */
static inline __attribute__((always_inline)) void
miss_cross_blk(const pass_shared *sh, pass_ws *w, size_t j, size_t p0, size_t p1, size_t k0,
               size_t kn, size_t q0, size_t nq)
{
    const size_t d = sh->d, kp = sh->kp;
    double acc[EMGMM_LN][16];
#pragma GCC unroll 8
    for (size_t l = 0; l < EMGMM_LN; l++)
#pragma omp simd
        for (size_t q = 0; q < 16; q++) acc[l][q] = 0.0;
    for (size_t p = p0; p < p1; p++) {
        const TYPE *restrict xr = w->xs + w->msrow[p] * d + q0;
        const double *restrict c = w->mcoef + p * kp + k0;
        /* components without responsibility for the row (most of them when
         * the clusters are apart: wide, K = 32) add nothing */
        int any = 0;
#pragma omp simd reduction(| : any)
        for (size_t l = 0; l < EMGMM_LN; l++) any |= c[l] != 0.0;
        if (!any) continue;
        double xv[16];
#pragma omp simd
        for (size_t q = 0; q < 16; q++) xv[q] = q < nq ? (double)xr[q] : 0.0;
#pragma GCC unroll 8
        for (size_t l = 0; l < EMGMM_LN; l++)
#pragma omp simd
            for (size_t q = 0; q < 16; q++) acc[l][q] += c[l] * xv[q];
    }
    for (size_t l = 0; l < kn; l++) {
        double *restrict gj = w->mg + ((k0 + l) * d + j) * d + q0;
#pragma omp simd
        for (size_t q = 0; q < nq; q++) gj[q] += acc[l][q];
    }
}

/* The M-step of row i (full/tied) with one missing value j at sorted
 * position pos, from the E-step's stored moments e2 (miss_row_one): every
 * component at once, in the vector lanes, into the coordinate's sums m1s
 * (Σ r·e and Σ r·(e² + 1/P_jj), folded into s1, T and s2 by fold_missing)
 * and the cross terms' coefficients r·e (miss_cross). */
static inline __attribute__((always_inline)) void miss_one_mstats(const pass_shared *sh,
                                                                  pass_ws *w, size_t nb, size_t i,
                                                                  size_t j, size_t pos,
                                                                  const double *e2, const TYPE *x)
{
    const size_t K = sh->K, kp = sh->kp;
    double *restrict cf = miss_by_coord(sh) ? w->mcoef + pos * kp : w->mw; /* mw: scratch */
    double *restrict a1 = w->m1s + j * kp, *restrict a2 = w->m1s + (sh->d + j) * kp;
    const double *restrict e = e2, *restrict c = e2 + K, *restrict r = w->r + i;
#pragma omp simd
    for (size_t k = 0; k < K; k++) {
        const double rk = r[k * nb], ek = e[k];
        const int on = rk != 0.0; /* r = 0: nothing, whatever e (unset on a failed row) */
        const double ej = on ? rk * ek : 0.0;
        cf[k] = ej;
        a1[k] += ej;
        a2[k] += on ? rk * (ek * ek + c[k]) : 0.0;
    }
    if (!miss_by_coord(sh))
        for (size_t k = 0; k < K; k++)
            if (cf[k] != 0.0) miss_cross_add(sh, w, pos, j, k, cf[k], x);
}

/* G_k's rows j += Σ c·x̃ over the block's rows missing j (see above). */
static inline __attribute__((always_inline)) void miss_cross(const pass_shared *sh, pass_ws *w)
{
    const size_t d = sh->d, K = sh->K;
    for (size_t j = 0; j < d; j++) {
        const size_t p0 = w->mjptr[j], p1 = w->mjptr[j + 1];
        if (p0 == p1) continue;
        for (size_t k0 = 0; k0 < K; k0 += EMGMM_LN) {
            const size_t kn = K - k0 < EMGMM_LN ? K - k0 : EMGMM_LN;
            size_t q0 = 0;
            for (; q0 + 16 <= d; q0 += 16) miss_cross_blk(sh, w, j, p0, p1, k0, kn, q0, 16);
            if (q0 < d) miss_cross_blk(sh, w, j, p0, p1, k0, kn, q0, d - q0);
        }
    }
}

/* Adds the incomplete rows' expected-statistics corrections (see the top). */
EMGMM_VERSIONS_VOID(static, FMA, mstats_missing,
                    (const pass_shared *sh, pass_ws *w, size_t nb, size_t i0), (sh, w, nb, i0))
{
    const size_t K = sh->K, d = sh->d;
    const int diag = sh->cov_type == EMGMM_COV_DIAG || sh->cov_type == EMGMM_COV_SPHERICAL;
    double *ebuf = w->mscr + 3 * d + d * d; /* scratch map: see ws_alloc */
    const double *slot = w->mstore;
    if (!diag && miss_by_coord(sh) && !miss_cross_prep(sh, w)) {
        if (!w->err) w->err = EMGMM_ERR_ALLOC;
        return;
    }
    for (size_t q = 0; q < w->nmr; q++) {
        const size_t i = w->mrow[q], m = w->mptr[q + 1] - w->mptr[q];
        const size_t *M = w->midx + w->mptr[q];
        const size_t *pos = w->mpos + w->mptr[q];
        const TYPE *x = w->xs + i * d;
        if (!diag && m == 1 && w->mstored) {
            miss_one_mstats(sh, w, nb, i, M[0], pos[0], slot, x);
            slot += K * EMGMM_MISS_SLOT(1);
            continue;
        }
        if (lane_row(sh, m)) {
            double *lf = w->mlane[q] >= 0 ? w->pc_fac + w->pc_foff[w->mlane[q]] : NULL;
            if (lf)
                lane_cached_mstats_row(sh, w, nb, i, M, m, x, pos, lf, w->mstored ? slot : NULL);
            else
                lane_mstats_row(sh, w, nb, i, M, m, x, pos, w->mstored ? slot : NULL);
            if (w->mstored) slot += m * sh->kp;
            continue;
        }
        const double *fac = NULL;
        const size_t fstep = sh->cov_type == EMGMM_COV_FULL ? EMGMM_FAC_LEN(m) : 0;
        for (size_t k = 0; k < K; k++, slot += w->mstored ? EMGMM_MISS_SLOT(m) : 0) {
            const double r = w->r[k * nb + i];
            if (r == 0.0) continue;
            const double *sc = sh->sc + k * d;
            double *s1 = w->st.s1 + k * d;
            if (diag) {
                const double *pk = sh->pk + k * d, *mk = sh->mk + k * d;
                double *s2 = w->st.s2 + k * d;
                for (size_t a = 0; a < m; a++) {
                    const size_t j = M[a];
                    const double ej = mk[j], aj = -sc[j];
                    s1[j] += r * ej;
                    s2[j] += r * (2.0 * aj * ej + ej * ej + 1.0 / pk[j]);
                }
                continue;
            }
            const double *e,
                *C = NULL; /* set by miss_rowcomp when it succeeds (GCC -O3 cannot see it) */
            double c1;
            if (w->mstored) {
                e = slot;
                C = slot + m;
            } else {
                double lp;
                if (m >= 2 && !fac) fac = miss_pattern(sh, w, M, m);
                if (miss_rowcomp(sh, x, M, m, k, 0.0, fac ? fac + k * fstep : NULL, NULL, 0, &lp,
                                 ebuf, &c1, &C, w->mscr)) {
                    miss_fail(w, i0 + i, k);
                    continue;
                }
                e = ebuf;
            }
            /* the cross terms r·e·(x̃ − c)ᵀ: r·e·x̃ᵀ to row j of G_k (by
             * miss_cross, from the coefficient r·e_j) and r·e to T_k[j]; the
             * fold subtracts T_k[j]·c after the pass and adds G into the upper
             * triangle */
            double *s2 = w->st.s2 + k * d * d, *T = w->mt + k * d;
            size_t o = 0;
            for (size_t a = 0; a < m; a++) {
                const size_t j = M[a];
                const double ej = r * e[a];
                s1[j] += ej;
                T[j] += ej;
                miss_cross_add(sh, w, pos[a], j, k, ej, x);
                for (size_t b = a; b < m; b++) s2[j * d + M[b]] += r * (e[a] * e[b] + C[o++]);
            }
        }
    }
    if (!diag && miss_by_coord(sh)) miss_cross(sh, w);
}

/* Folds the cross terms gathered in G and T into the upper triangle of the
 * second moments: with G_k[j][l] = Σ r e_j x̃_l − T_k[j]·c_l = Σ r e_j a_l,
 * (a·eᵀ + e·aᵀ)_pq = G[q][p] + G[p][q]. */
static void fold_missing(const pass_shared *sh, pass_ws *w, size_t K, size_t d)
{
    /* the m = 1 rows' sums (miss_one_mstats): s1 and T += Σ r·e, s2's
     * diagonal += Σ r·(e² + 1/P_jj), before T's use below */
    if (w->m1s) {
        const size_t kp = sh->kp;
        for (size_t j = 0; j < d; j++) {
            const double *a1 = w->m1s + j * kp, *a2 = w->m1s + (d + j) * kp;
            for (size_t k = 0; k < K; k++) {
                w->st.s1[k * d + j] += a1[k];
                w->mt[k * d + j] += a1[k];
                w->st.s2[(k * d + j) * d + j] += a2[k];
            }
        }
    }
    /* the cached patterns' sums (lane_scatter_cached): s1 and T += Σ r·e,
     * s2 += (Σ r)·P_MM⁻¹ + Σ r·e·eᵀ, before T's use below */
    for (size_t e = 0; e < w->pc_n; e++) {
        const size_t m = w->pc_m[e], tri = m * (m + 1) / 2;
        if (!lane_row(sh, m)) continue;
        const size_t *M = w->pc_key + w->pc_koff[e];
        double *fac = w->pc_fac + w->pc_foff[e];
        for (size_t k = 0; k < K; k++) {
            const size_t k0 = k / EMGMM_LN * EMGMM_LN, l = k - k0;
            const double *acc = lane_acc(sh, fac, m, k0);
            const double r = acc[l];
            if (r == 0.0) continue;
            const double *st = acc + EMGMM_LN + l, *stt = acc + EMGMM_LN * (m + 1) + l;
            const double *C = fac + k0 * (tri + 1) + l;
            double *s1 = w->st.s1 + k * d, *T = w->mt + k * d, *s2 = w->st.s2 + k * d * d;
            for (size_t a = 0; a < m; a++) {
                s1[M[a]] -= st[a * EMGMM_LN];
                T[M[a]] -= st[a * EMGMM_LN];
                for (size_t b = a; b < m; b++) {
                    const size_t o = (lcol(m, a) + (b - a)) * EMGMM_LN;
                    s2[M[a] * d + M[b]] += r * C[o] + stt[o];
                }
            }
        }
    }
    for (size_t k = 0; k < K; k++) {
        double *G = w->mg + k * d * d;
        const double *T = w->mt + k * d, *sc = sh->sc + k * d;
        for (size_t j = 0; j < d; j++)
            if (T[j] != 0.0)
                for (size_t l = 0; l < d; l++) G[j * d + l] -= T[j] * sc[l];
        double *s2 = w->st.s2 + k * d * d;
        for (size_t p = 0; p < d; p++)
            for (size_t q = p; q < d; q++) s2[p * d + q] += G[q * d + p] + G[p * d + q];
    }
}
