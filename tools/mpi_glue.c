/* mpi_glue.c — MPI for the emgmm tool: start-up, the row range of each rank,
 * failure agreement, and stderr held back on ranks other than 0 so that each
 * failure is reported once, by the rank that saw it. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mpi_glue.h"

#ifdef EMGMM_HAVE_MPI
#include <mpi.h>

static int g_on, g_rank, g_size = 1;
static int g_saved_fd = -1; /* the real stderr of a rank other than 0 */
static FILE *g_hold;        /* where that rank's stderr goes meanwhile */

/* Copies (show) or drops the held-back messages and starts afresh. */
static void release_held(int show)
{
    if (!g_hold) return;
    fflush(stderr);
    if (show) {
        char buf[4096];
        size_t k;
        rewind(g_hold);
        while ((k = fread(buf, 1, sizeof buf, g_hold)) > 0)
            if (write(g_saved_fd, buf, k) < 0) break;
    }
    if (ftruncate(fileno(g_hold), 0) != 0) { /* nothing better to do */
    }
    rewind(g_hold);
}

void glue_init(int *argc, char ***argv)
{
    if (!getenv("OMPI_COMM_WORLD_SIZE") && !getenv("PMI_SIZE") && !getenv("PMIX_RANK")) return;
    if (MPI_Init(argc, argv) != MPI_SUCCESS) return;
    g_on = 1;
    MPI_Comm_rank(MPI_COMM_WORLD, &g_rank);
    MPI_Comm_size(MPI_COMM_WORLD, &g_size);
    if (g_rank != 0) {
        fflush(stderr);
        g_hold = tmpfile();
        g_saved_fd = g_hold ? dup(2) : -1;
        if (g_saved_fd < 0 || dup2(fileno(g_hold), 2) < 0) {
            if (g_hold) fclose(g_hold);
            g_hold = NULL;
        }
    }
}

void glue_finalize(int rc)
{
    if (!g_on) return;
    release_held(rc == 0);
    if (g_hold) {
        dup2(g_saved_fd, 2);
        close(g_saved_fd);
        fclose(g_hold);
        g_hold = NULL;
    }
    MPI_Finalize();
    g_on = 0;
}

int glue_rank(void) { return g_rank; }
int glue_size(void) { return g_size; }

int glue_agree(int rc)
{
    if (!g_on) return rc;
    int mine = rc ? g_rank : g_size, first = g_size;
    MPI_Allreduce(&mine, &first, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD);
    if (first == g_size) {
        release_held(1);
        return 0;
    }
    int code = rc;
    MPI_Bcast(&code, 1, MPI_INT, first, MPI_COMM_WORLD);
    if (g_rank == first) release_held(1);
    return code;
}

/* This rank's part of a CSV file: the ranks split the bytes after the header
 * at line starts; an exclusive prefix sum of the parts' newline counts gives
 * each its first line number before it parses, so an error names the file's
 * own line.  Collective whether or not this rank fails. */
