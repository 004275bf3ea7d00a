/* cmd_sample.c — `emgmm sample MODEL -n N -o FILE`: draws N points from the
 * model (deterministic for a seed) and optionally their components. */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>

#include "cli.h"

static const char sample_help[] =
    "usage: emgmm sample MODEL -n N [--seed S] -o FILE [--labels FILE]\n"
    "Draws N points from MODEL and writes them (N×d) to FILE (.npy or CSV; '-' = stdout CSV),\n"
    "65536 rows at a time (memory does not grow with N).\n\n"
    "  -n, --samples N     number of points\n"
    "  --seed S            random seed (default 0)\n"
    "  -o, --output FILE   the points (written atomically)\n"
    "  --labels FILE       the component each point was drawn from\n"
    "  --threads T         OpenMP threads\n";

/* Points are drawn and written SAMPLE_BLOCK rows at a time, so memory stays
 * bounded whatever N.  Block b draws with its own seed: block 0 with the
 * seed itself (so N <= SAMPLE_BLOCK gives what emgmm_sample gives in one
 * call), block b > 0 with a splitmix64 hash of (seed, b).  The output is a
 * function of (model, seed, N) only, and a larger N extends a smaller one. */
#define SAMPLE_BLOCK ((size_t)65536)

static uint64_t splitmix64(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

static uint64_t block_seed(uint64_t seed, size_t b)
{
    return b == 0 ? seed : splitmix64(seed ^ splitmix64((uint64_t)b));
}

/* Output that cannot fit where it goes is refused before anything is
 * written: the bytes the tables need at least (.npy exactly; CSV at least
 * two characters per value) against the space free on the file system of
 * each target.  Stdout and devices are not checked. */
static int check_space(const char *path, size_t N, size_t cols, size_t npy_bytes)
{
    if (!path || !strcmp(path, "-")) return CLI_OK;
    struct stat sb;
    if (stat(path, &sb) == 0 && !S_ISREG(sb.st_mode)) return CLI_OK;
    char dir[4096];
    const char *slash = strrchr(path, '/');
    if (!slash)
        snprintf(dir, sizeof dir, ".");
    else if (slash == path)
        snprintf(dir, sizeof dir, "/");
    else
        snprintf(dir, sizeof dir, "%.*s", (int)(slash - path), path);
    struct statvfs fs;
    if (statvfs(dir, &fs) != 0) return CLI_OK; /* the open will say what is wrong */
    const size_t len = strlen(path);
    const int npy = len >= 4 && !strcmp(path + len - 4, ".npy");
    const double need = (double)N * (double)cols * (npy ? (double)npy_bytes : 2.0);
    const double avail = (double)fs.f_bavail * (double)fs.f_frsize;
    if (need <= avail) return CLI_OK;
    return cli_fail(CLI_INTERNAL,
                    "sample: %zu samples need at least %.3g GB in %s, more than the %.3g GB free "
                    "there (out of disk space)",
                    N, need / 1e9, path, avail / 1e9);
}

/* Both tables streamed block by block; each is committed whole or not at all,
 * and the points are removed again if the labels cannot be committed, so a
 * failed run leaves no output. */
static int sample_blocks(emgmm_model *m, size_t N, uint64_t seed, const char *out,
                         const char *labels, const char *model_path)
{
    const size_t d = (size_t)emgmm_model_n_features(m);
    const size_t B = N < SAMPLE_BLOCK ? (N ? N : 1) : SAMPLE_BLOCK;
    emgmm_io_error err = {0};
    emgmm_io_table tx, tl;
    int have_x = 0, have_l = 0, rc = CLI_OK;
    double *x = B <= SIZE_MAX / d / sizeof(double) ? malloc(B * d * sizeof *x) : NULL;
    int32_t *comp = labels ? malloc(B * sizeof *comp) : NULL;
    if (!x || (labels && !comp)) {
        rc = cli_fail(CLI_INTERNAL, "out of memory for a block of %zu samples", B);
        goto done;
    }
    if (emgmm_io_table_open(&tx, out, N, d, 0, &err) != 0) {
        rc = cli_io_fail(&err);
        goto done;
    }
    have_x = 1;
    if (labels) {
        if (emgmm_io_table_open(&tl, labels, N, 1, 1, &err) != 0) {
            rc = cli_io_fail(&err);
            goto done;
        }
        have_l = 1;
    }
    for (size_t b = 0, i0 = 0; i0 < N; b++, i0 += B) {
        const size_t nb = N - i0 < B ? N - i0 : B;
        int st = emgmm_sample(m, nb, block_seed(seed, b), x, comp);
        if (st != EMGMM_OK) {
            rc = cli_lib_fail(st, m, "sample failed", model_path, 0);
            goto done;
        }
        if (emgmm_io_table_write_f64(&tx, x, nb, &err) != 0 ||
            (labels && emgmm_io_table_write_i32(&tl, comp, nb, &err) != 0)) {
            rc = cli_io_fail(&err);
            goto done;
        }
    }
    have_x = 0;
    if (emgmm_io_table_commit(&tx, &err) != 0) {
        rc = cli_io_fail(&err);
        goto done;
    }
    if (labels) {
        have_l = 0;
        if (emgmm_io_table_commit(&tl, &err) != 0) {
            rc = cli_io_fail(&err);
            if (strcmp(out, "-") != 0) remove(out);
        }
    }
done:
    if (have_x) emgmm_io_table_abort(&tx);
    if (have_l) emgmm_io_table_abort(&tl);
    free(x);
    free(comp);
    return rc;
}

int cmd_sample(int argc, char **argv)
{
    enum {
        O_SEED = 4000,
        O_LABELS,
        O_THREADS
    };
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
        case 'h': fputs(sample_help, stdout); return CLI_OK;
        case 'n':
            if ((rc = cli_parse_long("-n", optarg, 1, 1L << 40, &n))) return rc;
            break;
        case 'o': out = optarg; break;
        case O_SEED:
            if ((rc = cli_parse_u64("--seed", optarg, &seed))) return rc;
            break;
        case O_LABELS: labels = optarg; break;
        case O_THREADS:
            if ((rc = cli_parse_long("--threads", optarg, 0, 4096, &threads))) return rc;
            break;
        default: return cli_getopt_error("sample", c, argv);
        }
    }
    if (optind != argc - 1)
        return cli_fail(CLI_USAGE,
                        "sample: expected one MODEL argument (see 'emgmm sample --help')");
    if (n < 0) return cli_fail(CLI_USAGE, "sample: -n N is required");
    if (!out) return cli_fail(CLI_USAGE, "sample: -o FILE is required ('-o -' for stdout)");
    if (labels && !strcmp(labels, "-") && !strcmp(out, "-"))
        return cli_fail(CLI_USAGE, "sample: points and labels cannot both go to stdout");

    emgmm_model *m = NULL;
    if ((rc = cli_check_output(out)) != 0 || (rc = cli_check_output(labels)) != 0 ||
        (rc = cli_load_model(argv[optind], &m)) != 0)
        return rc;
    emgmm_model_set_n_threads(m, (int)threads);
    if ((rc = check_space(out, (size_t)n, (size_t)emgmm_model_n_features(m), sizeof(double))) ==
            CLI_OK &&
        (rc = check_space(labels, (size_t)n, 1, sizeof(int32_t))) == CLI_OK)
        rc = sample_blocks(m, (size_t)n, seed, out, labels, argv[optind]);
    emgmm_model_free(m);
    return rc;
}
