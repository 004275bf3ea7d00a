/* mpi_glue.c — MPI for the emgmm tool: start-up, the row range of each rank,
 * failure agreement, and stderr held back on ranks other than 0 so that each
 * failure is reported once, by the rank that saw it. */
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
    if (!g_hold)
        return;
    fflush(stderr);
    if (show) {
        char buf[4096];
        size_t k;
        rewind(g_hold);
        while ((k = fread(buf, 1, sizeof buf, g_hold)) > 0)
            if (write(g_saved_fd, buf, k) < 0)
                break;
    }
    if (ftruncate(fileno(g_hold), 0) != 0) { /* nothing better to do */
    }
    rewind(g_hold);
}

void glue_init(int *argc, char ***argv)
{
    if (!getenv("OMPI_COMM_WORLD_SIZE") && !getenv("PMI_SIZE") && !getenv("PMIX_RANK"))
        return;
    if (MPI_Init(argc, argv) != MPI_SUCCESS)
        return;
    g_on = 1;
    MPI_Comm_rank(MPI_COMM_WORLD, &g_rank);
    MPI_Comm_size(MPI_COMM_WORLD, &g_size);
    if (g_rank != 0) {
        fflush(stderr);
        g_hold = tmpfile();
        g_saved_fd = g_hold ? dup(2) : -1;
        if (g_saved_fd < 0 || dup2(fileno(g_hold), 2) < 0) {
            if (g_hold)
                fclose(g_hold);
            g_hold = NULL;
        }
    }
}

void glue_finalize(int rc)
{
    if (!g_on)
        return;
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
    if (!g_on)
        return rc;
    int mine = rc ? g_rank : g_size, first = g_size;
    MPI_Allreduce(&mine, &first, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD);
    if (first == g_size) {
        release_held(1);
        return 0;
    }
    int code = rc;
    MPI_Bcast(&code, 1, MPI_INT, first, MPI_COMM_WORLD);
    if (g_rank == first)
        release_held(1);
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
    if (emgmm_io_csv_part_open(&cp, path, o, g_rank, g_size, &err) != 0)
        rc = cli_io_fail(&err);
    unsigned long long lines = cp ? emgmm_io_csv_part_lines(cp) : 0, before = 0;
    MPI_Exscan(&lines, &before, 1, MPI_UNSIGNED_LONG_LONG, MPI_SUM, MPI_COMM_WORLD);
    if (g_rank == 0)
        before = 0; /* MPI_Exscan leaves rank 0's result undefined */
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
        if (all[4 * r] && first_fail == g_size)
            first_fail = r;
        if (all[4 * r + 2] && first_blank == g_size)
            first_blank = r;
        else if (first_blank < r && all[4 * r + 1])
            later_content = 1;
        if (r < g_rank)
            *row0 += all[4 * r + 3]; /* the exclusive prefix sum of row counts */
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
    if (rc != CLI_OK)
        emgmm_io_matrix_free(mat);
    emgmm_io_csv_part_close(cp);
    return rc;
}

/* 1 when PATH (under OPTS) is read as split CSV; every rank must agree. */
static int same_on_all(int v)
{
    int lo = v, hi = v;
    MPI_Allreduce(MPI_IN_PLACE, &lo, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD);
    MPI_Allreduce(MPI_IN_PLACE, &hi, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
    return lo == hi;
}

int glue_set_comm(emgmm_model *model, long long row0)
{
    if (!g_on)
        return CLI_OK;
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
#endif

int glue_check_format(const char *path, const emgmm_io_read_opts *opts)
{
    (void)opts;
    if (glue_size() == 1 || strcmp(path, "-") != 0)
        return CLI_OK;
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
        if ((rc = cli_read_data(path, opts, mat)) == 0)
            *X = emgmm_io_matrix_data(mat);
        return rc;
    }
    const emgmm_io_read_opts o = emgmm_io_resolve_opts(path, opts);
    const int split_csv = o.format == EMGMM_IO_FMT_CSV && strcmp(path, "-") != 0;
    if (!same_on_all(split_csv))
        return cli_fail(CLI_USAGE, "the MPI ranks were given data files of different formats");
    if (split_csv) {
        if ((rc = read_csv_part(path, &o, mat, row0)) == 0)
            *X = emgmm_io_matrix_data(mat);
        return rc;
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
    if (P == 1)
        return CLI_OK;
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
