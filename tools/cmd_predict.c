/* cmd_predict.c — `emgmm predict MODEL DATA`: labels, or with --proba the n×K
 * responsibilities, computed and written in blocks of rows so that n×K is
 * only ever held one block at a time. */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "mpi_glue.h"

static const char predict_help[] =
    "usage: emgmm predict MODEL DATA [-o FILE] [--proba] [options]\n"
    "Writes the most probable component (0-based) of each row of DATA, one per line, or with\n"
    "--proba the posterior probabilities of the K components (n×K).  FILE is .npy (int32\n"
    "labels, float64 probabilities) or CSV/TSV; without -o, CSV on stdout.\n\n"
    "  -o, --output FILE   output file (written atomically)\n"
    "  --proba             responsibilities instead of labels\n" CLI_DATA_HELP;

/* Labels or responsibilities of this process's rows, written block by block;
 * under MPI each rank writes its rows' place of the one output file
 * (tools/mpi_glue.c).  ROW0 is the first row's index in DATA. */
static int write_table(emgmm_model *m, const emgmm_data *X, int proba, const char *out,
                       const char *data, long long row0)
{
    const size_t K = (size_t)emgmm_model_n_components(m), cols = proba ? K : 1;
    size_t bs = X->n < CLI_BLOCK_ROWS ? X->n : CLI_BLOCK_ROWS;
    if (bs == 0)
        bs = 1; /* a rank without rows still takes part */
    double *r = proba ? malloc(bs * K * sizeof *r) : NULL;
    int32_t *lab = proba ? NULL : malloc(bs * sizeof *lab);
    emgmm_io_table t;
    memset(&t, 0, sizeof t);
    emgmm_io_error err = {0};
    int rc = !r && !lab ? cli_fail(CLI_INTERNAL, "out of memory")
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

int cmd_predict(int argc, char **argv)
{
    static const struct option longopts[] = {{"output", required_argument, NULL, 'o'},
                                             {"proba", no_argument, NULL, 'p'},
                                             {"help", no_argument, NULL, 'h'},
                                             CLI_DATA_LONGOPTS,
                                             {NULL, 0, NULL, 0}};
    emgmm_io_read_opts ro = emgmm_io_read_opts_default();
    const char *out = "-";
    int proba = 0, threads = 0, c, rc = 0;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":o:h", longopts, NULL)) != -1) {
        int r = cli_data_option(c, optarg, &ro, &threads, &rc);
        if (r < 0)
            return rc;
        if (r > 0)
            continue;
        switch (c) {
        case 'h':
            fputs(predict_help, stdout);
            return CLI_OK;
        case 'o':
            out = optarg;
            break;
        case 'p':
            proba = 1;
            break;
        default:
            return cli_getopt_error("predict", c, argv);
        }
    }
    if (optind != argc - 2)
        return cli_fail(CLI_USAGE,
                        "predict: expected MODEL and DATA arguments (see 'emgmm predict --help')");
    const char *model_path = argv[optind], *data = argv[optind + 1];

    emgmm_model *m = NULL;
    emgmm_io_matrix mat = {0};
    /* MPI (tools/mpi_glue.c): each rank reads and predicts its own rows; a
     * failure on any rank ends all of them, reported once, without output. */
    if ((rc = cli_check_output(out)) == 0)
        rc = cli_load_model(model_path, &m);
    if ((rc = glue_agree(rc)) != 0)
        goto done;
    emgmm_model_set_n_threads(m, threads);
    emgmm_data X;
    long long row0 = 0;
    if ((rc = glue_read_rows(data, &ro, &mat, &X, &row0)) == 0)
        rc = cli_check_shape(m, &X, model_path, data);
    if ((rc = glue_agree(rc)) == 0)
        rc = write_table(m, &X, proba, out, data, row0);
done:
    emgmm_io_matrix_free(&mat);
    emgmm_model_free(m);
    return rc;
}
