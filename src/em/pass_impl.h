/* pass_impl.h — one pass over the data in row blocks: E-step (or given
 * responsibilities) and M-step sufficient statistics, fused.  Included twice,
 * by pass_f64.c and pass_f32.c, with
 *   TYPE  the working type of the block's matrix products (double or float)
 *   SFX   the function-name suffix (f64 or f32)
 *   GEMM  the matching CBLAS routine.
 * Statistics, log-likelihoods and log-sum-exp are always double.
 *
 * Per block of B rows (in a per-thread workspace):
 *   Xs  = X_b − g                     g: a global centre (Σ π_k μ_k), so that
 *                                      float32 products do not cancel
 *   Y   = Xs · [U_1 … U_K]            by the triangular kernel (kernels_tri.c,
 *                                      d > 4; the fused one for d <= 4), which
 *                                      never stores Y, or one GEMM per chunk of
 *                                      components (params.pass_kernels)
 *   log p_ik = log π_k + log|U_k| − d/2·log 2π − ½‖Y_ik − (μ_k − g)U_k‖²
 *   r_ik = softmax_k(log p_ik), block log-likelihood = Σ_i logsumexp_k
 *   second moments per component by the triangular kernel over the rows with
 *   r_ik ≠ 0 (mstats_tri), or by one GEMM per chunk of components
 *   (mstats_full, params.pass_kernels = EMGMM_KERNELS_GEMM or
 *   EMGMM_KERNELS_GEMM_MSTEP),
 *   s1_k += Σ r (x − c_k), N_k += Σ r.
 * (The diagonal families skip rows whose responsibility is exactly 0.)
 *
 * The other families plug into the same pass:
 *   tied       Y = Xs·U once (one shared factor), then ‖Y_i − m_k‖² per k;
 *              statistics as full (pooled in the finish).
 *   diag/sph.  q_ik = Σ_j P_kj (x_ij − μ'_kj)², P = 1/σ², μ' = μ − g, computed
 *              directly in double with the rows in the vector lanes
 *              (emgmm_diag_logdens, kernels_diag.c; n·K·d multiply-adds).
 *              Statistics Σ r (x − c), Σ r (x − c)² over the same transposed
 *              block (emgmm_diag_stats). */

/* Leading dimensions that are multiples of 4 KB make every row of a
 * transposed buffer map to the same cache sets (and packing in the BLAS
 * thrash); 16 elements of padding break the alignment (and leave
 * room for the E-step kernels to read a whole vector past the block). */
#ifndef EMGMM_PAD
#define EMGMM_PAD(n) ((n) + 16)
#endif

/* The fused small-d E-step holds a tile's d coordinates in registers: the
 * faster one up to d = 4 (tall-like data, 10⁶ rows, K = 16, 1 thread: 0.154 s
 * against the triangular kernel's 0.167 at d = 2, even at d = 4, 0.174 against
 * 0.206 at d = 8). */
#define EMGMM_FUSED_DMAX 4

/* the M-step kernel's row length: d rounded up to whole vectors of 64 bytes */
#define EMGMM_LDM(d) (((d) + 64 / sizeof(TYPE) - 1) / (64 / sizeof(TYPE)) * (64 / sizeof(TYPE)))

/* missing values: the pattern cache's slots (a power of 2), and the default
 * per-thread doubles of stored conditional moments and of cached pattern
 * factors (params.miss_store_max, pattern_cache_max: 0 = these, negative =
 * none) */
#define EMGMM_PC_TAB 4096
#define EMGMM_MISS_STORE_DEFAULT ((size_t)1 << 22)
#define EMGMM_PC_FAC_DEFAULT ((size_t)1 << 21)

/* missing values, full family: rows with up to EMGMM_MISS_LANE_MAX missing
 * values take the 8-component lane path (missing_impl.h), whose scratch (in
 * mfac) is EMGMM_MISS_LANE_NEED(m) doubles: two packed triangles of 8 lanes
 * and a few vectors */
#define EMGMM_MISS_LANE_MAX 128
#define EMGMM_MISS_LANE_NEED(m) (8 * (m) * ((m) + 1) + 48 * (m) + 64)

static size_t limit_or_default(long v, size_t dflt)
{
    return v == 0 ? dflt : v < 0 ? 0 : (size_t)v;
}

/* Rows per block: large enough for efficient GEMM calls, small enough that
 * the block, its products and responsibilities stay near the L2 cache. */
static size_t block_rows(size_t block_size, size_t d)
{
    return block_size ? block_size : d >= 128 ? 256 : 512;
}

typedef struct {
    TYPE *xs;         /* [B][d] centred block */
    TYPE *y;          /* [B][cw] products */
    TYPE *xt;         /* [d][B] the centred block transposed (M-step products) */
    TYPE *mblk;       /* [d][cw] M-step products of one chunk of components */
    double *s1blk;    /* [cw] this block's Σ r (x − c) for one chunk */
    double *r;        /* [K][nb] log-probabilities, then responsibilities (component-major) */
    double *mx, *sum; /* [B] per-row scratch */
    double *a2;       /* diag/spherical: the block transposed in double, [d][nb] */
    TYPE *tscr, *xrm; /* M-step kernel (mstats_tri): [2][ldm] scratch; the block padded */
    TYPE *tacc;       /* M-step kernel: [ldm][ldm] its products */
    size_t *ridx;     /* M-step kernel: [B] the rows of one component with r ≠ 0 */
    emgmm_stats st;   /* this thread's statistics (per-thread regime; thread 0's are the
                       pass's output, borrowed for the pass) */
    double ll;
    double ent;     /* Σ −log max_k r_ik of this thread's rows, in row order */
    double bll;     /* the last block's log-likelihood */
    size_t bnb;     /* component regime: rows of this round's block (0: none) */
    const TYPE *xm; /* component regime, mstats_tri: the block's rows for the kernel */
    /* missing values (missing_impl.h): the block's incomplete rows, their
     * missing coordinates midx[mptr[q] .. mptr[q+1]), scratch, first failure */
    size_t *mrow, *mptr, *midx, nmr;
    int32_t *mlane; /* per incomplete row: its cached pattern's entry, or −1 (lane_choice) */
    double *mscr;
    double *mstore; /* the block's conditional moments (full/tied fits) */
    double *mg;     /* full/tied fits: [K][d][d] cross terms (fold_missing) */
    double *mt;     /* full/tied fits: [K][d] their row sums Σ r·e */
    double *mfac;   /* full/tied: one pattern's factors when the cache is full */
    double *mw;     /* full/tied: [d][K] a row's (P_k·δ0_k)_M */
    /* full/tied fits, the cross terms by coordinate (miss_cross): the block's
     * missing entries sorted by coordinate j (mjptr[j] .. mjptr[j+1]), entry p
     * = midx's index at sorted position mpos[p], its row msrow[position], and
     * the coefficients r_k·e_k per position (kp doubles each, mcoef) */
    size_t *mpos, *msrow, *mjptr;
    double *m1s; /* full/tied fits: [2][d][kp] the m = 1 rows' Σ r·e, Σ r·(e² + c) (miss_one_mstats) */
    double *mcoef;
    size_t mcoef_cap;
    /* the pattern cache (miss_pattern): an open-addressing table of entries */
    int32_t *pc_tab;
    uint64_t *pc_h;
    size_t *pc_m, *pc_koff, *pc_foff, *pc_key, pc_n, pc_kn;
    size_t pc_new;  /* patterns this pass sent to the per-pattern path uncached (lane_choice) */
    size_t pc_hits; /* rows this pass whose pattern lane_choice found cached */
    double *pc_fac;
    size_t pc_fn, pc_fcap;
    size_t mstore_cap;
    int mstored;
    double dropped;
    int xt_ready; /* xt holds this block (transpose_block) */
    int err;
    size_t err_row, err_comp;
} pass_ws;

static void ws_free(pass_ws *w)
{
    free(w->xs);
    free(w->y);
    free(w->xt);
    free(w->mblk);
    free(w->s1blk);
    free(w->r);
    free(w->mx);
    free(w->sum);
    free(w->a2);
    free(w->tscr);
    free(w->xrm);
    free(w->tacc);
    free(w->ridx);
    free(w->mrow);
    free(w->mptr);
    free(w->mlane);
    free(w->midx);
    free(w->mscr);
    free(w->mstore);
    free(w->mpos);
    free(w->msrow);
    free(w->mjptr);
    free(w->m1s);
    free(w->mcoef);
    free(w->mg);
    free(w->mt);
    free(w->mfac);
    free(w->mw);
    free(w->pc_tab);
    free(w->pc_h);
    free(w->pc_m);
    free(w->pc_koff);
    free(w->pc_foff);
    free(w->pc_key);
    free(w->pc_fac);
    emgmm_stats_free(&w->st);
}

