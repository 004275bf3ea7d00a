/* cmd_score.c — `emgmm score MODEL DATA`: the mean log-likelihood per sample,
 * and with --per-sample every row's log-density, written in blocks. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "mpi_glue.h"

static const char score_help[] =
    "usage: emgmm score MODEL DATA [--per-sample -o FILE] [options]\n"
    "Prints the mean log-likelihood per sample of DATA under MODEL on stdout.  With\n"
    "--per-sample, also writes log p(x_i) for every row to FILE (.npy or CSV; '-' or no -o:\n"
    "stdout, and the mean then goes to stderr).\n\n"
    "  --per-sample        write every row's log-density\n"
    "  -o, --output FILE   where --per-sample writes (written atomically)\n"
    "  --bic, --aic        also print the information criterion on DATA\n" CLI_DATA_HELP;

/* Σ log p(x_i) over this process's rows, with every row's log-density written
 * to OUT when it is not NULL (under MPI, each rank its rows' place of one
 * file; tools/mpi_glue.c).  ROW0 is the first row's index in DATA. */
static int log_densities(emgmm_model *m, const emgmm_data *X, const char *out, const char *data,
                         long long row0, double *sum_out)
{
    size_t bs = X->n < CLI_BLOCK_ROWS ? X->n : CLI_BLOCK_ROWS;
    if (bs == 0) bs = 1; /* a rank without rows still takes part */
    double *ld = malloc(bs * sizeof *ld);
    emgmm_io_error err = {0};
    emgmm_io_table t;
    memset(&t, 0, sizeof t);
    int rc = !ld   ? cli_fail(CLI_INTERNAL, "out of memory")
             : out ? glue_table_open(&t, out, X->n, 1, 0)
                   : CLI_OK;
    double sum = 0;
    for (size_t i0 = 0; i0 < X->n && rc == CLI_OK; i0 += bs) {
        size_t rows = X->n - i0 < bs ? X->n - i0 : bs;
        emgmm_data b = cli_block(X, i0, rows);
        int st = emgmm_score_samples(m, &b, ld);
        if (st != EMGMM_OK) {
            rc = cli_lib_fail(st, m, "score failed", data, (size_t)row0 + i0);
            break;
        }
        for (size_t i = 0; i < rows; i++) sum += ld[i];
        if (out && emgmm_io_table_write_f64(&t, ld, rows, &err) != 0) rc = cli_io_fail(&err);
    }
    free(ld);
    *sum_out = sum;
    return out ? glue_table_finish(&t, out, rc) : glue_agree(rc);
}

/* What `emgmm score` was asked for. */
typedef struct {
    emgmm_io_read_opts ro;
    const char *out, *model, *data;
    int per, bic, aic, threads;
} score_opts;

/* Returns 0 with *o filled, -1 after --help (exit 0), or an exit code (already reported). */
static int score_parse(int argc, char **argv, score_opts *o)
{
    enum {
        O_PER = 3000,
        O_BIC,
        O_AIC
    };
    static const struct option longopts[] = {{"output", required_argument, NULL, 'o'},
                                             {"per-sample", no_argument, NULL, O_PER},
                                             {"bic", no_argument, NULL, O_BIC},
                                             {"aic", no_argument, NULL, O_AIC},
                                             {"help", no_argument, NULL, 'h'},
                                             CLI_DATA_LONGOPTS,
                                             {NULL, 0, NULL, 0}};
    int c, rc = 0;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":o:h", longopts, NULL)) != -1) {
        int r = cli_data_option(c, optarg, &o->ro, &o->threads, &rc);
        if (r < 0) return rc;
        if (r > 0) continue;
        switch (c) {
        case 'h': fputs(score_help, stdout); return -1;
        case 'o': o->out = optarg; break;
        case O_PER: o->per = 1; break;
        case O_BIC: o->bic = 1; break;
        case O_AIC: o->aic = 1; break;
        default: return cli_getopt_error("score", c, argv);
        }
    }
    if (optind != argc - 2)
        return cli_fail(CLI_USAGE,
                        "score: expected MODEL and DATA arguments (see 'emgmm score --help')");
    if (o->out && !o->per) return cli_fail(CLI_USAGE, "score: -o is for --per-sample output");
    o->model = argv[optind];
    o->data = argv[optind + 1];
    if (o->per && !o->out) o->out = "-";
    return 0;
}

/* The mean log-likelihood per scored row into *mean and, when asked, BIC and AIC into crit[2]
 * (MPI: over all ranks' rows, each rank scoring its own), writing the per-sample densities when
 * asked.  Returns 0 or an exit code (already reported). */
static int score_all(const score_opts *o, emgmm_model *m, const emgmm_data *X, long long row0,
                     double *mean, double crit[2])
{
    int rc, st;
    /* the rows that count: under drop-empty-rows, not those with nothing observed */
    size_t nsc = X->n;
    emgmm_n_scored(m, X, &nsc);
    if (o->per || glue_size() > 1) {
        double sum;
        if ((rc = log_densities(m, X, o->per ? o->out : NULL, o->data, row0, &sum)) != 0) return rc;
        *mean = glue_sum(sum) / glue_sum((double)nsc);
    } else if ((st = emgmm_score(m, X, mean)) != EMGMM_OK) {
        return cli_lib_fail(st, m, "score failed", o->data, 0);
    }
    if (glue_size() > 1) {
        /* scikit-learn's -2·score·n + penalty·parameters, from the totals */
        const double n = glue_sum((double)nsc), np = (double)emgmm_model_n_parameters(m);
        crit[0] = -2.0 * *mean * n + log(n) * np;
        crit[1] = -2.0 * *mean * n + 2.0 * np;
        return 0;
    }
    if (o->bic && (st = emgmm_bic(m, X, &crit[0])) != EMGMM_OK)
        return cli_lib_fail(st, m, "bic failed", o->data, 0);
    if (o->aic && (st = emgmm_aic(m, X, &crit[1])) != EMGMM_OK)
        return cli_lib_fail(st, m, "aic failed", o->data, 0);
    return 0;
}

int cmd_score(int argc, char **argv)
{
    score_opts o = {.ro = emgmm_io_read_opts_default()};
    int rc = score_parse(argc, argv, &o);
    if (rc != 0) return rc < 0 ? CLI_OK : rc;
    emgmm_model *m = NULL;
    emgmm_io_matrix mat = {0};
    /* MPI (tools/mpi_glue.c): each rank reads and scores its own rows; the sum
     * of the log-densities and the row count are summed over the ranks. */
    emgmm_data X;
    long long row0;
    double mean, crit[2];
    if ((rc = glue_open_model_rows(o.out, o.model, o.data, &o.ro, o.threads, &m, &mat, &X,
                                   &row0)) != 0 ||
        (rc = score_all(&o, m, &X, row0, &mean, crit)) != 0 || glue_rank() != 0)
        goto done;
    /* Keep stdout parseable: a per-sample stream there owns it. */
    FILE *f = o.per && !strcmp(o.out, "-") ? stderr : stdout;
    char b[40];
    emgmm_io_format_double(b, sizeof b, mean);
    fprintf(f, "%s\n", b);
    if (o.bic) {
        emgmm_io_format_double(b, sizeof b, crit[0]);
        fprintf(f, "bic %s\n", b);
    }
    if (o.aic) {
        emgmm_io_format_double(b, sizeof b, crit[1]);
        fprintf(f, "aic %s\n", b);
    }
done:
    emgmm_io_matrix_free(&mat);
    emgmm_model_free(m);
    return rc;
}
