/* cli.c — helpers shared by the emgmm subcommands: error reporting and the
 * status → exit-code map, option-value parsing, data/model loading, block
 * views and the blocked label writer. */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"

int cli_fail(int code, const char *fmt, ...)
{
    /* One line, whatever the user typed: control bytes (a newline in an
     * option or a file name) are shown as '?'. */
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    for (char *c = msg; *c; c++)
        if ((unsigned char)*c < 0x20 || (unsigned char)*c == 0x7f) *c = '?';
    fprintf(stderr, "emgmm: %s\n", msg);
    return code;
}

int cli_io_fail(const emgmm_io_error *err)
{
    int code = err->code == EMGMM_IO_EUSAGE   ? CLI_USAGE
               : err->code == EMGMM_IO_ENOMEM ? CLI_INTERNAL
                                              : CLI_INPUT;
    return cli_fail(code, "%s", err->msg);
}

int cli_exit_for_status(int status)
{
    switch (status) {
    case EMGMM_OK: return CLI_OK;
    case EMGMM_ERR_INVALID_PARAM:
    case EMGMM_ERR_NO_COMPONENTS:
    case EMGMM_ERR_UNSUPPORTED: return CLI_USAGE;
    case EMGMM_ERR_NO_FEATURES:
    case EMGMM_ERR_TOO_FEW_SAMPLES:
    case EMGMM_ERR_NONFINITE:
    case EMGMM_ERR_BAD_INIT:
    case EMGMM_ERR_SHAPE:
    case EMGMM_ERR_TOO_LARGE: return CLI_INPUT;
    case EMGMM_ERR_NOT_PD:
    case EMGMM_ERR_DEGENERATE: return CLI_NUMERIC;
    default: return CLI_INTERNAL;
    }
}

int cli_lib_fail(int status, const emgmm_model *model, const char *what, const char *file,
                 size_t row0)
{
    return cli_fit_fail(status, model, what, file, row0, NULL);
}

/* The first column of X whose values are all equal, or -1. */
static long constant_column(const emgmm_data *X, double *value)
{
    if (!X || X->n < 2) return -1;
    for (size_t j = 0; j < X->d; j++) {
        size_t i = 1;
        if (X->dtype == EMGMM_F32) {
            const float *x = (const float *)X->x;
            while (i < X->n && x[i * X->ld + j] == x[j]) i++;
            *value = x[j];
        } else {
            const double *x = (const double *)X->x;
            while (i < X->n && x[i * X->ld + j] == x[j]) i++;
            *value = x[j];
        }
        if (i == X->n) return (long)j;
    }
    return -1;
}

int cli_fit_fail(int status, const emgmm_model *model, const char *what, const char *file,
                 size_t row0, const emgmm_data *X)
{
    const char *detail = model ? emgmm_model_last_error(model) : "";
    if (!detail || !*detail) detail = emgmm_strerror(status);
    long long row = -1, col = -1;
    int comp = -1;
    if (model) emgmm_model_error_location(model, &row, &col, &comp);
    if (file && row >= 0 && col >= 0 && status == EMGMM_ERR_NONFINITE)
        return cli_fail(cli_exit_for_status(status),
                        "%s: NaN or Inf in %s at row %lld, column %lld, counting from 0 (if NaN "
                        "marks missing values, --missing nan reads them as missing)",
                        what, file, row + (long long)row0, col);
    char where[512] = "";
    if (file && row >= 0 && status == EMGMM_ERR_NONFINITE)
        snprintf(where, sizeof where, " (%s: row %lld, counting from 0)", file,
                 row + (long long)row0);
    else if (file)
        snprintf(where, sizeof where, " (%s)", file);
    double v = 0.0;
    long cj = (status == EMGMM_ERR_NOT_PD || status == EMGMM_ERR_DEGENERATE)
                  ? constant_column(X, &v)
                  : -1;
    if (cj >= 0)
        return cli_fail(cli_exit_for_status(status),
                        "%s: %s%s; column %ld of %s is constant (%.17g on every row): drop it, "
                        "or raise reg_covar",
                        what, detail, where, cj, file ? file : "the data", v);
    return cli_fail(cli_exit_for_status(status), "%s: %s%s", what, detail, where);
}

int cli_parse_long(const char *opt, const char *s, long lo, long hi, long *out)
{
    char *e;
    errno = 0;
    long v = strtol(s, &e, 10);
    if (!*s || *e || errno || v < lo || v > hi)
        return cli_fail(CLI_USAGE, "%s: expected an integer in [%ld, %ld], got '%s'", opt, lo, hi,
                        s);
    *out = v;
    return 0;
}

