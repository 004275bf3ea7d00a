/* comm.c — fits distributed over MPI: the communicator a model carries, the
 * one all-reduce of sufficient statistics per data pass, and the agreement on
 * failures that keeps every rank on the same sequence of collectives.
 * Without EMGMM_HAVE_MPI every entry point is a pass-through. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "src/dist/dist.h"

#ifdef EMGMM_HAVE_MPI
#include <mpi.h>

_Static_assert(sizeof(MPI_Comm) <= sizeof(((emgmm_model *)0)->dist_comm),
               "emgmm_model.dist_comm cannot hold an MPI_Comm");

static MPI_Comm comm_of(const emgmm_model *m)
{
    MPI_Comm c;
    memcpy(&c, m->dist_comm, sizeof c);
    return c;
}
#endif

int emgmm_model_set_mpi_comm(emgmm_model *m, const void *comm, long long row_offset)
{
    if (!m) return EMGMM_ERR_NULL;
    if (!comm) {
        m->dist_on = 0;
        m->dist_row0 = 0;
        return EMGMM_OK;
    }
#ifdef EMGMM_HAVE_MPI
    if (row_offset < 0)
        return emgmm_fail(m, EMGMM_ERR_INVALID_PARAM, "negative row offset %lld", row_offset);
    int inited = 0;
    MPI_Initialized(&inited);
    if (!inited) return emgmm_fail(m, EMGMM_ERR_INVALID_PARAM, "MPI is not initialised");
    /* The message buffer is allocated here, once: a rank that failed to
     * allocate inside a collective could not take part in it. */
    if (!m->dist_buf) {
        const size_t len = emgmm_dist_stats_doubles(m->cov_type, m->K, m->d);
        m->dist_buf = malloc(len * sizeof(double));
        if (!m->dist_buf) return EMGMM_ERR_ALLOC;
        m->dist_buf_len = len;
    }
    memset(m->dist_comm, 0, sizeof m->dist_comm);
    memcpy(m->dist_comm, comm, sizeof(MPI_Comm));
    m->dist_row0 = row_offset;
    m->dist_on = 1;
    return EMGMM_OK;
#else
    (void)row_offset;
    return emgmm_fail(m, EMGMM_ERR_UNSUPPORTED, "this build of libemgmm has no MPI");
#endif
}

int emgmm_dist_active(const emgmm_model *m) { return m && m->dist_on; }

void emgmm_dist_rank_size(const emgmm_model *m, int *rank, int *size)
{
    *rank = 0;
    *size = 1;
#ifdef EMGMM_HAVE_MPI
    if (emgmm_dist_active(m)) {
        MPI_Comm_rank(comm_of(m), rank);
        MPI_Comm_size(comm_of(m), size);
    }
#else
    (void)m;
#endif
}

long long emgmm_dist_row_offset(const emgmm_model *m) { return m && m->dist_on ? m->dist_row0 : 0; }

size_t emgmm_dist_stats_doubles(int cov_type, int K, int d)
{
    const size_t s2 = (cov_type == EMGMM_COV_FULL || cov_type == EMGMM_COV_TIED)
                          ? (size_t)d * ((size_t)d + 1) / 2
                          : (size_t)d;
    /* N_k, Σ r·x, second moments per component; log-likelihood, the caller's
     * weight sum and the failure count */
    return (size_t)K * (1 + (size_t)d + s2) + 3;
}

#ifdef EMGMM_HAVE_MPI
/* Every rank learned (from a summed failure count) that some rank failed.
 * The lowest failing rank's status, message and location are sent to all. */
static int propagate_failure(emgmm_model *m, int st)
{
    MPI_Comm c = comm_of(m);
    int rank, size;
    MPI_Comm_rank(c, &rank);
    MPI_Comm_size(c, &size);
    int mine = st != EMGMM_OK ? rank : size, root = size;
    MPI_Allreduce(&mine, &root, 1, MPI_INT, MPI_MIN, c);
    struct {
        long long row, col;
        int status, comp;
        char msg[sizeof m->errmsg];
    } rec;
    memset(&rec, 0, sizeof rec);
    if (rank == root) {
        rec.row = m->err_row;
        rec.col = m->err_col;
        rec.status = st;
        rec.comp = m->err_comp;
        memcpy(rec.msg, m->errmsg, sizeof rec.msg);
        if (!rec.msg[0])
            snprintf(rec.msg, sizeof rec.msg, "%s (on rank %d)", emgmm_strerror(st), rank);
    }
    MPI_Bcast(&rec, (int)sizeof rec, MPI_BYTE, root, c);
    m->err_row = rec.row;
    m->err_col = rec.col;
    m->err_comp = rec.comp;
    memcpy(m->errmsg, rec.msg, sizeof m->errmsg);
    m->errmsg[sizeof m->errmsg - 1] = 0;
    return rec.status != EMGMM_OK ? rec.status : EMGMM_ERR_INTERNAL;
}
#endif

