/* cli.h — what the emgmm subcommands share: exit codes, the one-line error
 * report, option-value parsing, the data-format options, model loading and
 * block views of a data matrix. */
#ifndef EMGMM_CLI_H
#define EMGMM_CLI_H

#include <getopt.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "emgmm.h"
#include "io/emgmm_io.h"

/* Documented in docs/cli.md; scripts depend on them. */
enum {
    CLI_OK = 0,
    CLI_USAGE = 2,   /* bad command line */
    CLI_INPUT = 3,   /* unreadable/malformed input, model/data mismatch, unwritable output */
    CLI_NUMERIC = 4, /* numerical failure (covariance not positive definite, ...) */
    CLI_INTERNAL = 5 /* out of memory or an internal error */
};

/* Rows per block for predict/score: bounds the n×K scratch. */
#define CLI_BLOCK_ROWS 65536

int cli_fail(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int cli_io_fail(const emgmm_io_error *err);
/* Reports a library failure STATUS on MODEL (may be NULL) while doing WHAT
 * with FILE (may be NULL); ROW0 is added to a reported data row, for blocks. */
int cli_lib_fail(int status, const emgmm_model *model, const char *what, const char *file,
                 size_t row0);
/* cli_lib_fail for a fit of X (may be NULL): a covariance that collapsed is
 * reported with the data's first constant column, when it has one. */
int cli_fit_fail(int status, const emgmm_model *model, const char *what, const char *file,
                 size_t row0, const emgmm_data *X);
int cli_exit_for_status(int status);

/* Parses an option value or reports a usage error naming OPT. */
int cli_parse_long(const char *opt, const char *s, long lo, long hi, long *out);
int cli_parse_double(const char *opt, const char *s, double lo, double *out);
int cli_parse_u64(const char *opt, const char *s, uint64_t *out);

/* getopt_long wrapper state for one subcommand. */
int cli_getopt_error(const char *cmd, int c, char **argv);

/* Data-format options shared by fit, predict and score. */
enum {
    CLI_OPT_FORMAT = 1000,
    CLI_OPT_DIMS,
    CLI_OPT_HEADER,
    CLI_OPT_NO_HEADER,
    CLI_OPT_DELIMITER,
    CLI_OPT_DTYPE,
    CLI_OPT_THREADS,
    CLI_OPT_MISSING,
    CLI_OPT_DATASET
};
#define CLI_DATA_LONGOPTS                                                                          \
    {"format", required_argument, NULL, CLI_OPT_FORMAT},                                           \
        {"dims", required_argument, NULL, CLI_OPT_DIMS},                                           \
        {"header", no_argument, NULL, CLI_OPT_HEADER},                                             \
        {"no-header", no_argument, NULL, CLI_OPT_NO_HEADER},                                       \
        {"delimiter", required_argument, NULL, CLI_OPT_DELIMITER},                                 \
        {"dtype", required_argument, NULL, CLI_OPT_DTYPE},                                         \
        {"threads", required_argument, NULL, CLI_OPT_THREADS},                                     \
        {"missing", required_argument, NULL, CLI_OPT_MISSING},                                     \
    {                                                                                              \
        "dataset", required_argument, NULL, CLI_OPT_DATASET                                        \
    }
#define CLI_DATA_HELP                                                                              \
    "data options:\n"                                                                              \
    "  --format F        csv|tsv|npy|f64|f32|h5 (default: by extension; .npy, HDF5 sniffed)\n"     \
    "  --dataset NAME    HDF5: the 2-D dataset to read (or write DATA as file.h5:/NAME;\n"         \
    "                    default: the file's only dataset)\n"                                      \
    "  --dims D          columns of raw f64/f32 binary data\n"                                     \
    "  --header, --no-header   CSV first row is / is not a header (default: detected)\n"           \
    "  --delimiter C     CSV delimiter: , ; tab space (default: detected)\n"                       \
    "  --dtype T         float64|float32 working precision (default: the file's)\n"                \
    "  --threads T       OpenMP threads (default: OpenMP's default)\n"                             \
    "  --missing P       error|nan|drop-empty-rows: NaN (CSV also NA, N/A, empty) is an\n"         \
    "                    error (default), or a value missing at random; drop-empty-rows\n"         \
    "                    also leaves rows with nothing observed out of a fit\n"

/* Returns 1 if C was a data option (applied), 0 if not, or -1 after a usage
 * error was reported (its exit code in *rc).  tools/opts_common.c. */
int cli_data_option(int c, const char *arg, emgmm_io_read_opts *o, int *threads, int *rc);

/* The fit options `fit` and `select` share (each command's --help describes them). */
enum {
    CLI_OPT_NINIT = 1100,
    CLI_OPT_MAXIT,
    CLI_OPT_TOL,
    CLI_OPT_REG,
    CLI_OPT_SEED,
    CLI_OPT_DEGEN,
    CLI_OPT_VFLOOR,
    CLI_OPT_ACCEL,
    CLI_OPT_SSTARTS,
    CLI_OPT_SITER,
    CLI_OPT_WEIGHTS
};
#define CLI_FIT_LONGOPTS                                                                           \
    {"n-init", required_argument, NULL, CLI_OPT_NINIT},                                            \
        {"max-iter", required_argument, NULL, CLI_OPT_MAXIT},                                      \
        {"tol", required_argument, NULL, CLI_OPT_TOL},                                             \
        {"reg-covar", required_argument, NULL, CLI_OPT_REG},                                       \
        {"seed", required_argument, NULL, CLI_OPT_SEED},                                           \
        {"degenerate", required_argument, NULL, CLI_OPT_DEGEN},                                    \
        {"var-floor", required_argument, NULL, CLI_OPT_VFLOOR},                                    \
        {"accel", required_argument, NULL, CLI_OPT_ACCEL},                                         \
        {"search-starts", required_argument, NULL, CLI_OPT_SSTARTS},                               \
        {"search-iter", required_argument, NULL, CLI_OPT_SITER},                                   \
    {                                                                                              \
        "weights", required_argument, NULL, CLI_OPT_WEIGHTS                                        \
    }

/* Fit options given explicitly: a resumed fit checks them against its checkpoint. */
enum {
    CLI_GIVEN_K = 1,
    CLI_GIVEN_COV = 2,
    CLI_GIVEN_NINIT = 4,
    CLI_GIVEN_MAXIT = 8,
    CLI_GIVEN_TOL = 16,
    CLI_GIVEN_REG = 32,
    CLI_GIVEN_SEED = 64,
    CLI_GIVEN_DEGEN = 128,
    CLI_GIVEN_VFLOOR = 256,
    CLI_GIVEN_ACCEL = 512
};

/* As cli_data_option, for the shared fit options: applies C to *P (--weights
 * to *WEIGHTS) and, when GIVEN is not NULL, records it there (CLI_GIVEN_*). */
int cli_fit_option(int c, const char *arg, emgmm_params *p, const char **weights, unsigned *given,
                   int *rc);

/* After writing a model to PATH: a note on stderr when it is a JSON file over
 * 10 MB, that .h5 loads in a fraction of the time (issue 22). */
void cli_model_size_note(const char *path);

/* Reads DATA; exit code on failure (already reported). */
int cli_read_data(const char *path, const emgmm_io_read_opts *o, emgmm_io_matrix *m);

/* Loads and validates a model file into a new library model. */
int cli_load_model(const char *path, emgmm_model **out);

/* Rows [i0, i0+rows) of X as a view (no copy). */
emgmm_data cli_block(const emgmm_data *X, size_t i0, size_t rows);

/* Data columns must equal the model's features. */
int cli_check_shape(const emgmm_model *m, const emgmm_data *X, const char *model_path,
                    const char *data_path);

/* Fails fast (before a long fit) when PATH's directory cannot take a new
 * file; the write itself still reports any later failure. */
int cli_check_output(const char *path);

double cli_now(void);

/* The OPENBLAS_CORETYPE hint, one line, or nothing when not needed. */
void cli_coretype_warning(FILE *f);

/* Writes per-row labels of X under MODEL to PATH in blocks. */
int cli_write_labels(emgmm_model *model, const emgmm_data *X, const char *path,
                     const char *data_path);

/* issue 19: --init-resp FILE, an n×K matrix or one label column (0..K-1, or
 * 1..K when 0 does not occur and K does), as *out [n][K] (malloc'd). */
int cli_read_init_resp(const char *path, size_t n_all, long long row0, size_t n, int K,
                       double **out);

int cmd_fit(int argc, char **argv);
int cmd_predict(int argc, char **argv);
int cmd_score(int argc, char **argv);
int cmd_sample(int argc, char **argv);
int cmd_info(int argc, char **argv);
int cmd_demo(int argc, char **argv);
int cmd_select(int argc, char **argv);
int cmd_impute(int argc, char **argv);
int cmd_plot(int argc, char **argv); /* cmd_plot.c: runs python3 -m emgmm plot */

#endif
