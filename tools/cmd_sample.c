/* cmd_sample.c — `emgmm sample MODEL -n N -o FILE`: draws N points from the
 * model (deterministic for a seed) and optionally their components. */
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const char sample_help[] =
    "usage: emgmm sample MODEL -n N [--seed S] -o FILE [--labels FILE]\n"
    "Draws N points from MODEL and writes them (N×d) to FILE (.npy or CSV; '-' = stdout CSV).\n\n"
    "  -n, --samples N     number of points\n"
    "  --seed S            random seed (default 0)\n"
    "  -o, --output FILE   the points (written atomically)\n"
    "  --labels FILE       the component each point was drawn from\n"
    "  --threads T         OpenMP threads\n";

/* One whole table (points or labels), committed or not there at all. */
static int write_table(const char *path, const void *x, size_t n, size_t d, int is_int)
{
    emgmm_io_error err = {0};
    emgmm_io_table t;
    if (emgmm_io_table_open(&t, path, n, d, is_int, &err) != 0)
        return cli_io_fail(&err);
    int bad = is_int ? emgmm_io_table_write_i32(&t, x, n, &err)
                     : emgmm_io_table_write_f64(&t, x, n, &err);
    if (bad) {
        emgmm_io_table_abort(&t);
        return cli_io_fail(&err);
    }
    if (emgmm_io_table_commit(&t, &err) != 0)
        return cli_io_fail(&err);
    return CLI_OK;
}

int cmd_sample(int argc, char **argv)
{
    enum { O_SEED = 4000, O_LABELS, O_THREADS };
    static const struct option longopts[] = {{"samples", required_argument, NULL, 'n'},
                                             {"seed", required_argument, NULL, O_SEED},
                                             {"output", required_argument, NULL, 'o'},
                                             {"labels", required_argument, NULL, O_LABELS},
                                             {"threads", required_argument, NULL, O_THREADS},
                                             {"help", no_argument, NULL, 'h'},
                                             {NULL, 0, NULL, 0}};
    const char *out = NULL, *labels = NULL;
    long n = -1, threads = 0;
    uint64_t seed = 0;
    int c, rc;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":n:o:h", longopts, NULL)) != -1) {
        switch (c) {
        case 'h':
            fputs(sample_help, stdout);
            return CLI_OK;
        case 'n':
            if ((rc = cli_parse_long("-n", optarg, 1, 1L << 40, &n)))
                return rc;
            break;
        case 'o':
            out = optarg;
            break;
        case O_SEED:
            if ((rc = cli_parse_u64("--seed", optarg, &seed)))
                return rc;
            break;
        case O_LABELS:
            labels = optarg;
            break;
        case O_THREADS:
            if ((rc = cli_parse_long("--threads", optarg, 0, 4096, &threads)))
                return rc;
            break;
        default:
            return cli_getopt_error("sample", c, argv);
        }
    }
    if (optind != argc - 1)
        return cli_fail(CLI_USAGE,
                        "sample: expected one MODEL argument (see 'emgmm sample --help')");
    if (n < 0)
        return cli_fail(CLI_USAGE, "sample: -n N is required");
    if (!out)
        return cli_fail(CLI_USAGE, "sample: -o FILE is required ('-o -' for stdout)");
    if (labels && !strcmp(labels, "-") && !strcmp(out, "-"))
        return cli_fail(CLI_USAGE, "sample: points and labels cannot both go to stdout");

    emgmm_model *m = NULL;
    if ((rc = cli_check_output(out)) != 0 || (rc = cli_check_output(labels)) != 0 ||
        (rc = cli_load_model(argv[optind], &m)) != 0)
        return rc;
    emgmm_model_set_n_threads(m, (int)threads);
    size_t N = (size_t)n, d = (size_t)emgmm_model_n_features(m);
    double *x = N <= SIZE_MAX / d / sizeof(double) ? malloc(N * d * sizeof *x) : NULL;
    int32_t *comp = labels ? malloc(N * sizeof *comp) : NULL;
    if (!x || (labels && !comp)) {
        rc = cli_fail(CLI_INTERNAL, "out of memory for %zu samples", N);
        goto done;
    }
    int st = emgmm_sample(m, N, seed, x, comp);
    if (st != EMGMM_OK) {
        rc = cli_lib_fail(st, m, "sample failed", argv[optind], 0);
        goto done;
    }
    if ((rc = write_table(out, x, N, d, 0)) == CLI_OK && labels)
        rc = write_table(labels, comp, N, 1, 1);
done:
    free(x);
    free(comp);
    emgmm_model_free(m);
    return rc;
}