static int read_csv_part(const char *path, const emgmm_io_read_opts *o, emgmm_io_matrix *mat,
                         long long *row0)
{
    emgmm_io_error err = {0};
    emgmm_io_csv_part *cp = NULL;
    emgmm_io_csv_range_info info = {0};
    int rc = CLI_OK;
    if (emgmm_io_csv_part_open(&cp, path, o, g_rank, g_size, &err) != 0) rc = cli_io_fail(&err);
    unsigned long long lines = cp ? emgmm_io_csv_part_lines(cp) : 0, before = 0;
    MPI_Exscan(&lines, &before, 1, MPI_UNSIGNED_LONG_LONG, MPI_SUM, MPI_COMM_WORLD);
    if (g_rank == 0) before = 0; /* MPI_Exscan leaves rank 0's result undefined */
    if (rc == CLI_OK && emgmm_io_csv_part_read(cp, (size_t)before, mat, &info, &err) != 0)
        rc = cli_io_fail(&err);
    /* What only the whole file shows: a blank line followed by rows in a
     * later part, and no rows at all.  Every rank gathers every part's facts
     * and decides the same. */
    long long mine[4] = {rc != CLI_OK, info.has_content, info.first_blank != 0,
                         rc == CLI_OK ? (long long)mat->n : 0};
    long long *all = malloc((size_t)g_size * sizeof mine);
    if (!all) {
        /* Out of memory for P·32 bytes: the collectives below cannot be
         * joined consistently, so end the job. */
        fputs("emgmm: out of memory\n", stderr);
        MPI_Abort(MPI_COMM_WORLD, CLI_INTERNAL);
    }
    MPI_Allgather(mine, 4, MPI_LONG_LONG, all, 4, MPI_LONG_LONG, MPI_COMM_WORLD);
    int first_fail = g_size, first_blank = g_size, later_content = 0;
    long long total = 0;
    *row0 = 0;
    for (int r = 0; r < g_size; r++) {
        if (all[4 * r] && first_fail == g_size) first_fail = r;
        if (all[4 * r + 2] && first_blank == g_size)
            first_blank = r;
        else if (first_blank < r && all[4 * r + 1])
            later_content = 1;
        if (r < g_rank) *row0 += all[4 * r + 3]; /* the exclusive prefix sum of row counts */
        total += all[4 * r + 3];
    }
    free(all);
    if (rc == CLI_OK && g_rank == first_blank && later_content && first_fail > first_blank) {
        emgmm_io_csv_blank_error(emgmm_io_csv_part_name(cp), info.first_blank, &err);
        rc = cli_io_fail(&err);
    } else if (rc == CLI_OK && g_rank == 0 && first_fail == g_size && total == 0) {
        emgmm_io_csv_no_rows_error(emgmm_io_csv_part_name(cp), &err);
        rc = cli_io_fail(&err);
    }
    if (rc != CLI_OK) emgmm_io_matrix_free(mat);
    emgmm_io_csv_part_close(cp);
    return rc;
}