/* The buffers of one thread's workspace, in bytes: ws_alloc allocates these
 * sizes and emgmm_pass_memory_estimate adds them up (0 = not allocated). */
enum {
    WS_XS,
    WS_Y,
    WS_R,
    WS_MX,
    WS_SUM,
    WS_A2,
    WS_MROW,
    WS_MPTR,
    WS_MLANE,
    WS_MIDX,
    WS_MSCR,
    WS_MFAC,
    WS_MW,
    WS_PC_TAB,
    WS_PC_H,
    WS_PC_M,
    WS_PC_KOFF,
    WS_PC_FOFF,
    WS_PC_KEY,
    WS_MG,
    WS_MT,
    WS_MPOS,
    WS_MSROW,
    WS_MJPTR,
    WS_M1S,
    WS_XT,
    WS_TSCR,
    WS_XRM,
    WS_TACC,
    WS_RIDX,
    WS_MBLK,
    WS_S1BLK,
    WS_NBUF
};

static void ws_sizes(size_t B, size_t d, size_t K, size_t cw, int stats, int cov_type, int missing,
                     int mtri, size_t sz[WS_NBUF])
{
    const int square = cov_type == EMGMM_COV_FULL || cov_type == EMGMM_COV_TIED;
    memset(sz, 0, WS_NBUF * sizeof sz[0]);
    sz[WS_XS] = B * d * sizeof(TYPE);
    sz[WS_Y] = EMGMM_PAD(B) * cw * sizeof(TYPE);
    sz[WS_R] = B * K * sizeof(double);
    sz[WS_MX] = sz[WS_SUM] = B * sizeof(double);
    if (!square) sz[WS_A2] = B * 2 * d * sizeof(double);
    if (missing) {
        sz[WS_MROW] = B * sizeof(size_t);
        sz[WS_MPTR] = (B + 1) * sizeof(size_t);
        sz[WS_MLANE] = B * sizeof(int32_t);
        sz[WS_MIDX] = B * d * sizeof(size_t);
        /* scratch: [0, 2d) miss_rowcomp; [d, d + d²) and [d + d², d + 2d²) a
         * factor's L and L⁻¹ (miss_pattern, done before miss_rowcomp); [3d + d²,
         * 4d + d²) a recomputed conditional mean in the M-step */
        sz[WS_MSCR] = (2 * d * d + 4 * d) * sizeof(double);
        if (square) {
            const size_t nf = cov_type == EMGMM_COV_FULL ? K : 1;
            sz[WS_MFAC] = nf * (d * (d + 1) / 2 + 1);
            if (cov_type == EMGMM_COV_FULL) {
                const size_t ml = d < EMGMM_MISS_LANE_MAX ? d : EMGMM_MISS_LANE_MAX;
                if (sz[WS_MFAC] < EMGMM_MISS_LANE_NEED(ml)) sz[WS_MFAC] = EMGMM_MISS_LANE_NEED(ml);
            }
            sz[WS_MFAC] *= sizeof(double);
            sz[WS_MW] = d * ((K + 7) & ~(size_t)7) * sizeof(double);
            sz[WS_PC_TAB] = EMGMM_PC_TAB * sizeof(int32_t);
            sz[WS_PC_H] = EMGMM_PC_TAB / 2 * sizeof(uint64_t);
            sz[WS_PC_M] = sz[WS_PC_KOFF] = sz[WS_PC_FOFF] = EMGMM_PC_TAB / 2 * sizeof(size_t);
            sz[WS_PC_KEY] = EMGMM_PC_TAB * 8 * sizeof(size_t);
        }
        if (stats && square) {
            sz[WS_MG] = K * d * d * sizeof(double);
            sz[WS_MT] = K * d * sizeof(double);
            sz[WS_MPOS] = sz[WS_MSROW] = B * d * sizeof(size_t);
            sz[WS_MJPTR] = (d + 1) * sizeof(size_t);
            sz[WS_M1S] = 2 * d * ((K + 7) & ~(size_t)7) * sizeof(double);
        }
    }
    if (stats || cov_type == EMGMM_COV_FULL) /* the M-step's and the fused E-step's */
        sz[WS_XT] = d * EMGMM_PAD(B) * sizeof(TYPE);
    if (stats && square && mtri) { /* mstats_tri's buffers */
        const size_t ldm = EMGMM_LDM(d);
        sz[WS_TSCR] = 2 * ldm * sizeof(TYPE);
        sz[WS_XRM] = B * ldm * sizeof(TYPE);
        sz[WS_TACC] = ldm * ldm * sizeof(TYPE);
        sz[WS_RIDX] = B * sizeof(size_t);
    }
    if (stats) {
        if (square && !mtri) sz[WS_MBLK] = d * cw * sizeof(TYPE); /* mstats_full's products */
        sz[WS_S1BLK] = cw * sizeof(double);
    }
}

/* malloc of a workspace buffer (calloc for the zeroed ones); a size of 0
 * leaves it NULL and counts as success */
static void *ws_buf(size_t bytes, int zero, int *ok)
{
    if (!bytes) return NULL;
    void *q = zero ? calloc(bytes, 1) : malloc(bytes);
    if (!q) *ok = 0;
    return q;
}

/* own_stats: the thread keeps statistics of its own (the per-thread regime's
 * threads after the first) */
static int ws_alloc(pass_ws *w, size_t B, size_t d, size_t K, size_t cw, int stats, int cov_type,
                    int missing, int mtri, int own_stats)
{
    size_t sz[WS_NBUF];
    ws_sizes(B, d, K, cw, stats, cov_type, missing, mtri, sz);
    memset(w, 0, sizeof *w);
    int ok = 1;
    w->xs = ws_buf(sz[WS_XS], 0, &ok);
    w->y = ws_buf(sz[WS_Y], 0, &ok);
    w->r = ws_buf(sz[WS_R], 0, &ok);
    w->mx = ws_buf(sz[WS_MX], 0, &ok);
    w->sum = ws_buf(sz[WS_SUM], 0, &ok);
    w->a2 = ws_buf(sz[WS_A2], 0, &ok);
    w->mrow = ws_buf(sz[WS_MROW], 0, &ok);
    w->mptr = ws_buf(sz[WS_MPTR], 0, &ok);
    w->mlane = ws_buf(sz[WS_MLANE], 0, &ok);
    w->midx = ws_buf(sz[WS_MIDX], 0, &ok);
    w->mscr = ws_buf(sz[WS_MSCR], 0, &ok);
    w->mfac = ws_buf(sz[WS_MFAC], 0, &ok);
    w->mw = ws_buf(sz[WS_MW], 0, &ok);
    w->pc_tab = ws_buf(sz[WS_PC_TAB], 0, &ok);
    w->pc_h = ws_buf(sz[WS_PC_H], 0, &ok);
    w->pc_m = ws_buf(sz[WS_PC_M], 0, &ok);
    w->pc_koff = ws_buf(sz[WS_PC_KOFF], 0, &ok);
    w->pc_foff = ws_buf(sz[WS_PC_FOFF], 0, &ok);
    w->pc_key = ws_buf(sz[WS_PC_KEY], 0, &ok);
    if (w->pc_tab)
        for (size_t i = 0; i < EMGMM_PC_TAB; i++) w->pc_tab[i] = -1;
    w->mg = ws_buf(sz[WS_MG], 1, &ok);
    w->mt = ws_buf(sz[WS_MT], 1, &ok);
    /* zeroed: for d > EMGMM_MISS_CROSS_D nothing writes it, and the M-step
     * passes its (unused) positions along */
    w->mpos = ws_buf(sz[WS_MPOS], 1, &ok);
    w->msrow = ws_buf(sz[WS_MSROW], 0, &ok);
    w->mjptr = ws_buf(sz[WS_MJPTR], 0, &ok);
    w->m1s = ws_buf(sz[WS_M1S], 1, &ok);
    w->xt = ws_buf(sz[WS_XT], 0, &ok);
    w->tscr = ws_buf(sz[WS_TSCR], 0, &ok);
    w->xrm = ws_buf(sz[WS_XRM], 0, &ok);
    w->tacc = ws_buf(sz[WS_TACC], 0, &ok);
    w->ridx = ws_buf(sz[WS_RIDX], 0, &ok);
    w->mblk = ws_buf(sz[WS_MBLK], 0, &ok);
    w->s1blk = ws_buf(sz[WS_S1BLK], 0, &ok);
    if (ok && stats && own_stats)
        ok = emgmm_stats_init(&w->st, (int)K, (int)d, cov_type) == EMGMM_OK;
    if (!ok) {
        ws_free(w);
        return EMGMM_ERR_ALLOC;
    }
    return EMGMM_OK;
}

/* The workspaces of the last pass, kept on the model (model->pass_ws) and
 * reused when the next pass has the same shape; reset, not reallocated. */