int cli_parse_double(const char *opt, const char *s, double lo, double *out)
{
    char *e;
    errno = 0;
    double v = strtod(s, &e);
    if (!*s || *e || errno || !isfinite(v) || v < lo)
        return cli_fail(CLI_USAGE, "%s: expected a finite number >= %g, got '%s'", opt, lo, s);
    *out = v;
    return 0;
}

int cli_parse_u64(const char *opt, const char *s, uint64_t *out)
{
    char *e;
    errno = 0;
    unsigned long long v = strtoull(s, &e, 10);
    if (!*s || *e || errno || s[0] == '-')
        return cli_fail(CLI_USAGE, "%s: expected an integer in [0, 2^64-1], got '%s'", opt, s);
    *out = v;
    return 0;
}

int cli_getopt_error(const char *cmd, int c, char **argv)
{
    const char *arg = argv[optind - 1];
    if (c == ':')
        return cli_fail(CLI_USAGE, "%s: option '%s' needs a value (see 'emgmm %s --help')", cmd,
                        arg, cmd);
    if (optopt && optopt < 256)
        return cli_fail(CLI_USAGE, "%s: unknown option '-%c' (see 'emgmm %s --help')", cmd, optopt,
                        cmd);
    return cli_fail(CLI_USAGE, "%s: unknown option '%s' (see 'emgmm %s --help')", cmd, arg, cmd);
}

int cli_read_data(const char *path, const emgmm_io_read_opts *o, emgmm_io_matrix *m)
{
    emgmm_io_error err = {0};
    if (emgmm_io_read_matrix(path, o, m, &err) != 0) return cli_io_fail(&err);
    for (const char *w = m->warnings; w && *w;) {
        const char *nl = strchr(w, '\n');
        int len = nl ? (int)(nl - w) : (int)strlen(w);
        fprintf(stderr, "emgmm: warning: %.*s\n", len, w);
        w += len + (nl ? 1 : 0);
    }
    return CLI_OK;
}

int cli_load_model(const char *path, emgmm_model **out)
{
    *out = NULL;
    emgmm_io_model_file mf;
    emgmm_io_error err = {0};
    /* straight into the model's buffers (issue 22): no staging copy; an .h5
     * model's stored factors are used as they are */
    if (emgmm_io_model_load(path, out, &mf, &err) != 0) return cli_io_fail(&err);
    return CLI_OK;
}

emgmm_data cli_block(const emgmm_data *X, size_t i0, size_t rows)
{
    emgmm_data b = *X;
    size_t es = X->dtype == EMGMM_F32 ? sizeof(float) : sizeof(double);
    b.x = (const char *)X->x + i0 * X->ld * es;
    b.n = rows;
    return b;
}

int cli_check_shape(const emgmm_model *m, const emgmm_data *X, const char *model_path,
                    const char *data_path)
{
    size_t d = (size_t)emgmm_model_n_features(m);
    if (X->d != d)
        return cli_fail(CLI_INPUT,
                        "shape mismatch: %s has %zu columns, the model %s has %zu features",
                        data_path, X->d, model_path, d);
    return CLI_OK;
}

int cli_check_output(const char *path)
{
    if (!path || !strcmp(path, "-")) return CLI_OK;
    char h5file[4096], h5dset[1024]; /* out.h5:/name: check out.h5 */
    if (emgmm_io_out_is_h5(path) &&
        emgmm_io_h5_split(path, h5file, sizeof h5file, h5dset, sizeof h5dset) == 1)
        path = h5file;
    struct stat st;
    if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
        return cli_fail(CLI_INPUT, "cannot write %s: it is a directory", path);
    const char *slash = strrchr(path, '/');
    char dir[4096];
    if (!slash)
        snprintf(dir, sizeof dir, ".");
    else
        snprintf(dir, sizeof dir, "%.*s", slash == path ? 1 : (int)(slash - path), path);
    if (access(dir, W_OK | X_OK) != 0)
        return cli_fail(CLI_INPUT, "cannot create %s: %s", path, strerror(errno));
    return CLI_OK;
}

void cli_model_size_note(const char *path)
{
    struct stat st;
    if (!path || !strcmp(path, "-") || emgmm_io_out_is_h5(path) || stat(path, &st) != 0 ||
        !S_ISREG(st.st_mode) || st.st_size <= 10 * 1000 * 1000)
        return;
    fprintf(stderr,
            "emgmm: note: the JSON model %s is %.0f MB; written as .h5 (-o model.h5) it loads in "
            "a fraction of the time (every command reads either)\n",
            path, (double)st.st_size / 1e6);
}

double cli_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

