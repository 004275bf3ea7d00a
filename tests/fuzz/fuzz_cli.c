/* fuzz_cli.c — libFuzzer target for the CLI's option parsing: the input is split at NUL bytes
 * into the arguments of `emgmm select` (whose parser is the richest: K lists, type lists and
 * every shared numeric and data option), and the first argument is also fed to the numeric
 * parsers of tools/cli.c directly.  cmd_select.c is included so its static parser is reachable. */
#include "fuzz_common.h"

#include "../../tools/cmd_select.c"

#define MAX_ARGS 24

static void check_numeric(const char *s)
{
    long l;
    if (cli_parse_long("-k", s, 1, 1L << 20, &l) == 0) FUZZ_CHECK(l >= 1 && l <= (1L << 20));
    double x;
    if (cli_parse_double("--tol", s, 0, &x) == 0) FUZZ_CHECK(isfinite(x) && x >= 0);
    uint64_t u;
    if (cli_parse_u64("--seed", s, &u) == 0) FUZZ_CHECK(s[0] != '-' && s[0] != 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 4096) return 0;
    /* One copy with a NUL after the last argument; argv points into it. */
    char *buf = malloc(size + 1);
    if (!buf) return 0;
    memcpy(buf, data, size);
    buf[size] = 0;
    char *argv[MAX_ARGS + 2];
    int argc = 0;
    argv[argc++] = "select";
    for (size_t i = 0; i <= size && argc <= MAX_ARGS;) {
        argv[argc++] = buf + i;
        i += strlen(buf + i) + 1;
    }
    argv[argc] = NULL;
    check_numeric(argv[1]);

    sel_opts o = {0};
    o.p = emgmm_params_default();
    o.ro = emgmm_io_read_opts_default();
    o.criterion = CRIT_BIC;
    parse_types("all", &o);
    optind = 0; /* glibc: full re-initialisation of getopt for a new argv */
    int rc = parse_args(argc, argv, &o);
    if (rc == 0) {
        FUZZ_CHECK(o.data != NULL);
        FUZZ_CHECK(o.nk >= 1 && o.nk <= SEL_MAX_K_VALUES && o.ks != NULL);
        for (int i = 0; i < o.nk; i++)
            FUZZ_CHECK(o.ks[i] >= 1 && o.ks[i] <= (1L << 20) && (i == 0 || o.ks[i] > o.ks[i - 1]));
        FUZZ_CHECK(o.ntypes >= 1 && o.ntypes <= 4);
        FUZZ_CHECK(o.threads >= 0 && o.threads <= 4096);
        FUZZ_CHECK(o.ro.dims <= (1u << 30));
    } else {
        FUZZ_CHECK(rc == -1 || rc == CLI_USAGE || rc == CLI_INTERNAL);
    }
    free(o.ks);
    free(buf);
    return 0;
}