typedef struct {
    int T, stats, cov_type, missing, mtri, comp;
    size_t B, d, K, cw;
    pass_ws *ws;
} ws_cache;

static void ws_cache_free(void *p)
{
    ws_cache *c = p;
    if (!c) return;
    for (int t = 0; t < c->T; t++) ws_free(&c->ws[t]);
    free(c->ws);
    free(c);
}

/* What every pass expects of a workspace it did not allocate itself. */
static void ws_reset(pass_ws *w, size_t K, size_t d, int stats)
{
    if (stats && w->st.nk) emgmm_stats_zero(&w->st);
    w->ll = 0.0;
    w->ent = 0.0;
    w->bll = 0.0;
    w->bnb = 0;
    w->dropped = 0.0;
    w->err = 0;
    w->err_row = w->err_comp = 0;
    w->nmr = 0;
    w->xt_ready = 0;
    w->mstored = 0;
    if (w->mg) memset(w->mg, 0, K * d * d * sizeof(double));
    if (w->mt) memset(w->mt, 0, K * d * sizeof(double));
    if (w->m1s) memset(w->m1s, 0, 2 * d * ((K + 7) & ~(size_t)7) * sizeof(double));
    if (w->pc_tab)
        for (size_t i = 0; i < EMGMM_PC_TAB; i++) w->pc_tab[i] = -1;
    w->pc_n = w->pc_kn = w->pc_fn = w->pc_new = w->pc_hits = 0;
}

/* Shared, read-only inputs of one pass. */
typedef struct {
    size_t K, d, B, kc, cw;
    size_t ldb;      /* leading dimension of the transposed block buffers, EMGMM_PAD(B) */
    size_t ldu;      /* leading dimension of ucat */
    size_t ustep;    /* from one component's factor in ucat to the next's */
    TYPE *ucat_own;  /* ucat when it is a copy (freed with the shared inputs) */
    const double *g; /* [d] centre */
    int cov_type;
    const TYPE *ucat; /* ESTEP full: [d][K·d] stacked precision factors (ustep = d), or
                          * the mixture's own [K][d][d] (ustep = d·d); tied: [d][d] */
    double *pk, *mk;  /* ESTEP diag/spherical: [K][d] P_kj and μ'_kj, for the exact recompute */
    double *mvec;     /* ESTEP: [K][d] (μ_k − g)·U_k */
    double *cst;      /* ESTEP: [K] log π_k + log|U_k| − d/2 log 2π */
    TYPE *ct;         /* LABELS: [d][K] (centres − g)ᵀ */
    double *cnorm;    /* LABELS: [K] ‖centre − g‖² */
    double *sc;       /* [K][d] shift − g */
    int missing;      /* ESTEP: NaN marks missing values (emgmm_missing_policy) */
    int fused;        /* ESTEP, full, small d: the fused E-step kernel (EMGMM_FUSED_QF) */
    double *upack;    /* fused: [K][d(d+1)/2] the factors packed by columns */
    int tri;          /* ESTEP, full, d > EMGMM_FUSED_DMAX: the triangular E-step kernel */
    TYPE *utail;      /* tri: [K][emgmm_tri_tail_size(d)] the factors' last partial column
                       * group (NULL when d is a multiple of 8; the rest is read in ucat) */
    int mtri;         /* full/tied statistics by the triangular M-step kernel (mstats_tri) */
    double *pfull;    /* missing, full/tied: [K or 1][d][d] precisions U·Uᵀ */
    double *pt;       /* missing, full/tied: [d][d][K] the same, component innermost */
    double *pm;       /* missing, full/tied: [d][K] P_k·μ'_k */
    double *lpt;      /* missing, full/tied: [d][kp] log (P_k)_jj */
    size_t kp;        /* missing: K rounded up to 8, the row length of pt, pm, lpt */
    size_t miss_store_max, pc_fac_max; /* params.miss_store_max, params.pattern_cache_max */
    double *logw;                      /* missing: [K] log π_k */
    double *lpk;                       /* missing, diag/spherical: [K][d] log P_kj */
} pass_shared;

static void load_block(const emgmm_data *X, size_t i0, size_t nb, const double *g, TYPE *xs)
{
    if (X->dtype == EMGMM_F64)
        EMGMM_LOAD64((const double *)X->x + i0 * X->ld, X->ld, nb, X->d, g, xs);
    else
        EMGMM_LOAD32((const float *)X->x + i0 * X->ld, X->ld, nb, X->d, g, xs);
}

/* The block's responsibilities are component-major, r[k·nb + i], so that the
 * per-row reductions over components (max, log-sum-exp) and the per-component
 * passes over rows (statistics) all run with the rows in the vector lanes.
 * The E-step products are computed transposed to match: Yᵀ = Uᵀ·Xsᵀ. */

/* xt ← the centred block transposed (d rows of ldb), in tiles of 8 rows so
 * whole cache lines are written at a time; the lanes up to the next multiple
 * of a 64-byte vector past nb are zero (the E-step kernels read whole vectors;
 * ldb = EMGMM_PAD(B) leaves room for them).  Once per block:
 * the fused E-step and the M-step share it. */
static void transpose_block(const pass_shared *sh, pass_ws *w, size_t nb)
{
    if (w->xt_ready) return;
    const size_t d = sh->d, ldb = sh->ldb;
    for (size_t i0 = 0; i0 < nb; i0 += 8) {
        const size_t i1 = i0 + 8 < nb ? i0 + 8 : nb;
        for (size_t j = 0; j < d; j++)
            for (size_t i = i0; i < i1; i++) w->xt[j * ldb + i] = w->xs[i * d + j];
    }
    const size_t lanes = 64 / sizeof(TYPE), pad = (nb + lanes - 1) / lanes * lanes;
    for (size_t j = 0; j < d; j++)
        for (size_t i = nb; i < pad; i++) w->xt[j * ldb + i] = (TYPE)0;
    w->xt_ready = 1;
}

/* r[k][i] ← log π_k + log N(x_i | μ_k, Σ_k) for the full family. */
static void estep_full(const pass_shared *sh, pass_ws *w, size_t nb)
{
    const size_t K = sh->K, d = sh->d;
#ifdef EMGMM_FUSED_QF
    if (sh->fused) {
        transpose_block(sh, w, nb);
        if (EMGMM_FUSED_QF(w->xt, sh->ldb, nb, d, K, sh->upack, sh->mvec, sh->cst, w->r, nb))
            return;
    }
#endif
    if (sh->tri) {
        transpose_block(sh, w, nb);
        EMGMM_TRI_QF(w->xt, sh->ldb, nb, d, K, sh->ucat, sh->ldu, sh->ustep, sh->utail, sh->mvec,
                     sh->cst, w->r, nb);
        return;
    }
    for (size_t k0 = 0; k0 < K; k0 += sh->kc) {
        const size_t kc = (k0 + sh->kc <= K) ? sh->kc : K - k0;
        const size_t cw = kc * d;
        GEMM(CblasRowMajor, CblasTrans, CblasTrans, (int)cw, (int)nb, (int)d, (TYPE)1,
             sh->ucat + k0 * sh->ustep, (int)sh->ldu, w->xs, (int)d, (TYPE)0, w->y, (int)sh->ldb);
        EMGMM_QUADFORM(w->y, sh->ldb, nb, kc, d, sh->mvec + k0 * d, sh->cst + k0, w->r + k0 * nb,
                       nb);
    }
}

static void estep_tied(const pass_shared *sh, pass_ws *w, size_t nb)
{
    const size_t K = sh->K, d = sh->d;
    GEMM(CblasRowMajor, CblasTrans, CblasTrans, (int)d, (int)nb, (int)d, (TYPE)1, sh->ucat,
         (int)sh->ldu, w->xs, (int)d, (TYPE)0, w->y, (int)sh->ldb);
    /* Every component sees the same whitened rows, shifted by its own m_k. */
    for (size_t k = 0; k < K; k++)
        EMGMM_QUADFORM(w->y, sh->ldb, nb, 1, d, sh->mvec + k * d, sh->cst + k, w->r + k * nb, nb);
}

/* The block transposed, in double, into a2 (d·nb of its 2d·B doubles): the
 * diagonal families' E-step and statistics run over it. */
static void transpose_diag(pass_ws *w, size_t nb, size_t d)
{
    double *xt = w->a2;
    for (size_t i0 = 0; i0 < nb; i0 += 8) {
        const size_t i1 = i0 + 8 < nb ? i0 + 8 : nb;
        for (size_t j = 0; j < d; j++)
            for (size_t i = i0; i < i1; i++) xt[j * nb + i] = (double)w->xs[i * d + j];
    }
}

/* have_xt: a2 already holds the block (load_diag). */
static void estep_diag(const pass_shared *sh, pass_ws *w, size_t nb, int have_xt)
{
    if (!have_xt) transpose_diag(w, nb, sh->d);
    emgmm_diag_logdens(w->a2, nb, sh->d, sh->K, sh->pk, sh->mk, sh->cst, w->r);
}

