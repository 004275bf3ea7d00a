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
        if (r < 0) return rc;
        if (r > 0) continue;
        switch (c) {
        case 'h': fputs(predict_help, stdout); return CLI_OK;
        case 'o': out = optarg; break;
        case 'p': proba = 1; break;
        default: return cli_getopt_error("predict", c, argv);
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
    emgmm_data X;
    long long row0;
    if ((rc = glue_open_model_rows(out, model_path, data, &ro, threads, &m, &mat, &X, &row0)) == 0)
        rc = glue_write_predictions(m, &X, proba, out, data, row0, CLI_OK);
    emgmm_io_matrix_free(&mat);
    emgmm_model_free(m);
    return rc;
}
