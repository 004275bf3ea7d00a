/* mpi_glue.c — MPI for the emgmm tool: start-up, the row range of each rank,
 * failure agreement, and stderr held back on ranks other than 0 so that each
 * failure is reported once, by the rank that saw it. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>
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
#endif

static int has_ext(const char *path, const char *ext)
{
    size_t n = strlen(path), e = strlen(ext);
    return n >= e && strcasecmp(path + n - e, ext) == 0;
}

int glue_check_format(const char *path, const emgmm_io_read_opts *opts)
{
    if (glue_size() == 1)
        return CLI_OK;
    const int f = opts->format;
    if (strcmp(path, "-") != 0 &&
        (f == EMGMM_IO_FMT_NPY || f == EMGMM_IO_FMT_RAW_F64 || f == EMGMM_IO_FMT_RAW_F32 ||
         (f == EMGMM_IO_FMT_AUTO &&
          (has_ext(path, ".npy") || has_ext(path, ".f64") || has_ext(path, ".f32")))))
        return CLI_OK;
    /* Splitting CSV at line boundaries is not implemented: every rank would
     * parse the whole file, which is what distribution is meant to avoid. */
    return cli_fail(CLI_USAGE,
                    "fit: with %d MPI ranks DATA must be .npy or raw binary (--format f64|f32), "
                    "which each rank maps and reads only its own rows of; got '%s'",
                    glue_size(), path);
}

int glue_take_rows(const emgmm_io_matrix *mat, emgmm_data *X, long long *row0, const char *path)
{
    *row0 = 0;
    const int P = glue_size(), r = glue_rank();
    if (P == 1)
        return CLI_OK;
    if (!mat->map)
        return cli_fail(CLI_USAGE,
                        "fit: with %d MPI ranks DATA must be a C-order array in its own dtype "
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