/* have_xt: a2 already holds the block (estep_diag ran on it). */
static void mstats_diag(const pass_shared *sh, pass_ws *w, size_t nb, int have_xt)
{
    if (!have_xt) transpose_diag(w, nb, sh->d);
    emgmm_diag_stats(w->a2, nb, sh->d, sh->K, w->r, sh->sc, w->st.nk, w->st.s1, w->st.s2);
}

static void labels_block(const pass_shared *sh, pass_ws *w, size_t nb)
{
    const size_t K = sh->K, d = sh->d;
    /* Yᵀ = Cᵀ·Xsᵀ: K rows of nb dot products with the centres. */
    GEMM(CblasRowMajor, CblasTrans, CblasTrans, (int)K, (int)nb, (int)d, (TYPE)1, sh->ct, (int)K,
         w->xs, (int)d, (TYPE)0, w->y, (int)sh->ldb);
    /* the nearest centre (the first of equals) for all rows at once, down the
     * components with the rows in the vector lanes (a kernel of its own,
     * built for each vector width: here the loop compiled to scalar code with
     * a branch per row and component) */
    EMGMM_NEAREST(w->y, sh->ldb, nb, K, sh->cnorm, w->mx, w->sum, w->r);
}

static void random_block(uint64_t seed, size_t i0, size_t nb, size_t K, double *r)
{
    for (size_t i = 0; i < nb; i++) {
        double s = 0.0;
        for (size_t k = 0; k < K; k++) {
            r[k * nb + i] = emgmm_hash_uniform(seed, i0 + i, k);
            s += r[k * nb + i];
        }
        for (size_t k = 0; k < K; k++) r[k * nb + i] /= s;
    }
}

/* Second moments of the full and tied families, one component at a time, by
 * the triangular kernel (emgmm_mstat): with x̃ = x − g, c̃ = c − g,
 *   Σ_i r (x̃ − c̃)(x̃ − c̃)ᵀ = Σ_i x̃ [r (x̃ − c̃)]ᵀ − c̃ [Σ_i r (x̃ − c̃)]ᵀ
 * as in mstats_full (one side carries the shift), upper triangle only.  Rows
 * whose responsibility is exactly 0 add exactly 0 and are left out: in
 * separated data most of a component's rows have r = 0 (underflow), and the
 * products then cost Σ_k (rows with r_ik ≠ 0) instead of K·B.  The sums over
 * the remaining rows are taken in the same order, so leaving the zeros out
 * changes no bit. */
/* The block's rows for the M-step kernel: rows of ldm (zero-padded in xrm)
 * unless d is already whole vectors. */
static const TYPE *mstat_rows(pass_ws *w, size_t d, size_t nb)
{
    const size_t ldm = EMGMM_LDM(d);
    if (ldm == d) return w->xs;
    for (size_t i = 0; i < nb; i++) {
        memcpy(w->xrm + i * ldm, w->xs + i * d, d * sizeof(TYPE));
        for (size_t a = d; a < ldm; a++) w->xrm[i * ldm + a] = (TYPE)0;
    }
    return w->xrm;
}

/* Components [k0, k1) of a block (rows X from mstat_rows, responsibilities r
 * [K][nb]) into out, with w's scratch. */
static void mstats_tri(const pass_shared *sh, const TYPE *X, const double *r, size_t nb, size_t k0,
                       size_t k1, pass_ws *w, emgmm_stats *out)
{
    const size_t d = sh->d, ldm = EMGMM_LDM(d);
    for (size_t k = k0; k < k1; k++) {
        const double *rk = r + k * nb, *sck = sh->sc + k * d;
        double nk;
        const size_t m =
            EMGMM_MSTAT_PATH(X, ldm, d, rk, nb, sck, w->ridx, w->s1blk, &nk, w->tacc, w->tscr);
        out->nk[k] += nk;
        if (m == 0) continue;
        EMGMM_MFOLD(w->tacc, ldm, d, w->s1blk, sck, out->s2 + k * d * d);
        double *s1 = out->s1 + k * d;
        for (size_t a = 0; a < d; a++) s1[a] += w->s1blk[a];
    }
}

/* Second moments of the full and tied families for a chunk of components at
 * a time, by one GEMM whose right factor is shared by all components:
 *   Σ_i r (x̃ − c̃)(x̃ − c̃)ᵀ = Σ_i [r (x̃ − c̃)] x̃ᵀ − [Σ_i r (x̃ − c̃)] c̃ᵀ
 * with x̃ = x − g, c̃ = c − g.  Only one side carries the shift, so the
 * rounding error grows like ε·(1 + ‖c̃‖/σ) rather than ε·‖c̃‖²/σ², and the
 * products form a d × (kc·d) GEMM over the block's rows instead of kc small
 * SYRKs (which OpenBLAS runs at a third of its GEMM rate).  The left factors
 * W_k = r_k ∘ (x̃ − c̃_k) are built component-major, vectorised over rows.
 * Components [k0, k1) of a block (transposed block xt from transpose_block,
 * responsibilities r [K][nb]) into out, with w's scratch (y, mblk, s1blk). */
static void mstats_full(const pass_shared *sh, const TYPE *xt, const double *r, size_t nb,
                        size_t k0_, size_t k1, pass_ws *w, emgmm_stats *out)
{
    const size_t d = sh->d;
    const size_t ldb = sh->ldb;
    /* Only the upper triangle is needed.  Splitting the coordinates at h
     * computes rows [0,h) against every column and rows [h,d) against columns
     * [h,d) only: 3/4 of the square for h = d/2, still in two large GEMMs.
     * The left factors are stored with every component's columns [h,d)
     * first (block R), then its columns [0,h) (block L). */
    const size_t h = d >= 32 ? (d / 2) & ~(size_t)7 : d, dr = d - h;
    for (size_t k0 = k0_; k0 < k1; k0 += sh->kc) {
        const size_t kc = (k0 + sh->kc <= k1) ? sh->kc : k1 - k0;
        const size_t cw = kc * d;
        TYPE *wt = w->y; /* the E-step products are consumed: reuse their buffer */
        for (size_t kk = 0; kk < kc; kk++) {
            const size_t k = k0 + kk;
            const double *rk = r + k * nb;
            double nk = 0.0;
            for (size_t i = 0; i < nb; i++) nk += rk[i];
            out->nk[k] += nk;
            for (size_t b = 0; b < d; b++) {
                const size_t row = b >= h ? kk * dr + (b - h) : kc * dr + kk * h + b;
                w->s1blk[kk * d + b] =
                    EMGMM_WROW(xt + b * ldb, rk, sh->sc[k * d + b], nb, wt + row * ldb);
            }
        }
        TYPE *m1 = w->mblk, *m2 = w->mblk + h * cw;
        GEMM(CblasRowMajor, CblasNoTrans, CblasTrans, (int)h, (int)cw, (int)nb, (TYPE)1, xt,
             (int)ldb, wt, (int)ldb, (TYPE)0, m1, (int)cw);
        if (dr > 0)
            GEMM(CblasRowMajor, CblasNoTrans, CblasTrans, (int)dr, (int)(kc * dr), (int)nb, (TYPE)1,
                 xt + h * ldb, (int)ldb, wt, (int)ldb, (TYPE)0, m2, (int)(kc * dr));
        for (size_t kk = 0; kk < kc; kk++) {
            const size_t k = k0 + kk;
            const double *sck = sh->sc + k * d, *s1b = w->s1blk + kk * d;
            double *s2 = out->s2 + k * d * d, *s1 = out->s1 + k * d;
            for (size_t a2 = 0; a2 < d; a2++) {
                for (size_t b2 = a2; b2 < d; b2++) {
                    double v;
                    if (a2 < h)
                        v = (double)
                            m1[a2 * cw + (b2 >= h ? kk * dr + (b2 - h) : kc * dr + kk * h + b2)];
                    else
                        v = (double)m2[(a2 - h) * (kc * dr) + kk * dr + (b2 - h)];
                    s2[a2 * d + b2] += v - sck[a2] * s1b[b2];
                }
            }
            for (size_t b2 = 0; b2 < d; b2++) s1[b2] += s1b[b2];
        }
    }
}

#include "src/em/missing_impl.h"

/* ICL's term over the block's rows, added to the thread's sum row by row, in
 * row order (so one thread sums exactly as a loop over predict_proba's rows):
 * −log of each row's largest responsibility (rows whose largest is 0, which
 * only a row with no finite density has, add nothing), times its weight. */
