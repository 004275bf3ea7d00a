/* cmd_predict.c — `emgmm predict MODEL DATA`: labels, or with --proba the n×K
 * responsibilities, computed and written in blocks of rows so that n×K is
 * only ever held one block at a time. */
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const char predict_help[] =
    "usage: emgmm predict MODEL DATA [-o FILE] [--proba] [options]\n"
    "Writes the most probable component (0-based) of each row of DATA, one per line, or with\n"
    "--proba the posterior probabilities of the K components (n×K).  FILE is .npy (int32\n"
    "labels, float64 probabilities) or CSV/TSV; without -o, CSV on stdout.\n\n"
    "  -o, --output FILE   output file (written atomically)\n"
    "  --proba             responsibilities instead of labels\n" CLI_DATA_HELP;

static int write_proba(emgmm_model *m, const emgmm_data *X, const char *out, const char *data)
{
    size_t K = (size_t)emgmm_model_n_components(m);
    size_t bs = X->n < CLI_BLOCK_ROWS ? X->n : CLI_BLOCK_ROWS;
    double *r = malloc(bs * K * sizeof *r);
    if (!r)
        return cli_fail(CLI_INTERNAL, "out of memory");
    emgmm_io_error err = {0};
    emgmm_io_table t;
    if (emgmm_io_table_open(&t, out, X->n, K, 0, &err) != 0) {
        free(r);
        return cli_io_fail(&err);
    }
    int rc = CLI_OK;
    for (size_t i0 = 0; i0 < X->n && rc == CLI_OK; i0 += bs) {
        size_t rows = X->n - i0 < bs ? X->n - i0 : bs;
        emgmm_data b = cli_block(X, i0, rows);
        int st = emgmm_predict_proba(m, &b, r);
        if (st != EMGMM_OK)
            rc = cli_lib_fail(st, m, "predict failed", data, i0);
        else if (emgmm_io_table_write_f64(&t, r, rows, &err) != 0)
            rc = cli_io_fail(&err);
    }
    free(r);
    if (rc != CLI_OK) {
        emgmm_io_table_abort(&t);
        return rc;
    }
    if (emgmm_io_table_commit(&t, &err) != 0)
        return cli_io_fail(&err);
    return CLI_OK;
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
    if ((rc = cli_check_output(out)) != 0 || (rc = cli_load_model(model_path, &m)) != 0)
        return rc;
    emgmm_model_set_n_threads(m, threads);
    if ((rc = cli_read_data(data, &ro, &mat)) == 0) {
        emgmm_data X = emgmm_io_matrix_data(&mat);
        if ((rc = cli_check_shape(m, &X, model_path, data)) == 0)
            rc = proba ? write_proba(m, &X, out, data) : cli_write_labels(m, &X, out, data);
    }
    emgmm_io_matrix_free(&mat);
    emgmm_model_free(m);
    return rc;
}
