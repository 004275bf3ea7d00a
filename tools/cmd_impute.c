/* cmd_impute.c — `emgmm impute MODEL DATA -o FILE`: DATA with each missing
 * entry (NaN; in CSV also NA, N/A or an empty field) replaced by its
 * conditional expectation under the mixture, or with --multiple M, M files of
 * stochastic imputations.  Rows are imputed and written in blocks, so memory
 * stays one block of rows per output. */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "mpi_glue.h"

#define MAX_MULTIPLE 1000

static const char impute_help[] =
    "usage: emgmm impute MODEL DATA [-o FILE] [--multiple M [--seed S]] [options]\n"
    "Writes DATA with every missing value replaced.  Missing values are NaN (any format) and,\n"
    "in CSV, NA, N/A and empty fields.  By default each is replaced by its conditional\n"
    "expectation under the mixture, sum_k r_ik E_k[x_miss | x_obs], with the responsibilities\n"
    "r_ik computed from the row's observed values.  With --multiple M, M stochastic\n"
    "imputations are drawn instead (a component from r_i, then the missing values from its\n"
    "conditional Gaussian) and written to M files: FILE with .1, .2, ... before its extension\n"
    "(out.csv -> out.1.csv, ...).  Draws depend only on the seed and the row, not on threads.\n"
    "A CSV input's header line and delimiter are kept in a CSV output.\n"
    "Observed values are copied unchanged; a row with nothing observed gets the mixture mean\n"
    "(or a draw from the mixture).  FILE is .npy (float64) or CSV/TSV; without -o, CSV on\n"
    "stdout (not with --multiple).  Outputs are written atomically: all or none.\n\n"
    "  -o, --output FILE   output file\n"
    "  --multiple M        M draws (1..1000) instead of the conditional expectation\n"
    "  --seed S            seed of the draws (default 0); imputation j (file .j) uses S + j - "
    "1\n" CLI_DATA_HELP;

/* FILE with ".J" before its extension (out.csv → out.3.csv; out → out.3). */
static char *numbered_path(const char *path, int j)
{
    const char *slash = strrchr(path, '/');
    const char *dot = strrchr(path, '.');
    if (dot && (dot == path || (slash && dot < slash) || dot[-1] == '/')) dot = NULL;
    const size_t stem = dot ? (size_t)(dot - path) : strlen(path);
    const size_t len = strlen(path) + 16;
    char *s = malloc(len);
    if (s) snprintf(s, len, "%.*s.%d%s", (int)stem, path, j, dot ? dot : "");
    return s;
}

static int impute_tables(emgmm_model *m, const emgmm_data *X, int multiple, uint64_t seed,
                         const char *out, const char *data, long long row0,
                         const emgmm_io_matrix *mat)
{
    const size_t d = X->d;
    const int ntab = multiple ? multiple : 1;
    size_t bs = X->n < CLI_BLOCK_ROWS ? X->n : CLI_BLOCK_ROWS;
    if (bs == 0) bs = 1; /* a rank without rows still takes part */
    double *buf = malloc(bs * d * sizeof *buf);
    emgmm_io_table *t = calloc((size_t)ntab, sizeof *t);
    char **paths = calloc((size_t)ntab, sizeof *paths);
    int rc = !buf || !t || !paths ? cli_fail(CLI_INTERNAL, "out of memory") : CLI_OK;
    int opened = 0;
    for (int j = 0; j < ntab && rc == CLI_OK; j++) {
        paths[j] = multiple ? numbered_path(out, j + 1) : strdup(out);
        if (!paths[j])
            rc = cli_fail(CLI_INTERNAL, "out of memory");
        else if ((rc = glue_table_open(&t[j], paths[j], X->n, d, 0)) == CLI_OK)
            opened = j + 1;
    }
    emgmm_io_error err = {0};
    /* A CSV input's header and delimiter carry over to a CSV output (a .tsv
     * output keeps its tab). */
    for (int j = 0; j < opened && rc == CLI_OK; j++) {
        char delim;
        emgmm_io_out_format(paths[j], &delim);
        const char keep = delim == '\t' ? 0 : mat->delimiter;
        char *hdr = mat->header ? strdup(mat->header) : NULL;
        if (hdr && keep == 0 && mat->delimiter != '\t') /* the header's fields re-joined by tabs */
            for (char *q = hdr; *q; q++)
                if (*q == mat->delimiter) *q = '\t';
        if (mat->header && !hdr)
            rc = cli_fail(CLI_INTERNAL, "out of memory");
        else if (emgmm_io_table_text(&t[j], keep, hdr, &err) != 0)
            rc = cli_io_fail(&err);
        free(hdr);
    }
    for (size_t i0 = 0; i0 < X->n && rc == CLI_OK; i0 += bs) {
        const size_t rows = X->n - i0 < bs ? X->n - i0 : bs;
        emgmm_data b = cli_block(X, i0, rows);
        for (int j = 0; j < ntab && rc == CLI_OK; j++) {
            const int st = emgmm_impute(m, &b, multiple ? 1 : 0, seed + (uint64_t)j,
                                        (uint64_t)(row0 + (long long)i0), buf);
            if (st != EMGMM_OK)
                rc = cli_lib_fail(st, m, "impute failed", data, (size_t)row0 + i0);
            else if (emgmm_io_table_write_f64(&t[j], buf, rows, &err) != 0)
                rc = cli_io_fail(&err);
        }
    }
    /* every table is finished (committed, or removed on failure) */
    for (int j = 0; j < ntab; j++) {
        if (j < opened) {
            const int r = glue_table_finish(&t[j], paths[j], rc);
            if (rc == CLI_OK) rc = r;
        }
        free(paths ? paths[j] : NULL);
    }
    free(paths);
    free(t);
    free(buf);
    return rc;
}