static void block_entropy(pass_ws *w, size_t nb, size_t K, const double *wts)
{
    double *mx = w->mx;
    for (size_t i = 0; i < nb; i++) mx[i] = 0.0;
    for (size_t k = 0; k < K; k++) {
        const double *rk = w->r + k * nb;
#pragma omp simd
        for (size_t i = 0; i < nb; i++) mx[i] = rk[i] > mx[i] ? rk[i] : mx[i];
    }
    double e = w->ent;
    for (size_t i = 0; i < nb; i++)
        if (mx[i] > 0.0 && (!wts || wts[i] != 0.0)) e -= wts ? wts[i] * log(mx[i]) : log(mx[i]);
    w->ent = e;
}

/* One block: E-step (or given responsibilities), the outputs, and the
 * statistics into w's own (comp = 0), or, in the component regime (comp = 1),
 * the block made ready for the threads that own the components
 * (run_blocks_comp). */
static void process_block(const emgmm_pass *p, const emgmm_data *X, const pass_shared *sh,
                          pass_ws *w, size_t i0, size_t nb, int comp)
{
    const size_t K = sh->K;
    /* The diagonal families' E-step and statistics read only the block transposed
     * (a2): float64 data in the float64 pass, without missing values, go there in
     * one step, not through xs (the same values; issue 21: the load and the
     * transpose were 15 % of a model-selection sweep). */
    int diag_t = 0, diag_lab = 0;
#ifdef EMGMM_TYPE_F64
    const int diag_f64 = !sh->missing && X->dtype == EMGMM_F64 && sh->cov_type != EMGMM_COV_FULL &&
                         sh->cov_type != EMGMM_COV_TIED;
    diag_t = diag_f64 && p->mode == EMGMM_PASS_ESTEP;
    /* a label pass needs the rows for its GEMM and the transposed block for the
     * statistics: the latter loaded too, not transposed element by element */
    diag_lab = diag_f64 && p->mode == EMGMM_PASS_LABELS && p->stats;
#endif
    if (diag_t || diag_lab)
        emgmm_diag_load_f64((const double *)X->x + i0 * X->ld, X->ld, nb, sh->d, sh->g, w->a2);
    if (!diag_t) load_block(X, i0, nb, sh->g, w->xs);
    w->xt_ready = 0;
    w->bll = 0.0;
    w->nmr = 0;
    if (sh->missing) scan_missing(w, nb, sh->d);
    switch (p->mode) {
    case EMGMM_PASS_ESTEP:
        if (sh->cov_type == EMGMM_COV_FULL)
            estep_full(sh, w, nb);
        else if (sh->cov_type == EMGMM_COV_TIED)
            estep_tied(sh, w, nb);
        else
            estep_diag(sh, w, nb, diag_t);
        if (w->nmr) estep_missing(sh, w, nb, i0, p->stats != NULL);
        w->bll = EMGMM_SOFTMAX(w->r, nb, K, p->logdens ? p->logdens + i0 : NULL,
                               X->weights ? X->weights + i0 : NULL, w->mx, w->sum);
        w->ll += w->bll;
        if (p->hard_entropy) block_entropy(w, nb, K, X->weights ? X->weights + i0 : NULL);
        break;
    case EMGMM_PASS_LABELS: labels_block(sh, w, nb); break;
    case EMGMM_PASS_RANDOM: /* hashed by the global row index, so any split agrees */
        random_block(p->seed, (size_t)p->row0 + i0, nb, K, w->r);
        break;
    }
    if (p->resp)
        for (size_t k = 0; k < K; k++)
            for (size_t i = 0; i < nb; i++) p->resp[(i0 + i) * K + k] = w->r[k * nb + i];
    if (p->labels)
        for (size_t i = 0; i < nb; i++) {
            size_t best = 0;
            for (size_t k = 1; k < K; k++)
                if (w->r[k * nb + i] > w->r[best * nb + i]) best = k;
            p->labels[i0 + i] = (int32_t)best;
        }
    if (p->stats && w->nmr && sh->missing == EMGMM_MISSING_DROP_EMPTY)
        w->dropped += drop_empty(sh, w, nb, X->weights ? X->weights + i0 : NULL);
    if (p->stats && X->weights) {
        /* A weight scales the row's responsibilities in every statistic; a
         * zero weight removes the row, even one whose density overflowed. */
        const double *wt = X->weights + i0;
        for (size_t k = 0; k < K; k++)
            for (size_t i = 0; i < nb; i++)
                w->r[k * nb + i] = wt[i] == 0.0 ? 0.0 : w->r[k * nb + i] * wt[i];
    }
    if (p->stats && comp) {
        if (sh->mtri)
            w->xm = mstat_rows(w, sh->d, nb);
        else
            transpose_block(sh, w, nb);
    } else if (p->stats) {
        if (sh->mtri) {
            mstats_tri(sh, mstat_rows(w, sh->d, nb), w->r, nb, 0, K, w, &w->st);
        } else if (sh->cov_type == EMGMM_COV_FULL || sh->cov_type == EMGMM_COV_TIED) {
            transpose_block(sh, w, nb);
            mstats_full(sh, w->xt, w->r, nb, 0, K, w, &w->st);
        } else {
            mstats_diag(sh, w, nb, p->mode == EMGMM_PASS_ESTEP || diag_lab);
        }
        if (w->nmr) mstats_missing(sh, w, nb, i0);
    }
}

static void shared_free(pass_shared *sh)
{
    free((void *)sh->g);
    free(sh->ucat_own);
    free(sh->pk);
    free(sh->mk);
    free(sh->mvec);
    free(sh->cst);
    free(sh->ct);
    free(sh->cnorm);
    free(sh->sc);
    free(sh->pfull);
    free(sh->upack);
    free(sh->utail);
    free(sh->pt);
    free(sh->pm);
    free(sh->lpt);
    free(sh->logw);
    free(sh->lpk);
}

/* E-step inputs for the model's family: stacked factors (full), the shared
 * factor (tied) or the expanded-form weights (diag/spherical); constants. */
static int shared_diag(const emgmm_mixture *m, pass_shared *sh, const double *g);
static int shared_factors(const emgmm_mixture *m, pass_shared *sh, const double *g, size_t kc);
static int shared_missing_full(const emgmm_mixture *m, pass_shared *sh, const double *g);

static int shared_estep(const emgmm_mixture *m, int missing, pass_shared *sh, const double *g,
                        size_t kc)
{
    const size_t K = (size_t)m->K, d = (size_t)m->d;
    const int type = m->cov_type;
    sh->cst = malloc(K * sizeof(double));
    if (!sh->cst) return EMGMM_ERR_ALLOC;
    if (missing) {
        sh->missing = missing;
        sh->logw = malloc(K * sizeof(double));
        if (!sh->logw) return EMGMM_ERR_ALLOC;
        for (size_t k = 0; k < K; k++) sh->logw[k] = log(m->weights[k]);
    }
    for (size_t k = 0; k < K; k++)
        sh->cst[k] = log(m->weights[k]) + m->log_det[k] - 0.5 * (double)d * EMGMM_LOG_2PI;
    if (type == EMGMM_COV_DIAG || type == EMGMM_COV_SPHERICAL) return shared_diag(m, sh, g);
    int st = shared_factors(m, sh, g, kc);
    if (st == EMGMM_OK && missing) st = shared_missing_full(m, sh, g);
    return st;
}

/* diag/spherical: P = 1/σ² and μ' = μ − g per component and coordinate (and
 * log P with missing values) */
static int shared_diag(const emgmm_mixture *m, pass_shared *sh, const double *g)
{
    const size_t K = (size_t)m->K, d = (size_t)m->d;
    const int type = m->cov_type;
    {
        sh->pk = malloc(K * d * sizeof(double));
        sh->mk = malloc(K * d * sizeof(double));
        if (!sh->pk || !sh->mk) return EMGMM_ERR_ALLOC;
        for (size_t k = 0; k < K; k++)
            for (size_t j = 0; j < d; j++) {
                const double pc =
                    type == EMGMM_COV_DIAG ? m->prec_chol[k * d + j] : m->prec_chol[k];
                sh->pk[k * d + j] = pc * pc;
                sh->mk[k * d + j] = m->means[k * d + j] - g[j];
            }
        if (sh->missing) {
            sh->lpk = malloc(K * d * sizeof(double));
            if (!sh->lpk) return EMGMM_ERR_ALLOC;
            for (size_t i = 0; i < K * d; i++) sh->lpk[i] = log(sh->pk[i]);
        }
        return EMGMM_OK;
    }
}

/* The double factors are read in place, with no copy, when each E-step
 * product takes one factor (tied, or one component per chunk: large d, where
 * a copy would be K·d² doubles), or when the triangular kernel takes them
 * all (tri: it reads each factor in place). */
static int factors_in_place(size_t K, size_t kc, int cov_type, int tri)
{
    return sizeof(TYPE) == sizeof(double) &&
           (cov_type == EMGMM_COV_TIED || kc == 1 || K == 1 || tri);
}