void cli_coretype_warning(FILE *f)
{
    const char *from = getenv("EMGMM_COREFIX_FROM");
    if (from && *from) {
        fprintf(f,
                "emgmm: note: OpenBLAS detected the generic '%s' core; emgmm re-ran itself with "
                "OPENBLAS_CORETYPE=%s (set EMGMM_NO_COREFIX=1 to disable)\n",
                from, getenv("OPENBLAS_CORETYPE") ? getenv("OPENBLAS_CORETYPE") : "?");
        return;
    }
    const char *s = emgmm_blas_suggested_coretype();
    if (s)
        fprintf(f,
                "emgmm: warning: OpenBLAS runs the generic '%s' kernels on this CPU; "
                "export OPENBLAS_CORETYPE=%s for several times the speed\n",
                emgmm_blas_corename() ? emgmm_blas_corename() : "?", s);
}

int cli_write_labels(emgmm_model *model, const emgmm_data *X, const char *path,
                     const char *data_path)
{
    emgmm_io_error err = {0};
    emgmm_io_table t;
    size_t bs = X->n < CLI_BLOCK_ROWS ? X->n : CLI_BLOCK_ROWS;
    int32_t *lab = malloc(bs * sizeof *lab);
    if (!lab) return cli_fail(CLI_INTERNAL, "out of memory");
    if (emgmm_io_table_open(&t, path, X->n, 1, 1, &err) != 0) {
        free(lab);
        return cli_io_fail(&err);
    }
    for (size_t i0 = 0; i0 < X->n; i0 += bs) {
        size_t rows = X->n - i0 < bs ? X->n - i0 : bs;
        emgmm_data b = cli_block(X, i0, rows);
        int st = emgmm_predict(model, &b, lab);
        if (st != EMGMM_OK) {
            emgmm_io_table_abort(&t);
            free(lab);
            return cli_lib_fail(st, model, "predict failed", data_path, i0);
        }
        if (emgmm_io_table_write_i32(&t, lab, rows, &err) != 0) {
            emgmm_io_table_abort(&t);
            free(lab);
            return cli_io_fail(&err);
        }
    }
    free(lab);
    if (emgmm_io_table_commit(&t, &err) != 0) return cli_io_fail(&err);
    return CLI_OK;
}

/* ---- issue 19: --init-resp ---- */
int cli_read_init_resp(const char *path, size_t n_all, long long row0, size_t n, int K,
                       double **out)
{
    *out = NULL;
    emgmm_io_read_opts ro = emgmm_io_read_opts_default();
    emgmm_io_matrix mat = {0};
    int rc = cli_read_data(path, &ro, &mat);
    if (rc) return rc;
    const size_t k = (size_t)K, r0 = (size_t)row0;
    if (mat.n != n_all || (mat.d != 1 && mat.d != k)) {
        rc = cli_fail(CLI_INPUT,
                      "--init-resp %s: expected %zu rows of %d responsibilities or one label "
                      "column, got %zu x %zu",
                      path, n_all, K, mat.n, mat.d);
        emgmm_io_matrix_free(&mat);
        return rc;
    }
    double *r = calloc((n ? n : 1) * k, sizeof(double));
    if (!r) {
        emgmm_io_matrix_free(&mat);
        return cli_fail(CLI_INTERNAL, "out of memory reading %s", path);
    }
#define INIT_RESP_AT(i)                                                                            \
    (mat.dtype == EMGMM_F64 ? ((const double *)mat.x)[i] : (double)((const float *)mat.x)[i])
    if (mat.d == k && k > 1) {
        /* this process's rows (under MPI, rows row0 .. row0 + n - 1 of the file) */
        for (size_t i = 0; i < n * k; i++) r[i] = INIT_RESP_AT(r0 * k + i);
    } else {
        /* a label column: 0..K-1, or R's 1..K when there is no 0 and K occurs;
         * decided on the whole file, so every rank agrees */
        int has0 = 0, hasK = 0;
        for (size_t i = 0; i < n_all; i++) {
            const double v = INIT_RESP_AT(i);
            if (!(v == floor(v)) || v < 0 || v > K) {
                rc = cli_fail(CLI_INPUT,
                              "--init-resp %s: row %zu: label %g is not an integer in 0..%d", path,
                              i, v, K);
                break;
            }
            has0 |= v == 0;
            hasK |= v == K;
        }
        if (!rc && has0 && hasK)
            rc = cli_fail(CLI_INPUT,
                          "--init-resp %s: labels hold both 0 and %d (0..K-1 or 1..K, not both)",
                          path, K);
        const size_t base = hasK ? 1 : 0;
        for (size_t i = 0; !rc && i < n; i++) r[i * k + (size_t)INIT_RESP_AT(r0 + i) - base] = 1.0;
    }
#undef INIT_RESP_AT
    emgmm_io_matrix_free(&mat);
    if (rc) {
        free(r);
        return rc;
    }
    *out = r;
    return CLI_OK;
}