/* 1 when V is the same on every rank (e.g. whether the data is split CSV). */
static int same_on_all(int v)
{
    int lo = v, hi = v;
    MPI_Allreduce(MPI_IN_PLACE, &lo, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD);
    MPI_Allreduce(MPI_IN_PLACE, &hi, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
    return lo == hi;
}

/* Copies the part file PF (SIZE bytes) to the file NAME at byte AT. */
static int pwrite_part(FILE *pf, long long size, const char *name, long long at, const char *path)
{
    int fd = open(name, O_WRONLY);
    if (fd < 0)
        return cli_fail(CLI_INPUT,
                        "cannot open %s to write rank %d's rows of %s: %s (with several MPI ranks "
                        "the output's directory must be shared by all of them)",
                        name, g_rank, path, strerror(errno));
    char buf[1 << 16];
    int rc = CLI_OK;
    rewind(pf);
    for (long long done = 0; done < size && rc == CLI_OK;) {
        size_t want = size - done < (long long)sizeof buf ? (size_t)(size - done) : sizeof buf;
        size_t got = fread(buf, 1, want, pf);
        if (got != want) {
            rc = cli_fail(CLI_INPUT, "cannot read back rank %d's part of %s", g_rank, path);
            break;
        }
        for (size_t w = 0; w < got && rc == CLI_OK;) {
            ssize_t k = pwrite(fd, buf + w, got - w, (off_t)(at + done + (long long)w));
            if (k < 0 && errno == EINTR) continue;
            if (k <= 0)
                rc = cli_fail(CLI_INPUT, "cannot write %s: %s", path, strerror(errno));
            else
                w += (size_t)k;
        }
        done += (long long)got;
    }
    if (close(fd) != 0 && rc == CLI_OK)
        rc = cli_fail(CLI_INPUT, "cannot write %s: %s", path, strerror(errno));
    return rc;
}

/* For stdout and devices (nothing to write at an offset): rank 0 writes its
 * part, then each other rank's in rank order, sent in chunks.  A rank sends
 * exactly the SIZES[r] bytes it announced, zeros if it cannot read them. */
static int funnel_parts(FILE *pf, const long long *sizes, FILE *out, const char *path)
{
    enum {
        CHUNK = 1 << 16
    };
    char *buf = malloc(CHUNK);
    int rc = buf ? CLI_OK : cli_fail(CLI_INTERNAL, "out of memory");
    if (!buf) MPI_Abort(MPI_COMM_WORLD, CLI_INTERNAL); /* the byte stream cannot be kept in step */
    rewind(pf);
    for (int r = 0; r < g_size; r++) {
        if (g_rank != 0 && g_rank != r) continue;
        for (long long done = 0; done < sizes[r];) {
            int k = sizes[r] - done < CHUNK ? (int)(sizes[r] - done) : CHUNK;
            if (g_rank == r && (size_t)k != fread(buf, 1, (size_t)k, pf)) {
                if (rc == CLI_OK)
                    rc = cli_fail(CLI_INPUT, "cannot read back rank %d's part of %s", g_rank, path);
                memset(buf, 0, (size_t)k);
            }
            if (r != 0 && g_rank == r)
                MPI_Send(buf, k, MPI_BYTE, 0, 7, MPI_COMM_WORLD);
            else if (r != 0)
                MPI_Recv(buf, k, MPI_BYTE, r, 7, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
            if (g_rank == 0 && fwrite(buf, 1, (size_t)k, out) != (size_t)k && rc == CLI_OK)
                rc = cli_fail(CLI_INPUT, "cannot write %s: %s", path, strerror(errno));
            done += k;
        }
    }
    free(buf);
    return rc;
}

/* Every rank's part size and row count: *off, the exclusive prefix sum of the bytes, places
 * this rank's part; *n, the rows' sum, is the whole table's (the .npy header's n); sizes[g_size]
 * gets each rank's bytes (the caller frees it). */
static long long *part_layout(long long bytes, size_t rows, long long *off, long long *n)
{
    long long mine[2] = {bytes, (long long)rows};
    long long *all = malloc((size_t)g_size * sizeof mine), *sizes = NULL;
    if (!all || !(sizes = malloc((size_t)g_size * sizeof *sizes))) {
        fputs("emgmm: out of memory\n", stderr);
        MPI_Abort(MPI_COMM_WORLD, CLI_INTERNAL);
    }
    MPI_Allgather(mine, 2, MPI_LONG_LONG, all, 2, MPI_LONG_LONG, MPI_COMM_WORLD);
    *off = *n = 0;
    for (int r = 0; r < g_size; r++) {
        sizes[r] = all[2 * r];
        *off += r < g_rank ? all[2 * r] : 0;
        *n += all[2 * r + 1];
    }
    free(all);
    return sizes;
}

/* Rank 0: the final table of n rows, opened as its temporary beside the target (with the .npy
 * header), and where the parts' bytes start (*head) in the temporary named name[name_size]
 * ("" for stdout or a device, which have no offsets: the parts then go through rank 0). */
static int open_final(emgmm_io_table *fin, const emgmm_io_table *t, const char *path, long long n,
                      long long *head, char *name, size_t name_size)
{
    emgmm_io_error err = {0};
    if (emgmm_io_table_open(fin, path, (size_t)n, t->d, t->is_int, &err) != 0)
        return cli_io_fail(&err);
    FILE *ff = emgmm_io_out_file(fin->out);
    const char *tn = emgmm_io_out_tmp_name(fin->out);
    if (fin->format == EMGMM_IO_OUT_H5) {
        /* HDF5: the file is closed with its contiguous dataset allocated; the parts go at the
         * dataset's offset */
        if (emgmm_io_h5_table_detach(fin, head, &err) != 0 || *head < 0)
            return cli_fail(CLI_INPUT, "cannot write %s: %s", path,
                            err.msg[0] ? err.msg : "no data offset");
    } else if (fflush(ff) != 0 || (tn && (*head = (long long)ftello(ff)) < 0)) {
        return cli_fail(CLI_INPUT, "cannot write %s: %s", path, strerror(errno));
    }
    if (tn && strlen(tn) >= name_size)
        return cli_fail(CLI_INPUT, "cannot write %s: its path is too long", path);
    if (tn) strcpy(name, tn);
    return CLI_OK;
}

static int table_finish_mpi(emgmm_io_table *t, const char *path, int rc)
{
    emgmm_io_error err = {0};
    if ((rc = glue_agree(rc)) != 0) {
        emgmm_io_table_abort(t);
        return rc;
    }
    FILE *pf = emgmm_io_out_file(t->out);
    long long size = -1;
    if (fflush(pf) == 0 && !ferror(pf)) size = (long long)ftello(pf);
    if (size < 0)
        rc = cli_fail(CLI_INPUT, "cannot write rank %d's part of %s: %s", g_rank, path,
                      strerror(errno));
    const long long bytes = size < 0 ? 0 : size;
    long long off, n;
    long long *sizes = part_layout(bytes, t->n, &off, &n);
    emgmm_io_table fin;
    memset(&fin, 0, sizeof fin);
    char name[4096] = "";
    long long head = 0;
    if (g_rank == 0 && rc == CLI_OK) rc = open_final(&fin, t, path, n, &head, name, sizeof name);
    if ((rc = glue_agree(rc)) == 0) {
        MPI_Bcast(&head, 1, MPI_LONG_LONG, 0, MPI_COMM_WORLD);
        MPI_Bcast(name, (int)sizeof name, MPI_CHAR, 0, MPI_COMM_WORLD);
        if (name[0])
            rc = pwrite_part(pf, bytes, name, head + off, path);
        else
            rc = funnel_parts(pf, sizes, g_rank == 0 ? emgmm_io_out_file(fin.out) : NULL, path);
        rc = glue_agree(rc);
    }
    free(sizes);
    emgmm_io_table_abort(t); /* the part, placed or not */
    if (g_rank == 0 && fin.out) {
        if (rc == CLI_OK) {
            fin.rows_written = (size_t)n;
            if (emgmm_io_table_commit(&fin, &err) != 0) rc = cli_io_fail(&err);
        } else {
            emgmm_io_table_abort(&fin);
        }
    }
    return glue_agree(rc);
}

int glue_set_comm(emgmm_model *model, long long row0)
{
    if (!g_on) return CLI_OK;
    MPI_Comm world = MPI_COMM_WORLD;
    int st = emgmm_model_set_mpi_comm(model, &world, row0);
    return st ? cli_lib_fail(st, model, "cannot distribute the fit", NULL, 0) : CLI_OK;
}
#else
void glue_init(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
}
void glue_finalize(int rc) { (void)rc; }
int glue_rank(void) { return 0; }
int glue_size(void) { return 1; }
int glue_agree(int rc) { return rc; }
int glue_set_comm(emgmm_model *model, long long row0)
{
    (void)model;
    (void)row0;
    return CLI_OK;
}
static int read_csv_part(const char *path, const emgmm_io_read_opts *o, emgmm_io_matrix *mat,
                         long long *row0)
{
    (void)path;
    (void)o;
    (void)mat;
    (void)row0;
    return CLI_INTERNAL;
}
static int same_on_all(int v)
{
    (void)v;
    return 1;
}
static int table_finish_mpi(emgmm_io_table *t, const char *path, int rc)
{
    (void)path;
    emgmm_io_table_abort(t);
    return rc ? rc : CLI_INTERNAL;
}
#endif

int glue_table_open(emgmm_io_table *t, const char *path, size_t rows, size_t d, int is_int)
{
    emgmm_io_error err = {0};
    int r = glue_size() > 1 ? emgmm_io_table_open_part(t, path, rows, d, is_int, &err)
                            : emgmm_io_table_open(t, path, rows, d, is_int, &err);
    if (r != 0) memset(t, 0, sizeof *t);
    return r != 0 ? cli_io_fail(&err) : CLI_OK;
}

int glue_table_finish(emgmm_io_table *t, const char *path, int rc)
{
    if (glue_size() > 1) return table_finish_mpi(t, path, rc);
    if (rc != CLI_OK) {
        emgmm_io_table_abort(t);
        return rc;
    }
    emgmm_io_error err = {0};
    return emgmm_io_table_commit(t, &err) != 0 ? cli_io_fail(&err) : CLI_OK;
}

uint64_t glue_data_hash(uint64_t h, size_t n, size_t *n_all)
{
    *n_all = n;
#ifdef EMGMM_HAVE_MPI
    if (g_on && g_size > 1) {
        /* each rank's fingerprint of its rows, combined in rank order with P */
        unsigned long long mine[2] = {h, n};
        unsigned long long *all = malloc((size_t)g_size * sizeof mine);
        if (!all) {
            fputs("emgmm: out of memory\n", stderr);
            MPI_Abort(MPI_COMM_WORLD, CLI_INTERNAL);
        }
        MPI_Allgather(mine, 2, MPI_UNSIGNED_LONG_LONG, all, 2, MPI_UNSIGNED_LONG_LONG,
                      MPI_COMM_WORLD);
        h = 0x9E3779B97F4A7C15ull ^ (uint64_t)g_size;
        *n_all = 0;
        for (int r = 0; r < g_size; r++) {
            h = (h ^ all[2 * r]) * 0xBF58476D1CE4E5B9ull;
            h ^= h >> 31;
            *n_all += (size_t)all[2 * r + 1];
        }
        free(all);
    }
#endif
    return h;
}

int glue_agree_status(int st)
{
#ifdef EMGMM_HAVE_MPI
    if (g_on) {
        int mine = st != EMGMM_OK ? g_rank : g_size, first = g_size;
        MPI_Allreduce(&mine, &first, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD);
        if (first == g_size) return EMGMM_OK;
        MPI_Bcast(&st, 1, MPI_INT, first, MPI_COMM_WORLD);
    }
#endif
    return st;
}

void glue_sum_u64(uint64_t *v, int count)
{
#ifdef EMGMM_HAVE_MPI
    if (g_on) MPI_Allreduce(MPI_IN_PLACE, v, count, MPI_UINT64_T, MPI_SUM, MPI_COMM_WORLD);
#else
    (void)v;
    (void)count;
#endif
}

int glue_max_int(int v)
{
#ifdef EMGMM_HAVE_MPI
    if (g_on) MPI_Allreduce(MPI_IN_PLACE, &v, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
#endif
    return v;
}

double glue_sum(double v)
{
#ifdef EMGMM_HAVE_MPI
    if (g_on) MPI_Allreduce(MPI_IN_PLACE, &v, 1, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
#endif
    return v;
}

int glue_check_format(const char *path, const emgmm_io_read_opts *opts)
{
    (void)opts;
    if (glue_size() == 1 || strcmp(path, "-") != 0) return CLI_OK;
    return cli_fail(CLI_USAGE,
                    "with %d MPI ranks DATA must be a file (.npy, raw binary or CSV) that each "
                    "rank reads its own part of, not stdin",
                    glue_size());
}

int glue_read_rows(const char *path, const emgmm_io_read_opts *opts, emgmm_io_matrix *mat,
                   emgmm_data *X, long long *row0)
{
    *row0 = 0;
    memset(mat, 0, sizeof *mat);
    memset(X, 0, sizeof *X);
    int rc;
    if (glue_size() == 1) {
        if ((rc = cli_read_data(path, opts, mat)) == 0) *X = emgmm_io_matrix_data(mat);
        return rc;
    }
    const emgmm_io_read_opts o = emgmm_io_resolve_opts(path, opts);
    emgmm_io_error oerr = {0};
    if (emgmm_io_check_opts(path, &o, &oerr) != 0) return cli_io_fail(&oerr);
    const int split_csv = o.format == EMGMM_IO_FMT_CSV && strcmp(path, "-") != 0;
    if (!same_on_all(split_csv))
        return cli_fail(CLI_USAGE, "the MPI ranks were given data files of different formats");
    if (split_csv) {
        if ((rc = read_csv_part(path, &o, mat, row0)) == 0) *X = emgmm_io_matrix_data(mat);
        return rc;
    }
    if (o.format == EMGMM_IO_FMT_HDF5) { /* each rank reads its own hyperslab of rows */
        emgmm_io_error err = {0};
        if (emgmm_io_read_h5_rows(path, &o, glue_rank(), glue_size(), mat, row0, &err) != 0)
            return cli_io_fail(&err);
        *X = emgmm_io_matrix_data(mat);
        return CLI_OK;
    }
    if ((rc = glue_check_format(path, opts)) != 0 || (rc = cli_read_data(path, opts, mat)) != 0)
        return rc;
    *X = emgmm_io_matrix_data(mat);
    return glue_take_rows(mat, X, row0, path);
}

int glue_take_rows(const emgmm_io_matrix *mat, emgmm_data *X, long long *row0, const char *path)
{
    *row0 = 0;
    const int P = glue_size(), r = glue_rank();
    if (P == 1) return CLI_OK;
    if (!mat->map)
        return cli_fail(CLI_USAGE,
                        "with %d MPI ranks DATA must be a C-order array in its own dtype "
                        "(no --dtype conversion), so each rank maps only its rows: %s",
                        P, path);
    const size_t n = X->n;
    /* Contiguous ranges in rank order, ⌊n·r/P⌋ without overflowing n·r:
     * with n = qP + s, ⌊n·r/P⌋ = q·r + ⌊s·r/P⌋. */
    const size_t q = n / (size_t)P, s = n % (size_t)P;
    const size_t i0 = q * (size_t)r + s * (size_t)r / (size_t)P;
    const size_t i1 = q * (size_t)(r + 1) + s * (size_t)(r + 1) / (size_t)P;
    const size_t es = X->dtype == EMGMM_F32 ? sizeof(float) : sizeof(double);
    X->x = (const char *)X->x + i0 * X->ld * es;
    X->n = i1 - i0;
    *row0 = (long long)i0;
    return CLI_OK;
}

int glue_write_predictions(emgmm_model *m, const emgmm_data *X, int proba, const char *out,
                           const char *data, long long row0, int rc)
{
    const size_t K = (size_t)emgmm_model_n_components(m), cols = proba ? K : 1;
    size_t bs = X->n < CLI_BLOCK_ROWS ? X->n : CLI_BLOCK_ROWS;
    if (bs == 0) bs = 1; /* a rank without rows still takes part */
    double *r = proba ? malloc(bs * K * sizeof *r) : NULL;
    int32_t *lab = proba ? NULL : malloc(bs * sizeof *lab);
    emgmm_io_table t;
    memset(&t, 0, sizeof t);
    emgmm_io_error err = {0};
    if (rc == CLI_OK)
        rc = !r && !lab ? cli_fail(CLI_INTERNAL, "out of memory")
                        : glue_table_open(&t, out, X->n, cols, !proba);
    for (size_t i0 = 0; i0 < X->n && rc == CLI_OK; i0 += bs) {
        size_t rows = X->n - i0 < bs ? X->n - i0 : bs;
        emgmm_data b = cli_block(X, i0, rows);
        int st = proba ? emgmm_predict_proba(m, &b, r) : emgmm_predict(m, &b, lab);
        if (st != EMGMM_OK)
            rc = cli_lib_fail(st, m, "predict failed", data, (size_t)row0 + i0);
        else if ((proba ? emgmm_io_table_write_f64(&t, r, rows, &err)
                        : emgmm_io_table_write_i32(&t, lab, rows, &err)) != 0)
            rc = cli_io_fail(&err);
    }
    free(r);
    free(lab);
    return glue_table_finish(&t, out, rc);
}

int glue_open_model_rows(const char *out, const char *model_path, const char *data,
                         const emgmm_io_read_opts *ro, int threads, emgmm_model **m,
                         emgmm_io_matrix *mat, emgmm_data *X, long long *row0)
{
    int rc = cli_check_output(out);
    if (rc == 0) rc = cli_load_model(model_path, m);
    if ((rc = glue_agree(rc)) != 0) return rc;
    emgmm_model_set_n_threads(*m, threads);
    emgmm_model_set_missing(*m, ro->missing);
    *row0 = 0;
    if ((rc = glue_read_rows(data, ro, mat, X, row0)) == 0)
        rc = cli_check_shape(*m, X, model_path, data);
    return glue_agree(rc);
}