/* Whether a full E-step pass takes the triangular kernel (params NULL: the
 * default kernels).  Each kernel runs only on the vector paths it has tiles
 * for (EMGMM_TRI_ISA: type_on.h): a tile built for AVX-512's 32 registers
 * spills with AVX2's 16 and runs several times below the BLAS path
 * (bench/results/isa.md); small d takes the fused kernel instead. */
static int tri_estep(const emgmm_params *params, int cov_type, size_t d)
{
    const int kern = params ? params->pass_kernels : EMGMM_KERNELS_AUTO;
    if (cov_type != EMGMM_COV_FULL || kern == EMGMM_KERNELS_GEMM) return 0;
    const int isa = emgmm_isa_level();
#ifdef EMGMM_FUSED_QF
    if (d <= EMGMM_FUSED_DMAX && isa >= EMGMM_ISA_AVX512) return 0;
#else
    (void)d;
#endif
    return isa >= EMGMM_TRI_ISA;
}

/* full/tied: the factors stacked side by side in the working type (or the
 * mixture's own, factors_in_place), and (μ_k − g)·U_k */
static int shared_factors(const emgmm_mixture *m, pass_shared *sh, const double *g, size_t kc)
{
    const size_t K = (size_t)m->K, d = (size_t)m->d;
    const int type = m->cov_type;
    const size_t nf = type == EMGMM_COV_FULL ? K : 1; /* factors stacked side by side */
    sh->mvec = malloc(K * d * sizeof(double));
    if (!sh->mvec) return EMGMM_ERR_ALLOC;
    if (factors_in_place(K, kc, type, sh->tri)) {
        sh->ucat = (const TYPE *)(const void *)m->prec_chol;
        sh->ldu = d;
        sh->ustep = d * d;
    } else {
        sh->ldu = EMGMM_PAD(nf * d);
        sh->ustep = d;
        sh->ucat_own = malloc(d * sh->ldu * sizeof(TYPE));
        if (!sh->ucat_own) return EMGMM_ERR_ALLOC;
        sh->ucat = sh->ucat_own;
        for (size_t f = 0; f < nf; f++) {
            const double *U = m->prec_chol + f * d * d;
            for (size_t j = 0; j < d; j++)
                for (size_t l = 0; l < d; l++)
                    sh->ucat_own[j * sh->ldu + f * d + l] = (TYPE)U[j * d + l];
        }
    }
    for (size_t k = 0; k < K; k++) {
        const size_t f = type == EMGMM_COV_FULL ? k : 0;
        const double *mu = m->means + k * d;
        /* (μ_k − g)·U with the working-type U, so that Y − m cancels the same
         * rounding the GEMM saw. */
        for (size_t l = 0; l < d; l++) {
            double s = 0.0;
            for (size_t j = 0; j <= l; j++)
                s += (mu[j] - g[j]) * (double)sh->ucat[f * sh->ustep + j * sh->ldu + l];
            sh->mvec[k * d + l] = s;
        }
    }
    return EMGMM_OK;
}

/* full/tied with missing values: the precisions U·Uᵀ, and copies of them with
 * the component innermost (see missing_impl.h) */
static int shared_missing_full(const emgmm_mixture *m, pass_shared *sh, const double *g)
{
    const size_t K = (size_t)m->K, d = (size_t)m->d;
    const int type = m->cov_type;
    const size_t nf = type == EMGMM_COV_FULL ? K : 1;
    {
        sh->pfull = malloc(nf * d * d * sizeof(double));
        sh->mk = malloc(K * d * sizeof(double));
        if (!sh->pfull || !sh->mk) return EMGMM_ERR_ALLOC;
        for (size_t k = 0; k < K; k++)
            for (size_t j = 0; j < d; j++) sh->mk[k * d + j] = m->means[k * d + j] - g[j];
        for (size_t f = 0; f < nf; f++) {
            /* P = U·Uᵀ, U upper triangular: P_ab = Σ_{l >= max(a,b)} U_al U_bl */
            const double *U = m->prec_chol + f * d * d;
            double *P = sh->pfull + f * d * d;
            for (size_t a = 0; a < d; a++)
                for (size_t b = a; b < d; b++) {
                    double s = 0.0;
                    for (size_t l = b; l < d; l++) s += U[a * d + l] * U[b * d + l];
                    P[a * d + b] = s;
                    P[b * d + a] = s;
                }
        }
        /* component-innermost copies, padded with zeros to kp = K rounded up
         * to 8 so the per-row loops over components run whole vectors */
        const size_t kp = (K + 7) & ~(size_t)7;
        sh->kp = kp;
        sh->pt = calloc(d * d * kp, sizeof(double));
        sh->pm = calloc(d * kp, sizeof(double));
        sh->lpt = calloc(d * kp, sizeof(double));
        if (!sh->pt || !sh->pm || !sh->lpt) return EMGMM_ERR_ALLOC;
        for (size_t k = 0; k < K; k++) {
            const double *P = sh->pfull + (type == EMGMM_COV_FULL ? k : 0) * d * d;
            for (size_t j = 0; j < d; j++) {
                sh->lpt[j * kp + k] = log(P[j * d + j]);
                double s = 0.0;
                for (size_t l = 0; l < d; l++) {
                    sh->pt[(j * d + l) * kp + k] = P[j * d + l];
                    s += P[j * d + l] * sh->mk[k * d + l];
                }
                sh->pm[j * kp + k] = s;
            }
        }
    }
    return EMGMM_OK;
}

static void pass_geometry(size_t K, size_t d, int cov_type, int labels, size_t block_size,
                          size_t *B, size_t *kc, size_t *cw);

/* Bytes shared_build, shared_estep and shared_kernels allocate for an E-step
 * pass with statistics (emgmm_pass_memory_estimate). */
static double shared_bytes(size_t K, size_t d, int cov_type, int missing)
{
    const size_t nf = cov_type == EMGMM_COV_FULL ? K : 1, kp = (K + 7) & ~(size_t)7;
    double b = 8.0 * (double)(d + K * d + K); /* g, sc, cst */
    if (missing) b += 8.0 * (double)K;        /* logw */
    if (cov_type == EMGMM_COV_DIAG || cov_type == EMGMM_COV_SPHERICAL)
        return b + 8.0 * (double)(2 * d * K + K + 2 * K * d + (missing ? K * d : 0));
    size_t B, kc, cw;
    pass_geometry(K, d, cov_type, 0, 0, &B, &kc, &cw);
    if (!factors_in_place(K, kc, cov_type, tri_estep(NULL, cov_type, d)))
        b += (double)(d * EMGMM_PAD(nf * d) * sizeof(TYPE)); /* ucat */
    b += 8.0 * (double)(K * d);                              /* mvec */
    if (missing) b += 8.0 * (double)(nf * d * d + K * d + d * d * kp + 2 * d * kp);
    /* the E-step kernel's own copy of the factors: upack, or utail (pass_settings) */
    const int isa = emgmm_isa_level();
    int fused = 0;
#ifdef EMGMM_FUSED_QF
    fused = d <= EMGMM_FUSED_DMAX && isa >= EMGMM_ISA_AVX512;
#endif
    if (cov_type == EMGMM_COV_FULL && fused)
        b += 8.0 * (double)(K * (d * (d + 1) / 2));
    else if (cov_type == EMGMM_COV_FULL && isa >= EMGMM_TRI_ISA)
        b += (double)(K * emgmm_tri_tail_size(d) * sizeof(TYPE));
    return b;
}

/* Builds the read-only inputs: the centre g, the stacked precision factors or
 * centres in the working type, and the shifts relative to g. */
static int shared_build(const emgmm_pass *p, pass_shared *sh)
{
    const emgmm_mixture *m = p->mix;
    const size_t K = (size_t)m->K, d = (size_t)m->d;
    memset(sh, 0, sizeof *sh);
    sh->K = K;
    sh->d = d;
    sh->cov_type = m->cov_type;
    double *g = calloc(d, sizeof(double));
    sh->g = g;
    if (!g) return EMGMM_ERR_ALLOC;
    if (p->mode == EMGMM_PASS_ESTEP) {
        for (size_t k = 0; k < K; k++)
            for (size_t j = 0; j < d; j++) g[j] += m->weights[k] * m->means[k * d + j];
    } else {
        const double *src = p->mode == EMGMM_PASS_LABELS ? p->centres : p->shift;
        if (src) {
            for (size_t k = 0; k < K; k++)
                for (size_t j = 0; j < d; j++) g[j] += src[k * d + j];
            for (size_t j = 0; j < d; j++) g[j] /= (double)K;
        }
    }
    if (p->mode == EMGMM_PASS_ESTEP) {
        size_t B, kc, cw;
        pass_geometry(K, d, m->cov_type, 0, p->block_size, &B, &kc, &cw);
        sh->tri = tri_estep(p->params, m->cov_type, d); /* as pass_settings */
        int st = shared_estep(m, p->missing, sh, g, kc);
        if (st) return st;
    } else if (p->mode == EMGMM_PASS_LABELS) {
        sh->ct = malloc(d * K * sizeof(TYPE));
        sh->cnorm = malloc(K * sizeof(double));
        if (!sh->ct || !sh->cnorm) return EMGMM_ERR_ALLOC;
        for (size_t k = 0; k < K; k++) {
            double s = 0.0;
            for (size_t j = 0; j < d; j++) {
                TYPE c = (TYPE)(p->centres[k * d + j] - g[j]);
                sh->ct[j * K + k] = c;
                s += (double)c * (double)c;
            }
            sh->cnorm[k] = s;
        }
    }
    if (p->shift) {
        sh->sc = malloc(K * d * sizeof(double));
        if (!sh->sc) return EMGMM_ERR_ALLOC;
        for (size_t k = 0; k < K; k++)
            for (size_t j = 0; j < d; j++) sh->sc[k * d + j] = p->shift[k * d + j] - g[j];
    }
    return EMGMM_OK;
}