int cmd_impute(int argc, char **argv)
{
    enum {
        OPT_MULTIPLE = 2000,
        OPT_SEED
    };
    static const struct option longopts[] = {{"output", required_argument, NULL, 'o'},
                                             {"multiple", required_argument, NULL, OPT_MULTIPLE},
                                             {"seed", required_argument, NULL, OPT_SEED},
                                             {"help", no_argument, NULL, 'h'},
                                             CLI_DATA_LONGOPTS,
                                             {NULL, 0, NULL, 0}};
    emgmm_io_read_opts ro = emgmm_io_read_opts_default();
    ro.missing = EMGMM_MISSING_NAN; /* what impute is for; --missing may not say error */
    const char *out = "-";
    int threads = 0, c, rc = 0, seed_given = 0;
    long multiple = 0;
    uint64_t seed = 0;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":o:h", longopts, NULL)) != -1) {
        int r = cli_data_option(c, optarg, &ro, &threads, &rc);
        if (r < 0) return rc;
        if (r > 0) continue;
        switch (c) {
        case 'h': fputs(impute_help, stdout); return CLI_OK;
        case 'o': out = optarg; break;
        case OPT_MULTIPLE:
            if ((rc = cli_parse_long("--multiple", optarg, 1, MAX_MULTIPLE, &multiple)) != 0)
                return rc;
            break;
        case OPT_SEED:
            if ((rc = cli_parse_u64("--seed", optarg, &seed)) != 0) return rc;
            seed_given = 1;
            break;
        default: return cli_getopt_error("impute", c, argv);
        }
    }
    if (optind != argc - 2)
        return cli_fail(CLI_USAGE,
                        "impute: expected MODEL and DATA arguments (see 'emgmm impute --help')");
    if (ro.missing == EMGMM_MISSING_ERROR)
        return cli_fail(CLI_USAGE, "impute: --missing error contradicts imputing; use nan");
    if (multiple && !strcmp(out, "-"))
        return cli_fail(CLI_USAGE, "impute: --multiple writes M files; give -o FILE");
    if (seed_given && !multiple)
        return cli_fail(CLI_USAGE, "impute: --seed only applies with --multiple");
    const char *model_path = argv[optind], *data = argv[optind + 1];

    emgmm_model *m = NULL;
    emgmm_io_matrix mat = {0};
    emgmm_data X;
    long long row0;
    if ((rc = glue_open_model_rows(out, model_path, data, &ro, threads, &m, &mat, &X, &row0)) == 0)
        rc = impute_tables(m, &X, (int)multiple, seed, out, data, row0, &mat);
    emgmm_io_matrix_free(&mat);
    emgmm_model_free(m);
    return rc;
}
