/* opts_common.c — the options several subcommands take, parsed in one place: the data
 * options (fit, select, predict, score, impute) and the fit options that `fit` and `select`
 * share.  Each parser is called with getopt_long's code and applies the option it knows. */
#include <string.h>

#include "cli.h"

int cli_data_option(int c, const char *arg, emgmm_io_read_opts *o, int *threads, int *rc)
{
    long v = 0; /* set by cli_parse_long when it returns 0 (GCC -O3 cannot see it) */
    switch (c) {
    case CLI_OPT_FORMAT: {
        char delim;
        int f = emgmm_io_format_from_name(arg, &delim);
        if (f < 0) {
            *rc = cli_fail(CLI_USAGE, "--format: expected csv, tsv, npy, f64, f32 or h5, got '%s'",
                           arg);
            return -1;
        }
        o->format = f;
        if (delim) o->delimiter = delim;
        return 1;
    }
    case CLI_OPT_DIMS:
        if ((*rc = cli_parse_long("--dims", arg, 1, 1L << 30, &v)) != 0) return -1;
        o->dims = (size_t)v;
        return 1;
    case CLI_OPT_HEADER: o->header = 1; return 1;
    case CLI_OPT_NO_HEADER: o->header = 0; return 1;
    case CLI_OPT_DELIMITER:
        if (!strcmp(arg, ",") || !strcmp(arg, ";") || !strcmp(arg, " "))
            o->delimiter = arg[0];
        else if (!strcmp(arg, "tab") || !strcmp(arg, "\\t") || !strcmp(arg, "\t"))
            o->delimiter = '\t';
        else if (!strcmp(arg, "space"))
            o->delimiter = ' ';
        else {
            *rc =
                cli_fail(CLI_USAGE, "--delimiter: expected ',', ';', tab or space, got '%s'", arg);
            return -1;
        }
        return 1;
    case CLI_OPT_MISSING: {
        const int pol = emgmm_missing_policy_from_name(arg);
        if (pol < 0) {
            *rc = cli_fail(CLI_USAGE, "--missing: expected error, nan or drop-empty-rows, got '%s'",
                           arg);
            return -1;
        }
        o->missing = pol;
        return 1;
    }
    case CLI_OPT_DTYPE:
        if (!strcmp(arg, "float64") || !strcmp(arg, "f64"))
            o->dtype = EMGMM_F64;
        else if (!strcmp(arg, "float32") || !strcmp(arg, "f32"))
            o->dtype = EMGMM_F32;
        else {
            *rc = cli_fail(CLI_USAGE, "--dtype: expected float64 or float32, got '%s'", arg);
            return -1;
        }
        return 1;
    case CLI_OPT_DATASET: o->dataset = arg; return 1;
    case CLI_OPT_THREADS:
        if ((*rc = cli_parse_long("--threads", arg, 0, 4096, &v)) != 0) return -1;
        *threads = (int)v;
        return 1;
    default: return 0;
    }
}

int cli_fit_option(int c, const char *arg, emgmm_params *p, const char **weights, unsigned *given,
                   int *rc)
{
    long v = 0; /* set by cli_parse_long when it returns 0 (GCC -O3 cannot see it) */
    unsigned flag = 0;
    *rc = 0;
    switch (c) {
    case CLI_OPT_SSTARTS:
        if ((*rc = cli_parse_long("--search-starts", arg, 1, 1L << 20, &v)) == 0)
            p->search_starts = (int)v;
        break;
    case CLI_OPT_SITER:
        if ((*rc = cli_parse_long("--search-iter", arg, 1, 1L << 30, &v)) == 0)
            p->search_iter = (int)v;
        break;
    case CLI_OPT_NINIT:
        if ((*rc = cli_parse_long("--n-init", arg, 1, 1L << 20, &v)) == 0) p->n_init = (int)v;
        flag = CLI_GIVEN_NINIT;
        break;
    case CLI_OPT_MAXIT:
        if ((*rc = cli_parse_long("--max-iter", arg, 1, 1L << 30, &v)) == 0) p->max_iter = (int)v;
        flag = CLI_GIVEN_MAXIT;
        break;
    case CLI_OPT_TOL:
        *rc = cli_parse_double("--tol", arg, 0, &p->tol);
        flag = CLI_GIVEN_TOL;
        break;
    case CLI_OPT_REG:
        *rc = cli_parse_double("--reg-covar", arg, 0, &p->reg_covar);
        flag = CLI_GIVEN_REG;
        break;
    case CLI_OPT_SEED:
        *rc = cli_parse_u64("--seed", arg, &p->seed);
        flag = CLI_GIVEN_SEED;
        break;
    case CLI_OPT_DEGEN:
        if ((p->degenerate = emgmm_degenerate_policy_from_name(arg)) < 0)
            *rc = cli_fail(CLI_USAGE, "--degenerate: expected reseed or error, got '%s'", arg);
        flag = CLI_GIVEN_DEGEN;
        break;
    case CLI_OPT_VFLOOR:
        if ((*rc = cli_parse_double("--var-floor", arg, 0, &p->var_floor)) == 0 &&
            p->var_floor > 1.0)
            *rc = cli_fail(CLI_USAGE, "--var-floor: expected a fraction in [0, 1], got '%s'", arg);
        flag = CLI_GIVEN_VFLOOR;
        break;
    case CLI_OPT_ACCEL:
        if ((p->accel = emgmm_accel_method_from_name(arg)) < 0)
            *rc = cli_fail(CLI_USAGE, "--accel: expected none, squarem or anderson, got '%s'", arg);
        flag = CLI_GIVEN_ACCEL;
        break;
    case CLI_OPT_WEIGHTS: *weights = arg; break;
    default: return 0;
    }
    if (*rc) return -1;
    if (given) *given |= flag;
    return 1;
}