/* The pass's block size B, components per E-step product kc and product
 * width cw: what both the pass and emgmm_pass_memory_estimate use. */
static void pass_geometry(size_t K, size_t d, int cov_type, int labels, size_t block_size,
                          size_t *B, size_t *kc, size_t *cw)
{
    *B = block_rows(block_size, d);
    /* Components per E-step product: the transposed products Yᵀ (cw × B) stay
     * within ~2 MB, near the L2 cache, while each GEMM stays wide. */
    *kc = K;
    size_t kmax = (size_t)262144 / *B / d;
    if (kmax < 1) kmax = 1;
    if (kmax < K) *kc = kmax;
    *cw = (cov_type == EMGMM_COV_FULL || cov_type == EMGMM_COV_TIED) ? *kc * d : d;
    if (labels && *cw < K) *cw = K;
}

/* The pass's settings beyond the shared inputs: geometry, kernels (by
 * params.pass_kernels) and the missing-value store limits. */
static void pass_settings(const emgmm_pass *p, pass_shared *sh, int want_stats)
{
    const size_t K = sh->K, d = sh->d;
    const int type = sh->cov_type;
    pass_geometry(K, d, type, p->mode == EMGMM_PASS_LABELS, p->block_size, &sh->B, &sh->kc,
                  &sh->cw);
    sh->ldb = EMGMM_PAD(sh->B);
    /* EMGMM_KERNELS_GEMM keeps both steps on the GEMM path,
     * EMGMM_KERNELS_GEMM_MSTEP the M-step alone (benchmarks, tests). */
    const int kern = p->params ? p->params->pass_kernels : EMGMM_KERNELS_AUTO;
    const int off = kern == EMGMM_KERNELS_GEMM;
    /* Each kernel runs only on the vector paths it has tiles for
     * (EMGMM_MTRI_ISA: type_on.h; the E-step's: tri_estep). */
    const int isa = emgmm_isa_level();
#ifdef EMGMM_FUSED_QF
    sh->fused = p->mode == EMGMM_PASS_ESTEP && type == EMGMM_COV_FULL && !off &&
                d <= EMGMM_FUSED_DMAX && isa >= EMGMM_ISA_AVX512;
#endif
    sh->tri = p->mode == EMGMM_PASS_ESTEP && tri_estep(p->params, type, d);
    sh->mtri = want_stats && (type == EMGMM_COV_FULL || type == EMGMM_COV_TIED) && !off &&
               kern != EMGMM_KERNELS_GEMM_MSTEP && isa >= EMGMM_MTRI_ISA;
    sh->miss_store_max =
        limit_or_default(p->params ? p->params->miss_store_max : 0, EMGMM_MISS_STORE_DEFAULT);
    sh->pc_fac_max =
        limit_or_default(p->params ? p->params->pattern_cache_max : 0, EMGMM_PC_FAC_DEFAULT);
}

/* The per-thread workspaces: the caller's cache's when their shape fits (reset,
 * not reallocated), else new ones stored in the cache (p->cache; without one,
 * *tmp holds them for the caller to free). */
static int workspaces(const emgmm_pass *p, const pass_shared *sh, int T, int want_stats, int comp,
                      ws_cache **out, ws_cache **tmp)
{
    const size_t K = sh->K, d = sh->d;
    emgmm_pass_cache *pc = p->cache;
    ws_cache *cache = pc ? pc->ws[WS_SLOT] : NULL;
    *tmp = NULL;
    if (cache &&
        !(cache->T == T && cache->B == sh->B && cache->d == d && cache->K == K &&
          cache->cw == sh->cw && cache->stats == want_stats && cache->cov_type == sh->cov_type &&
          cache->missing == sh->missing && cache->mtri == sh->mtri && cache->comp == comp)) {
        ws_cache_free(cache);
        pc->ws[WS_SLOT] = cache = NULL;
    }
    if (cache) {
        for (int t = 0; t < T; t++) ws_reset(&cache->ws[t], K, d, want_stats);
        *out = cache;
        return EMGMM_OK;
    }
    cache = calloc(1, sizeof *cache);
    pass_ws *nws = cache ? calloc((size_t)T, sizeof *nws) : NULL;
    if (!nws) {
        free(cache);
        return EMGMM_ERR_ALLOC;
    }
    *cache = (ws_cache){T, want_stats, sh->cov_type, sh->missing, sh->mtri, comp, sh->B,
                        d, K,          sh->cw,       nws};
    int st = EMGMM_OK;
    for (int t = 0; t < T && st == EMGMM_OK; t++)
        st = ws_alloc(&nws[t], sh->B, d, K, sh->cw, want_stats, sh->cov_type, sh->missing, sh->mtri,
                      !comp && t > 0);
    if (st) {
        ws_cache_free(cache);
        return st;
    }
    if (pc) {
        pc->ws[WS_SLOT] = cache;
        pc->ws_free[WS_SLOT] = ws_cache_free;
    } else {
        *tmp = cache;
    }
    *out = cache;
    return EMGMM_OK;
}

/* The E-step kernels' own copies of the factors: packed by columns for the
 * fused kernel (the working-type U, as the GEMM path's products and mvec use);
 * for the triangular one, which reads ucat in place, only a last partial
 * column group (issue 22: no K·d² copy). */
static int shared_kernels(pass_shared *sh)
{
    const size_t K = sh->K, d = sh->d;
    if (sh->fused) {
        sh->upack = malloc(K * (d * (d + 1) / 2) * sizeof(double));
        if (!sh->upack) return EMGMM_ERR_ALLOC;
        for (size_t k = 0; k < K; k++) {
            double *u = sh->upack + k * (d * (d + 1) / 2);
            for (size_t l = 0; l < d; l++)
                for (size_t j = 0; j <= l; j++)
                    *u++ = (double)sh->ucat[k * sh->ustep + j * sh->ldu + l];
        }
    }
    const size_t tsz = emgmm_tri_tail_size(d);
    if (sh->tri && tsz > 0) {
        sh->utail = malloc(K * tsz * sizeof(TYPE));
        if (!sh->utail) return EMGMM_ERR_ALLOC;
        for (size_t k = 0; k < K; k++)
            EMGMM_TRI_TAIL(sh->ucat + k * sh->ustep, sh->ldu, d, sh->utail + k * tsz);
    }
    return EMGMM_OK;
}

/* The blocks, in parallel: static contiguous ranges of blocks, the same split
 * for the same T, so every thread's accumulation order is fixed. */
static void run_blocks(const emgmm_pass *p, const emgmm_data *X, const pass_shared *sh, pass_ws *ws,
                       int T)
{
    const size_t n = X->n, nblocks = (n + sh->B - 1) / sh->B;
    int blas_threads = emgmm_blas_single_begin();
#ifdef _OPENMP
#pragma omp parallel num_threads(T)
#endif
    {
#ifdef _OPENMP
        const int tid = omp_get_thread_num();
#else
        const int tid = 0;
#endif
        EMGMM_BLAS_SINGLE_IN_REGION();
        const size_t b0 = nblocks * (size_t)tid / (size_t)T;
        const size_t b1 = nblocks * (size_t)(tid + 1) / (size_t)T;
        for (size_t b = b0; b < b1; b++) {
            const size_t i0 = b * sh->B;
            const size_t nb = (i0 + sh->B <= n) ? sh->B : n - i0;
            process_block(p, X, sh, &ws[tid], i0, nb, 0);
        }
    }
    emgmm_blas_single_end(blas_threads);
}