int emgmm_dist_sum(emgmm_model *m, double *v, size_t n, int st)
{
    if (!emgmm_dist_active(m)) return st;
#ifdef EMGMM_HAVE_MPI
    /* The failure count rides in the last element of every message, so the
     * agreement costs nothing more on the normal path.  Long vectors go in
     * pieces of the model's buffer (every rank has the same n, so the same
     * pieces); the callers' vectors (counts, K·d centres) fit in one. */
    double *buf = m->dist_buf;
    const size_t cap = m->dist_buf_len - 1;
    size_t i = 0;
    do {
        const size_t len = n - i < cap ? n - i : cap;
        if (len) memcpy(buf, v + i, len * sizeof(double));
        buf[len] = st != EMGMM_OK ? 1.0 : 0.0;
        MPI_Allreduce(MPI_IN_PLACE, buf, (int)(len + 1), MPI_DOUBLE, MPI_SUM, comm_of(m));
        if (buf[len] > 0.0) return propagate_failure(m, st);
        if (len) memcpy(v + i, buf, len * sizeof(double));
        i += len;
    } while (i < n);
    return EMGMM_OK;
#else
    (void)v;
    (void)n;
    return st;
#endif
}

int emgmm_dist_agree(emgmm_model *m, int st) { return emgmm_dist_sum(m, NULL, 0, st); }

int emgmm_dist_allreduce_stats(emgmm_model *m, emgmm_stats *s, double *extra, int st)
{
    if (!emgmm_dist_active(m)) return st;
#ifdef EMGMM_HAVE_MPI
    const size_t K = (size_t)s->K, d = (size_t)s->d;
    const int tri = s->s2_len == d * d; /* full/tied: only the upper triangle is valid */
    const size_t s2n = tri ? d * (d + 1) / 2 : d;
    const size_t n = K * (1 + d + s2n) + 2;
    double *buf = m->dist_buf; /* n + 1 doubles, allocated with the communicator */
    double *p = buf;
    memcpy(p, s->nk, K * sizeof(double));
    p += K;
    memcpy(p, s->s1, K * d * sizeof(double));
    p += K * d;
    for (size_t k = 0; k < K; k++) {
        const double *s2 = s->s2 + k * s->s2_len;
        if (tri)
            for (size_t a = 0; a < d; a++)
                for (size_t b = a; b < d; b++) *p++ = s2[a * d + b];
        else
            for (size_t a = 0; a < d; a++) *p++ = s2[a];
    }
    *p++ = s->loglik;
    *p++ = extra ? *extra : 0.0;
    *p = st != EMGMM_OK ? 1.0 : 0.0;
    /* The failure count is the last element: one all-reduce on the normal
     * path; the statistics of a failed pass are simply discarded. */
    MPI_Allreduce(MPI_IN_PLACE, buf, (int)(n + 1), MPI_DOUBLE, MPI_SUM, comm_of(m));
    if (buf[n] > 0.0) return propagate_failure(m, st);
    p = buf;
    memcpy(s->nk, p, K * sizeof(double));
    p += K;
    memcpy(s->s1, p, K * d * sizeof(double));
    p += K * d;
    for (size_t k = 0; k < K; k++) {
        double *s2 = s->s2 + k * s->s2_len;
        if (tri)
            for (size_t a = 0; a < d; a++)
                for (size_t b = a; b < d; b++) s2[a * d + b] = *p++;
        else
            for (size_t a = 0; a < d; a++) s2[a] = *p++;
    }
    s->loglik = *p++;
    if (extra) *extra = *p;
    return EMGMM_OK;
#else
    (void)s;
    (void)extra;
    return st;
#endif
}