/* The component regime (issue 22): when a thread's own K·d² statistics would
 * outweigh the rest of its workspace (use_comp_regime), no thread keeps
 * statistics of its own.  The blocks go in rounds of T: thread t runs the
 * E-step of block round·T + t; then the threads share out the components
 * (one at a time for the triangular kernel, a chunk of kc for the GEMM one;
 * dynamically, as their rows make their cost uneven), and the thread that
 * takes one adds the round's blocks to its statistics in block order, in the
 * pass's one output.  Every component's sums, and the log-likelihood's, then
 * run over the blocks in order, whichever thread computes them, so the result
 * does not depend on the thread count at all; it is the order of the
 * per-thread regime's single thread, not that of its reduction over threads,
 * so results agree with the per-thread regime at T > 1 to rounding, not bit
 * for bit. */
static void run_blocks_comp(const emgmm_pass *p, const emgmm_data *X, const pass_shared *sh,
                            pass_ws *ws, int T)
{
    const size_t n = X->n, K = sh->K, nblocks = (n + sh->B - 1) / sh->B;
    const size_t unit = sh->mtri ? 1 : sh->kc, nunits = (K + unit - 1) / unit;
    double ll = 0.0;
    int blas_threads = emgmm_blas_single_begin();
#ifdef _OPENMP
#pragma omp parallel num_threads(T)
#endif
    {
#ifdef _OPENMP
        const int tid = omp_get_thread_num();
#else
        const int tid = 0;
#endif
        EMGMM_BLAS_SINGLE_IN_REGION();
        for (size_t r0 = 0; r0 < nblocks; r0 += (size_t)T) {
            const size_t b = r0 + (size_t)tid;
            ws[tid].bnb = 0;
            if (b < nblocks) {
                const size_t i0 = b * sh->B;
                const size_t nb = (i0 + sh->B <= n) ? sh->B : n - i0;
                process_block(p, X, sh, &ws[tid], i0, nb, 1);
                ws[tid].bnb = nb;
            }
#ifdef _OPENMP
#pragma omp barrier
#endif
            if (tid == 0)
                for (int t = 0; t < T; t++)
                    if (ws[t].bnb) ll += ws[t].bll;
#ifdef _OPENMP
#pragma omp for schedule(dynamic, 1)
#endif
            for (size_t u = 0; u < nunits; u++) {
                const size_t k0 = u * unit, k1 = k0 + unit < K ? k0 + unit : K;
                for (int t = 0; t < T; t++) {
                    const pass_ws *src = &ws[t];
                    if (!src->bnb) continue;
                    if (sh->mtri)
                        mstats_tri(sh, src->xm, src->r, src->bnb, k0, k1, &ws[tid], p->stats);
                    else
                        mstats_full(sh, src->xt, src->r, src->bnb, k0, k1, &ws[tid], p->stats);
                }
            } /* the loop's barrier: the round's blocks are free again */
        }
    }
    emgmm_blas_single_end(blas_threads);
    /* the log-likelihood in block order, as thread 0's (gather sums in thread order) */
    for (int t = 0; t < T; t++) ws[t].ll = t == 0 ? ll : 0.0;
}

/* Whether a pass's statistics take the component regime (run_blocks_comp):
 * full/tied statistics (K·d² doubles) that outweigh the rest of one thread's
 * workspace (sz, from ws_sizes), without missing values (whose cross terms
 * stay per thread).  From the sizes alone, not the thread count, so that a
 * fit's summation order does not change with it. */
static int use_comp_regime(size_t K, size_t d, int cov_type, int missing, int stats,
                           const size_t sz[WS_NBUF])
{
    if (!stats || missing || !(cov_type == EMGMM_COV_FULL || cov_type == EMGMM_COV_TIED)) return 0;
    double ws = 0.0;
    for (int i = 0; i < WS_NBUF; i++) ws += (double)sz[i];
    return 8.0 * (double)K * (double)d * (double)d > ws;
}

/* The threads' results, in thread order: log-likelihood, dropped weight, the
 * missing-value cross terms, the first failure, the reduced statistics. */
static int gather(const emgmm_pass *p, const pass_shared *sh, pass_ws *ws, int T, int want_stats)
{
    int st = EMGMM_OK;
    double ll = 0.0, dropped = 0.0;
    for (int t = 0; t < T; t++) {
        ll += ws[t].ll;
        dropped += ws[t].dropped;
    }
    if (p->dropped) *p->dropped = dropped;
    for (int t = 0; t < T; t++)
        if (ws[t].mg) fold_missing(sh, &ws[t], sh->K, sh->d);
    for (int t = 0; t < T && st == EMGMM_OK; t++)
        if (ws[t].err) {
            st = ws[t].err;
            if (p->fail) *p->fail = (emgmm_pass_failure){1, ws[t].err_row, ws[t].err_comp};
        }
    if (p->loglik_sum) *p->loglik_sum = ll;
    if (p->hard_entropy) {
        double ent = 0.0;
        for (int t = 0; t < T; t++) ent += ws[t].ent;
        *p->hard_entropy = ent;
    }
    if (want_stats && st == EMGMM_OK) {
        /* thread 0 accumulated in p->stats itself (0 + x = x: the same sums
         * as a reduction from zero); the others' are added in thread order
         * (none in the component regime) */
        for (int t = 1; t < T; t++)
            if (ws[t].st.nk) emgmm_stats_add(p->stats, &ws[t].st);
        p->stats->loglik = ll;
    }
    return st;
}

static int pass_run(const emgmm_pass *p, const emgmm_data *X)
{
    const int want_stats = p->stats != NULL && p->shift != NULL;
    if (p->fail) p->fail->set = 0;
    pass_shared sh;
    int st = shared_build(p, &sh);
    ws_cache *cache = NULL, *tmp = NULL;
    if (st == EMGMM_OK) {
        pass_settings(p, &sh, want_stats);
        const size_t nblocks = (X->n + sh.B - 1) / sh.B;
        int T = emgmm_threads(p->n_threads);
        if ((size_t)T > nblocks) T = nblocks > 0 ? (int)nblocks : 1;
        size_t sz[WS_NBUF];
        ws_sizes(sh.B, sh.d, sh.K, sh.cw, want_stats, sh.cov_type, sh.missing, sh.mtri, sz);
        const int comp = use_comp_regime(sh.K, sh.d, sh.cov_type, sh.missing, want_stats, sz);
        st = workspaces(p, &sh, T, want_stats, comp, &cache, &tmp);
        if (st == EMGMM_OK) st = shared_kernels(&sh);
        if (st == EMGMM_OK) {
            if (want_stats) {
                /* the pass's output is thread 0's accumulator, or the
                 * component regime's one */
                emgmm_stats_zero(p->stats);
                if (!comp) cache->ws[0].st = *p->stats;
            }
            if (comp)
                run_blocks_comp(p, X, &sh, cache->ws, T);
            else
                run_blocks(p, X, &sh, cache->ws, T);
            st = gather(p, &sh, cache->ws, T, want_stats);
            if (want_stats && !comp) memset(&cache->ws[0].st, 0, sizeof cache->ws[0].st);
        }
    }
    ws_cache_free(tmp);
    shared_free(&sh);
    return st;
}

/* Bytes of the workspaces and shared inputs of one pass (see
 * emgmm_pass_memory_estimate): the sizes ws_alloc and shared_estep allocate. */
static double pass_bytes(int K_, int d_, int cov_type, int missing, int stats, int T)
{
    const size_t K = (size_t)K_, d = (size_t)d_;
    size_t B, kc, cw;
    pass_geometry(K, d, cov_type, 0, 0, &B, &kc, &cw);
    /* as pass_settings chooses the M-step kernel by default */
    const int square = cov_type == EMGMM_COV_FULL || cov_type == EMGMM_COV_TIED;
    const int mtri = stats && square && emgmm_isa_level() >= EMGMM_MTRI_ISA;
    size_t sz[WS_NBUF];
    ws_sizes(B, d, K, cw, stats, cov_type, missing, mtri, sz);
    double ws = 0.0;
    for (int i = 0; i < WS_NBUF; i++) ws += (double)sz[i];
    /* what a thread's missing-value work grows to: the pattern cache's factors
     * (at the default cap) and, with statistics for d <= EMGMM_MISS_CROSS_D,
     * the cross terms' coefficients (every entry of a block missing, at most) */
    if (missing && square) {
        ws += 8.0 * (double)EMGMM_PC_FAC_DEFAULT;
        if (stats && d <= EMGMM_MISS_CROSS_D) ws += 8.0 * (double)B * (double)d * (double)((K + 7) & ~(size_t)7);
    }
    /* statistics of their own: the threads after the first, per-thread regime */
    const double own =
        use_comp_regime(K, d, cov_type, missing, stats, sz) || T < 2
            ? 0.0
            : (double)(T - 1) * 8.0 * (double)(K + K * d + K * emgmm_stats_s2_len(cov_type, d_));
    return (double)T * ws + own + shared_bytes(K, d, cov_type, missing);
}
