/* cmd_select.c — `emgmm select`: load DATA once, fit every (K, covariance type) pair, rank the
 * fits by BIC or AIC (scikit-learn's sign: lower is better), print the table, and write the best
 * model (-o) and the table as CSV or JSON (--table).  Failed fits are rows, not the end. */
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cli.h"
#include "mpi_glue.h"
#include "weights.h"

static const char select_help[] =
    "usage: emgmm select DATA [--k 1:9] [options]\n"
    "Fits a Gaussian mixture for every K and covariance type, prints a table of the fits and\n"
    "picks the one with the lowest criterion.  BIC and AIC have scikit-learn's sign: lower is\n"
    "better (mclust's BIC has the opposite sign).  Every fit uses the same --seed, so the best\n"
    "one is what 'emgmm fit -k K --covariance T' gives with the same options and --init (fit's\n"
    "default start is smem, select's kmeans; and --threads threads/J when --jobs runs J fits at\n"
    "a time).\n\n"
    "  -k, --k LIST        component counts: N, A:B or a comma list of both, e.g. 1:20 or\n"
    "                      1,2,4:6 (default 1:9)\n"
    "  --covariance LIST, --model LIST  comma list of full, tied, diag, spherical and mclust's\n"
    "                      EII VII EEI VEI EVI VVI EEE VEE EVE VVE EEV VEV EVV VVV; all (the\n"
    "                      four, default) or mclust (the fourteen, in mclustBIC's order)\n"
    "  --criterion C       bic|aic|icl (default bic; ICL = BIC + 2 x the hard-assignment\n"
    "                      entropy, mclust's icl() with scikit-learn's sign)\n"
    "  --mclust-sign       also give ICL and BIC/ICL in mclust's sign (2 log L - p log n, higher\n"
    "                      is better): columns icl, bic_mclust, icl_mclust in the CSV table and,\n"
    "                      after the fits, a K x model matrix laid out as mclustBIC's print (NA =\n"
    "                      failed fit); on whenever an mclust-only model or ICL is in the sweep\n"
    "  -o, --output FILE   write the best model as JSON (atomically; '-' = stdout)\n"
    "  --table FILE        write the table: .json as JSON, otherwise CSV (.tsv with tabs);\n"
    "                      atomically; '-' = CSV on stdout\n"
    "  --init I            kmeans|k-means++|random|random_from_data|emem|smem (default kmeans;\n"
    "                      docs/search.md)\n"
    "  --search-starts S   emem, smem: short runs per initialisation (default emem 20, smem 5)\n"
    "  --search-iter L     emem, smem: EM iterations per short run (default emem 10, smem 5)\n"
    "  --n-init R          initialisations per fit; the best lower bound is kept (default 1)\n"
    "  --max-iter M        EM iterations per initialisation (default 100)\n"
    "  --tol T             convergence tolerance on the mean log-likelihood (default 1e-3)\n"
    "  --reg-covar R       added to covariance diagonals (default 1e-6)\n"
    "  --degenerate P      reseed|error: what a fit does with an empty or collapsed component\n"
    "                      (default reseed; error = scikit-learn's behaviour; docs/cli.md)\n"
    "  --var-floor REL     floor covariance diagonals at REL x each feature's variance (default "
    "0)\n"
    "  --seed S            random seed, the same for every fit (default 0)\n"
    "  --accel A           none|squarem|anderson: plain EM (default) or accelerated "
    "(docs/accel.md)\n"
    "  --jobs J            fits at a time, each on threads/J threads; the table and the pick\n"
    "                      are those of one fit at a time, each fit is 'emgmm fit' with\n"
    "                      --threads threads/J.  auto (default): the most jobs that divide\n"
    "                      the threads with at least two K values per job (2 threads and\n"
    "                      K 1:9: 2 jobs of 1 thread), else 1; 1: one fit at a time on all\n"
    "                      threads (docs/select.md)\n"
    "  -q, --quiet         no table on the terminal (errors are still reported)\n"
    "  --weights FILE      per-sample weights, one column with a weight >= 0 for each row of\n"
    "                      DATA; weight w counts a row w times, in the fits and in BIC/AIC\n"
    "The printed table goes to stdout, or to stderr when -o or --table writes to stdout.\n"
    "Exit status: 0 when at least one fit succeeded (failed fits are listed as failed);\n"
    "4 when every fit failed numerically; 2, 3, 5 as for the other commands.\n\n" CLI_DATA_HELP;

enum {
    O_COV = 5000,
    O_CRIT,
    O_TABLE,
    O_INIT,
    O_MCLUST_SIGN,
    O_JOBS
};
enum {
    CRIT_BIC = 0,
    CRIT_AIC = 1,
    CRIT_ICL = 2
};
#define SEL_MAX_K_VALUES 10000 /* a sweep longer than this is almost surely a typo */
#define SEL_MAX_JOBS 256
#define SIGN_NOTE "lower is better (scikit-learn's sign; mclust's BIC has the opposite sign)"

typedef struct {
    int k, type;
    int ok;          /* 1 fitted and scored, 0 failed */
    int status;      /* the library's status when it failed */
    char error[320]; /* why it failed */
    double bic, aic, loglik, seconds;
    double icl;    /* issue 19: sign of bic; NAN with --weights */
    long n_params; /* -1 when the model could not be created */
    int converged, n_iter;
    int n_reseeds; /* components reseeded during the kept fit */
} sel_row;

typedef struct {
    const char *data, *out, *table;
    long *ks;
    int nk;
    int types[EMGMM_N_COV_TYPES], ntypes;
    int criterion, threads, quiet;
    int mclust;   /* issue 19: --mclust-sign, or an mclust-only structure or ICL in the sweep */
    int want_icl; /* ICL is shown somewhere (terminal table, mclust columns, JSON table) */
    int jobs;     /* --jobs: fits at a time; 0 = auto (sweep_jobs) */
    emgmm_params p;
    emgmm_io_read_opts ro;
    const char *weights; /* --weights FILE, or NULL */
} sel_opts;

/* ------------------------------------------------------------------ option parsing */
static int cmp_long(const void *a, const void *b)
{
    const long x = *(const long *)a, y = *(const long *)b;
    return (x > y) - (x < y);
}

/* "N", "A:B" or a comma list of them → sorted distinct values in o->ks. */
static int parse_k_list(const char *s, sel_opts *o)
{
    const long kmax = 1L << 20;
    char *copy = strdup(s);
    if (!copy) return cli_fail(CLI_INTERNAL, "out of memory");
    long *ks = NULL;
    int n = 0, cap = 0, rc = 0;
    char *save = NULL;
    const size_t len = strlen(s);
    if (strstr(s, ",,") || (len && (s[0] == ',' || s[len - 1] == ','))) {
        free(copy);
        return cli_fail(CLI_USAGE,
                        "--k: an empty item in '%s' (expected N, A:B or a comma list "
                        "of them)",
                        s);
    }
    for (char *tok = strtok_r(copy, ",", &save); tok && !rc; tok = strtok_r(NULL, ",", &save)) {
        char *colon = strchr(tok, ':');
        long a, b;
        if (colon) *colon = '\0';
        if ((rc = cli_parse_long("--k", tok, 1, kmax, &a)) != 0) break;
        b = a;
        if (colon && (rc = cli_parse_long("--k", colon + 1, 1, kmax, &b)) != 0) break;
        if (b < a) {
            rc = cli_fail(CLI_USAGE, "--k: range %ld:%ld runs backwards", a, b);
            break;
        }
        if (b - a + 1 > SEL_MAX_K_VALUES - n) {
            rc = cli_fail(CLI_USAGE, "--k: more than %d values of K in '%s'", SEL_MAX_K_VALUES, s);
            break;
        }
        for (long v = a; v <= b; v++) {
            if (n == cap) {
                cap = cap ? 2 * cap : 32;
                long *t = realloc(ks, sizeof *ks * (size_t)cap);
                if (!t) {
                    rc = cli_fail(CLI_INTERNAL, "out of memory");
                    break;
                }
                ks = t;
            }
            ks[n++] = v;
        }
    }
    free(copy);
    if (!rc && n == 0)
        rc = cli_fail(CLI_USAGE, "--k: expected N, A:B or a comma list of them, got '%s'", s);
    if (rc) {
        free(ks);
        return rc;
    }
    qsort(ks, (size_t)n, sizeof *ks, cmp_long);
    int m = 0;
    for (int i = 0; i < n; i++)
        if (m == 0 || ks[i] != ks[m - 1]) ks[m++] = ks[i];
    free(o->ks);
    o->ks = ks;
    o->nk = m;
    return 0;
}

/* "all" or a comma list of type names, kept in the order given, without repeats. */
static int parse_types(const char *s, sel_opts *o)
{
    o->ntypes = 0;
    if (!strcmp(s, "all")) {
        for (int t = EMGMM_COV_FULL; t <= EMGMM_COV_SPHERICAL; t++) o->types[o->ntypes++] = t;
        return 0;
    }
    if (!strcasecmp(s, "mclust")) { /* the fourteen, in mclustBIC's column order */
        static const char *const order[] = {"EII", "VII", "EEI", "VEI", "EVI", "VVI", "EEE",
                                            "VEE", "EVE", "VVE", "EEV", "VEV", "EVV", "VVV"};
        for (int t = 0; t < EMGMM_N_COV_TYPES; t++)
            o->types[o->ntypes++] = emgmm_covariance_type_from_name(order[t]);
        return 0;
    }
    char *copy = strdup(s);
    if (!copy) return cli_fail(CLI_INTERNAL, "out of memory");
    char *save = NULL;
    int rc = 0;
    for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        const int t = emgmm_covariance_type_from_name(tok);
        if (t < 0) {
            rc = cli_fail(CLI_USAGE,
                          "--covariance: expected full, tied, diag, spherical or "
                          "mclust model names (comma-separated), all or mclust, got '%s'",
                          tok);
            break;
        }
        int seen = 0;
        for (int i = 0; i < o->ntypes; i++) seen |= o->types[i] == t;
        if (!seen) o->types[o->ntypes++] = t;
    }
    free(copy);
    if (!rc && o->ntypes == 0)
        rc = cli_fail(CLI_USAGE, "--covariance: no covariance type in '%s'", s);
    return rc;
}

/* After the options: the one DATA argument, the outputs' formats, the defaults that depend on
 * other options, and the params checked as a whole. */
static int finish_args(int argc, char **argv, sel_opts *o)
{
    int rc;
    if (optind != argc - 1)
        return cli_fail(CLI_USAGE,
                        "select: expected one DATA argument, got %d (see 'emgmm select --help')",
                        argc - optind);
    o->data = argv[optind];
    if (o->out && o->table && !strcmp(o->out, "-") && !strcmp(o->table, "-"))
        return cli_fail(CLI_USAGE, "select: -o and --table cannot both write to stdout");
    if (o->table && strcmp(o->table, "-")) {
        const size_t len = strlen(o->table);
        if (len >= 4 && !strcasecmp(o->table + len - 4, ".npy"))
            return cli_fail(CLI_USAGE, "--table: write .csv, .tsv or .json, not .npy (%s)",
                            o->table);
    }
    if (o->nk == 0 && (rc = parse_k_list("1:9", o)) != 0) return rc;
    for (int t = 0; t < o->ntypes; t++) o->mclust |= o->types[t] >= EMGMM_COV_EII;
    o->mclust |= o->criterion == CRIT_ICL;
    /* ICL's entropy term is summed by the scoring pass (a little work per row, no pass of
     * its own): only when a table shows it */
    o->want_icl = o->mclust || !o->quiet ||
                  (o->table && strlen(o->table) >= 5 &&
                   !strcasecmp(o->table + strlen(o->table) - 5, ".json"));
    o->p.n_threads = o->threads;
    o->p.missing = o->ro.missing;
    if (emgmm_params_validate(&o->p) != EMGMM_OK)
        return cli_fail(CLI_USAGE, "select: invalid parameters (%s)",
                        emgmm_strerror(EMGMM_ERR_INVALID_PARAM));
    return 0;
}

static int parse_args(int argc, char **argv, sel_opts *o)
{
    static const struct option longopts[] = {{"k", required_argument, NULL, 'k'},
                                             {"components", required_argument, NULL, 'k'},
                                             {"covariance", required_argument, NULL, O_COV},
                                             {"model", required_argument, NULL, O_COV},
                                             {"mclust-sign", no_argument, NULL, O_MCLUST_SIGN},
                                             {"jobs", required_argument, NULL, O_JOBS},
                                             {"criterion", required_argument, NULL, O_CRIT},
                                             {"output", required_argument, NULL, 'o'},
                                             {"table", required_argument, NULL, O_TABLE},
                                             {"init", required_argument, NULL, O_INIT},
                                             {"quiet", no_argument, NULL, 'q'},
                                             {"help", no_argument, NULL, 'h'},
                                             CLI_FIT_LONGOPTS,
                                             CLI_DATA_LONGOPTS,
                                             {NULL, 0, NULL, 0}};
    int c, rc = 0, im;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":k:o:qh", longopts, NULL)) != -1) {
        int r = cli_data_option(c, optarg, &o->ro, &o->threads, &rc);
        if (r == 0) r = cli_fit_option(c, optarg, &o->p, &o->weights, NULL, &rc);
        if (r < 0) return rc;
        if (r > 0) continue;
        switch (c) {
        case 'h': fputs(select_help, stdout); return -1;
        case 'k':
            if ((rc = parse_k_list(optarg, o))) return rc;
            break;
        case 'o': o->out = optarg; break;
        case 'q': o->quiet = 1; break;
        case O_COV:
            if ((rc = parse_types(optarg, o))) return rc;
            break;
        case O_CRIT:
            if (!strcasecmp(optarg, "bic"))
                o->criterion = CRIT_BIC;
            else if (!strcasecmp(optarg, "aic"))
                o->criterion = CRIT_AIC;
            else if (!strcasecmp(optarg, "icl"))
                o->criterion = CRIT_ICL;
            else
                return cli_fail(CLI_USAGE, "--criterion: expected bic, aic or icl, got '%s'",
                                optarg);
            break;
        case O_TABLE: o->table = optarg; break;
        case O_MCLUST_SIGN: o->mclust = 1; break;
        case O_JOBS: {
            long v = 0;
            if (strcasecmp(optarg, "auto") &&
                (rc = cli_parse_long("--jobs", optarg, 1, SEL_MAX_JOBS, &v)) != 0)
                return rc;
            o->jobs = (int)v;
            break;
        }
        case O_INIT:
            im = emgmm_init_method_from_name(optarg);
            if (im < 0 || im == EMGMM_INIT_USER || im == EMGMM_INIT_RESP)
                return cli_fail(CLI_USAGE,
                                "--init: expected kmeans, k-means++, random, "
                                "random_from_data, emem or smem, got '%s'",
                                optarg);
            o->p.init = im;
            break;
        default: return cli_getopt_error("select", c, argv);
        }
    }
    return finish_args(argc, argv, o);
}

/* ------------------------------------------------------------------ the sweep */
static double crit_of(const sel_row *r, int criterion)
{
    return criterion == CRIT_AIC ? r->aic : criterion == CRIT_ICL ? r->icl : r->bic;
}

static const char *crit_name(int criterion, int upper)
{
    if (criterion == CRIT_AIC) return upper ? "AIC" : "aic";
    if (criterion == CRIT_ICL) return upper ? "ICL" : "icl";
    return upper ? "BIC" : "bic";
}

/* Failures that would repeat for every pair (bad data, no memory, a bug) end the sweep;
 * the rest — numerical trouble, too few samples for K — are rows of the table. */
static int stops_the_sweep(int status, const emgmm_model *m)
{
    long long row = -1;
    if (m) emgmm_model_error_location(m, &row, NULL, NULL);
    switch (status) {
    case EMGMM_ERR_NONFINITE: return row >= 0; /* NaN/Inf in DATA, not in the fit */
    case EMGMM_ERR_NOT_PD:
    case EMGMM_ERR_DEGENERATE:
    case EMGMM_ERR_TOO_FEW_SAMPLES:
    case EMGMM_ERR_TOO_LARGE:
    case EMGMM_ERR_UNSUPPORTED: return 0;
    default: return 1;
    }
}

static void set_error(sel_row *r, int status, const emgmm_model *m)
{
    r->status = status;
    const char *msg = m ? emgmm_model_last_error(m) : "";
    snprintf(r->error, sizeof r->error, "%s", msg && *msg ? msg : emgmm_strerror(status));
}

/* The (K, type) model of *row, with the sweep's threads, into *out.  Returns 0 with *out NULL
 * when this pair cannot be made (the reason is in *row), or an exit code (already reported)
 * when the sweep must stop. */
static int new_model(const sel_opts *o, const emgmm_data *X, sel_row *row, emgmm_model **out)
{
    emgmm_model *m = NULL;
    *out = NULL;
    const int st = emgmm_model_create(&m, (int)row->k, (int)X->d, row->type);
    if (st != EMGMM_OK) {
        if (stops_the_sweep(st, NULL))
            return cli_lib_fail(st, NULL, "select: cannot create a model", NULL, 0);
        row->status = st;
        snprintf(row->error, sizeof row->error, "%s",
                 st == EMGMM_ERR_UNSUPPORTED ? "covariance type not supported by this build"
                                             : emgmm_strerror(st));
        return 0;
    }
    emgmm_model_set_n_threads(m, o->threads);
    row->n_params = emgmm_model_n_parameters(m);
    *out = m;
    return 0;
}

/* The criteria of the fit m (status st so far) into *row, for the three ways a sweep runs.
 * Each returns the status after scoring, the same on every rank. */

/* --weights: a row of weight w counts w times, in the log-likelihood and in n (= the weights'
 * sum), as rows repeated w times would (under MPI, the ranks' sums added). */
static int score_weighted(emgmm_model *m, const emgmm_data *X, int st, sel_row *row)
{
    double lw[2] = {0.0, 0.0};
    if (st == EMGMM_OK) st = cli_weighted_loglik(m, X, &lw[0], &lw[1]);
    st = glue_agree_status(st);
    lw[0] = glue_sum(st == EMGMM_OK ? lw[0] : 0.0);
    lw[1] = glue_sum(lw[1]);
    row->loglik = lw[0];
    row->bic = -2.0 * lw[0] + log(lw[1]) * (double)row->n_params;
    row->aic = -2.0 * lw[0] + 2.0 * (double)row->n_params;
    return st;
}

/* MPI: the score of all ranks' rows, and the criteria from the totals (scikit-learn's
 * -2·score·n + penalty·parameters). */
static int score_ranks(emgmm_model *m, const emgmm_data *X, int st, int want_icl, sel_row *row)
{
    double score = NAN, ent = 0.0;
    /* ICL's entropy is a sum over rows, from the scoring pass itself */
    if (st == EMGMM_OK && X->n > 0)
        st = want_icl ? emgmm_score_entropy(m, X, &score, &ent) : emgmm_score(m, X, &score);
    st = glue_agree_status(st);
    size_t nsc = X->n; /* drop-empty-rows: rows with nothing observed do not count */
    emgmm_n_scored(m, X, &nsc);
    const double n = glue_sum((double)nsc);
    score = glue_sum(st == EMGMM_OK && nsc > 0 ? score * (double)nsc : 0.0) / n;
    row->bic = -2.0 * score * n + log(n) * (double)row->n_params;
    row->aic = -2.0 * score * n + 2.0 * (double)row->n_params;
    row->loglik = score * n;
    /* ICL: the entropy is a sum over rows, so the ranks' sums add up */
    row->icl = row->bic + 2.0 * glue_sum(st == EMGMM_OK ? ent : 0.0);
    if (!want_icl) row->icl = NAN;
    return st;
}

/* One process: the library's own score, BIC and AIC from it as emgmm_bic and emgmm_aic compute
 * them (the same bits, without a data pass each), and ICL (when shown) = BIC + 2 x the entropy
 * term, which the same scoring pass sums (emgmm_score_entropy): one pass per fit, not two. */
static int score_local(emgmm_model *m, const emgmm_data *X, int st, int want_icl, sel_row *row)
{
    double score = NAN, ent = NAN;
    if (st == EMGMM_OK)
        st = want_icl ? emgmm_score_entropy(m, X, &score, &ent) : emgmm_score(m, X, &score);
    size_t nsc = X->n;
    emgmm_n_scored(m, X, &nsc);
    const double n = (double)nsc, np = (double)emgmm_model_n_parameters(m);
    row->bic = -2.0 * score * n + log(n) * np;
    row->aic = -2.0 * score * n + 2.0 * np;
    row->icl = want_icl ? row->bic + 2.0 * ent : NAN;
    row->loglik = score * n;
    return st;
}

/* A fit or its scoring failed with st: an exit code (reported) when that ends the sweep, else
 * 0 with the reason in *row. */
static int fit_failed(const sel_opts *o, const emgmm_data *X, emgmm_model *m, int st, sel_row *row)
{
    if (!stops_the_sweep(st, m)) {
        set_error(row, st, m);
        return 0;
    }
    char what[96];
    snprintf(what, sizeof what, "select: K=%d %s failed", row->k,
             emgmm_covariance_type_name(row->type));
    return cli_fit_fail(st, m, what, o->data, 0, glue_size() == 1 ? X : NULL);
}

/* Fits one (K, type) pair into *row.  Returns 0, or an exit code (already reported) when the
 * sweep must stop.  On success *fitted holds the model (the caller owns it). */
static int fit_one(const sel_opts *o, const emgmm_data *X, long long row0, sel_row *row,
                   emgmm_model **fitted)
{
    *fitted = NULL;
    row->n_params = -1;
    emgmm_model *m = NULL;
    int rc = new_model(o, X, row, &m);
    if (rc != 0 || !m) return rc;
    rc = glue_size() > 1 ? glue_agree(glue_set_comm(m, row0)) : 0; /* MPI: a collective fit */
    if (rc != 0) {
        emgmm_model_free(m);
        return rc;
    }
    const double t0 = cli_now();
    int st = emgmm_fit(m, &o->p, X);
    row->seconds = cli_now() - t0;
    st = X->weights        ? score_weighted(m, X, st, row)
         : glue_size() > 1 ? score_ranks(m, X, st, o->want_icl, row)
                           : score_local(m, X, st, o->want_icl, row);
    if (st != EMGMM_OK) {
        rc = fit_failed(o, X, m, st, row);
        emgmm_model_free(m);
        return rc;
    }
    row->converged = emgmm_model_converged(m);
    row->n_iter = emgmm_model_n_iter(m);
    row->n_reseeds = emgmm_model_n_reseeds(m);
    if (!isfinite(row->bic) || !isfinite(row->aic) || !isfinite(row->loglik)) {
        row->status = EMGMM_ERR_NONFINITE;
        snprintf(row->error, sizeof row->error, "the log-likelihood of the fit is not finite");
        emgmm_model_free(m);
        return 0;
    }
    row->ok = 1;
    *fitted = m;
    return 0;
}

/* ------------------------------------------------------------------ output */
static void print_header(FILE *f, const sel_opts *o, const emgmm_data *X)
{
    fprintf(f, "emgmm select: %s, %zu samples x %zu features; K in {", o->data, X->n, X->d);
    for (int i = 0; i < o->nk; i++) {
        /* runs of consecutive K print as A..B */
        int j = i;
        while (j + 1 < o->nk && o->ks[j + 1] == o->ks[j] + 1) j++;
        fprintf(f, "%s%ld", i ? "," : "", o->ks[i]);
        if (j > i) fprintf(f, "..%ld", o->ks[j]);
        i = j;
    }
    fputs("} x {", f);
    for (int t = 0; t < o->ntypes; t++)
        fprintf(f, "%s%s", t ? "," : "", emgmm_covariance_type_name(o->types[t]));
    fprintf(f, "}\n%s: " SIGN_NOTE "\n\n", crit_name(o->criterion, 1));
    fprintf(f, "%6s  %-10s %18s %18s %7s %9s %6s %9s %18s\n", "K", "covariance",
            crit_name(o->criterion, 1), "log-likelihood", "params", "converged", "iter", "seconds",
            o->criterion == CRIT_ICL ? "BIC" : "ICL");
}

static void print_row(FILE *f, const sel_row *r, int criterion)
{
    if (r->ok)
        fprintf(f, "%6d  %-10s %18.10g %18.10g %7ld %9s %6d %9.3f %18.10g\n", r->k,
                emgmm_covariance_type_name(r->type), crit_of(r, criterion), r->loglik, r->n_params,
                r->converged ? "yes" : "no", r->n_iter, r->seconds,
                criterion == CRIT_ICL ? r->bic : r->icl);
    else
        fprintf(f, "%6d  %-10s failed: %s\n", r->k, emgmm_covariance_type_name(r->type), r->error);
    fflush(f);
}

/* issue 19: BIC (and ICL) in mclust's sign, K down and models across, as R prints
 * mclustBIC(): compare it with R side by side.  NA where the fit failed. */
static void print_mclust_matrix(FILE *f, const sel_opts *o, const sel_row *rows, int nrows)
{
    for (int pass = 0; pass < 2; pass++) {
        int any = 0;
        for (int i = 0; i < nrows; i++) any |= rows[i].ok && (pass == 0 || isfinite(rows[i].icl));
        if (!any) continue;
        fprintf(f, "\n%s in mclust's sign (2 log L - p log n; higher is better), as %s:\n",
                pass ? "ICL" : "BIC", pass ? "mclustICL" : "mclustBIC");
        fprintf(f, "%4s", "");
        for (int t = 0; t < o->ntypes; t++)
            fprintf(f, " %11s", emgmm_mclust_model_name(o->types[t]));
        fputc('\n', f);
        for (int i = 0; i < o->nk; i++) {
            fprintf(f, "%-4ld", o->ks[i]);
            for (int t = 0; t < o->ntypes; t++) {
                const sel_row *r = NULL;
                for (int j = 0; j < nrows; j++)
                    if (rows[j].k == o->ks[i] && rows[j].type == o->types[t]) r = &rows[j];
                if (r && r->ok && (pass == 0 || isfinite(r->icl)))
                    fprintf(f, " %11.3f", pass ? -r->icl : -r->bic);
                else
                    fprintf(f, " %11s", "NA");
            }
            fputc('\n', f);
        }
    }
}

static void put_num(FILE *f, double v)
{
    char b[40];
    emgmm_io_format_double(b, sizeof b, v);
    fputs(b, f);
}

static void put_json_str(FILE *f, const char *s)
{
    fputc('"', f);
    for (; *s; s++) {
        const unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            fprintf(f, "\\%c", c);
        else if (c < 0x20)
            fprintf(f, "\\u%04x", c);
        else
            fputc(c, f);
    }
    fputc('"', f);
}

/* CSV field: quoted, with quotes doubled, when it holds the delimiter, a quote or a newline. */
static void put_csv_str(FILE *f, const char *s, char delim)
{
    if (!strchr(s, delim) && !strchr(s, '"') && !strchr(s, '\n') && !strchr(s, '\r')) {
        fputs(s, f);
        return;
    }
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '"') fputc('"', f);
        fputc(*s, f);
    }
    fputc('"', f);
}

static void write_csv(FILE *f, const sel_row *rows, int nrows, int best, char dl, int mcl)
{
    fprintf(f,
            "k%ccovariance_type%cstatus%cbic%caic%clog_likelihood%cn_parameters%cconverged%c"
            "n_iter%cbest%cerror",
            dl, dl, dl, dl, dl, dl, dl, dl, dl, dl);
    if (mcl) fprintf(f, "%cicl%cbic_mclust%cicl_mclust", dl, dl, dl);
    fputc('\n', f);
    for (int i = 0; i < nrows; i++) {
        const sel_row *r = &rows[i];
        fprintf(f, "%d%c%s%c%s%c", r->k, dl, emgmm_covariance_type_name(r->type), dl,
                r->ok ? "ok" : "failed", dl);
        if (r->ok) {
            put_num(f, r->bic);
            fputc(dl, f);
            put_num(f, r->aic);
            fputc(dl, f);
            put_num(f, r->loglik);
            fprintf(f, "%c%ld%c%s%c%d%c%d%c", dl, r->n_params, dl, r->converged ? "true" : "false",
                    dl, r->n_iter, dl, i == best, dl);
            if (!mcl) {
                fputc('\n', f);
                continue;
            }
            fputc(dl, f);
            /* issue 19: ICL, and BIC/ICL in mclust's sign (2 log L - p log n) */
            if (isfinite(r->icl)) put_num(f, r->icl);
            fputc(dl, f);
            put_num(f, -r->bic);
            fputc(dl, f);
            if (isfinite(r->icl)) put_num(f, -r->icl);
            fputc('\n', f);
        } else {
            fprintf(f, "%c%c%c", dl, dl, dl);
            if (r->n_params >= 0) fprintf(f, "%ld", r->n_params);
            fprintf(f, "%c%c%c0%c", dl, dl, dl, dl);
            put_csv_str(f, r->error, dl);
            if (mcl) fprintf(f, "%c%c%c", dl, dl, dl); /* icl, bic_mclust, icl_mclust: NA (empty) */
            fputc('\n', f);
        }
    }
}

static void write_json(FILE *f, const sel_opts *o, const emgmm_data *X, const sel_row *rows,
                       int nrows, int best)
{
    const char *iname = emgmm_init_method_name(o->p.init);
    fputs("{\n  \"format\": \"emgmm-select\",\n  \"version\": 1,\n  \"data\": ", f);
    put_json_str(f, o->data);
    fprintf(f,
            ",\n  \"n_samples\": %zu,\n  \"n_features\": %zu,\n  \"criterion\": \"%s\",\n"
            "  \"lower_is_better\": true,\n  \"note\": \"" SIGN_NOTE "\",\n",
            X->n, X->d, crit_name(o->criterion, 0));
    fprintf(f, "  \"params\": {\"init\": \"%s\", \"n_init\": %d, \"max_iter\": %d, \"tol\": ",
            iname ? iname : "?", o->p.n_init, o->p.max_iter);
    put_num(f, o->p.tol);
    fputs(", \"reg_covar\": ", f);
    put_num(f, o->p.reg_covar);
    fprintf(f, ", \"degenerate\": \"%s\", \"var_floor\": ",
            emgmm_degenerate_policy_name(o->p.degenerate));
    put_num(f, o->p.var_floor);
    if (o->p.accel != EMGMM_ACCEL_NONE)
        fprintf(f, ", \"accel\": \"%s\"", emgmm_accel_method_name(o->p.accel));
    fprintf(f, ", \"seed\": %llu},\n  \"best\": ", (unsigned long long)o->p.seed);
    if (best >= 0) {
        fprintf(f, "{\"k\": %d, \"covariance_type\": \"%s\", \"%s\": ", rows[best].k,
                emgmm_covariance_type_name(rows[best].type), crit_name(o->criterion, 0));
        put_num(f, crit_of(&rows[best], o->criterion));
        fputs("},\n", f);
    } else {
        fputs("null,\n", f);
    }
    fputs("  \"fits\": [", f);
    for (int i = 0; i < nrows; i++) {
        const sel_row *r = &rows[i];
        fprintf(f, "%s\n    {\"k\": %d, \"covariance_type\": \"%s\", \"status\": \"%s\"",
                i ? "," : "", r->k, emgmm_covariance_type_name(r->type), r->ok ? "ok" : "failed");
        if (r->n_params >= 0) fprintf(f, ", \"n_parameters\": %ld", r->n_params);
        if (r->ok) {
            fputs(", \"bic\": ", f);
            put_num(f, r->bic);
            fputs(", \"aic\": ", f);
            put_num(f, r->aic);
            fputs(", \"log_likelihood\": ", f);
            put_num(f, r->loglik);
            fputs(", \"bic_mclust\": ", f);
            put_num(f, -r->bic);
            if (isfinite(r->icl)) {
                fputs(", \"icl\": ", f);
                put_num(f, r->icl);
                fputs(", \"icl_mclust\": ", f);
                put_num(f, -r->icl);
            }
            fprintf(f, ", \"converged\": %s, \"n_iter\": %d, \"reseeds\": %d, \"best\": %s}",
                    r->converged ? "true" : "false", r->n_iter, r->n_reseeds,
                    i == best ? "true" : "false");
        } else {
            fputs(", \"error\": ", f);
            put_json_str(f, r->error);
            fputs(", \"best\": false}", f);
        }
    }
    fputs("\n  ]\n}\n", f);
}

/* The table as JSON (.json) or CSV (anything else; .tsv with tabs), written atomically. */
static int write_table(const sel_opts *o, const emgmm_data *X, const sel_row *rows, int nrows,
                       int best)
{
    emgmm_io_error err = {0};
    emgmm_io_out *out = NULL;
    const size_t len = strlen(o->table);
    const int json = len >= 5 && !strcasecmp(o->table + len - 5, ".json");
    char delim = ',';
    emgmm_io_out_format(o->table, &delim);
    if (emgmm_io_out_open(&out, o->table, &err) != 0) return cli_io_fail(&err);
    FILE *f = emgmm_io_out_file(out);
    if (json)
        write_json(f, o, X, rows, nrows, best);
    else
        write_csv(f, rows, nrows, best, delim, o->mclust);
    if (emgmm_io_out_commit(out, &err) != 0) return cli_io_fail(&err);
    return CLI_OK;
}

/* One sweep: this rank's data, the table's rows so far, the best fit, and where the table
 * for people goes (NULL: nowhere). */
typedef struct {
    emgmm_io_matrix mat;
    emgmm_data X, Xg; /* this rank's rows; Xg has the whole data's shape (MPI) */
    long long row0;   /* this rank's first row in DATA */
    double *wts;      /* --weights: this rank's rows' weights */
    sel_row *rows;
    int nrows, best, failed;
    emgmm_model *best_m;
    FILE *tty;
    double t0;
} sel_sweep;

/* Reads DATA (MPI, tools/mpi_glue.c: each rank its rows) and the weights, and makes room for
 * the table.  Returns 0 or an exit code agreed by every rank. */
static int sweep_load(const sel_opts *o, sel_sweep *s)
{
    int rc = glue_read_rows(o->data, &o->ro, &s->mat, &s->X, &s->row0);
    s->rows = calloc((size_t)(o->nk * o->ntypes), sizeof *s->rows);
    if (!s->rows && rc == 0) rc = cli_fail(CLI_INTERNAL, "out of memory");
    if ((rc = glue_agree(rc)) != 0) return rc;
    if (o->weights) { /* collective: each rank its rows' weights */
        if ((rc = cli_read_weights(o->weights, o->data, s->X.n, s->row0, &s->wts)) != 0) return rc;
        s->X.weights = s->wts;
    }
    /* issue 21: the values scanned once here, not by each fit, k-means and score (each a pass
     * over the data); when some are not finite (NaN for missing values, or bad data) the fits
     * check as before and report where */
    emgmm_data_check(&s->X, o->threads, NULL, NULL);
    s->Xg = s->X;
    s->Xg.n = (size_t)glue_sum((double)s->X.n);
    return 0;
}

/* issue 21: init 'kmeans' runs one k-means per K whatever the covariance type (its centres depend
 * on K, the data, the weights and the seed only), so the sweep runs it once per K, for each of the
 * n_init initialisations, and hands the centres to every type's fit as params.init_centres: each
 * fit is the same bit for bit as with its own k-means.  NULL (each fit then runs its own, and
 * meets and reports its own failure) when nothing is shared or k-means failed. */
static double *shared_centres(const sel_opts *o, const sel_sweep *s, int K)
{
    if (o->p.init != EMGMM_INIT_KMEANS) return NULL;
    emgmm_model *m = NULL;
    int st = emgmm_model_create(&m, K, (int)s->X.d, EMGMM_COV_SPHERICAL);
    if (st == EMGMM_OK) emgmm_model_set_n_threads(m, o->threads);
    if (glue_size() > 1) /* collective, as the fits */
        st = glue_agree_status(
            st == EMGMM_OK && glue_set_comm(m, s->row0) != 0 ? EMGMM_ERR_INVALID_PARAM : st);
    const size_t Kd = (size_t)K * s->X.d;
    double *c = st == EMGMM_OK ? malloc((size_t)o->p.n_init * Kd * sizeof(double)) : NULL;
    if (st == EMGMM_OK && !c) st = EMGMM_ERR_ALLOC;
    for (int r = 0; r < o->p.n_init && st == EMGMM_OK; r++)
        st = emgmm_kmeans_centres(m, &o->p, &s->X, r, c + (size_t)r * Kd);
    if (glue_size() > 1) st = glue_agree_status(st);
    emgmm_model_free(m);
    if (st != EMGMM_OK) {
        free(c);
        return NULL;
    }
    return c;
}

/* Row j is ready, and every row before it was: print it and rank it (strictly lower wins, so
 * ties go to the earlier, smaller-K fit); m is its model (NULL when it failed), kept or freed. */
static void rank_row(const sel_opts *o, sel_sweep *s, int j, emgmm_model *m)
{
    const sel_row *r = &s->rows[j];
    s->nrows = j + 1;
    if (s->tty) print_row(s->tty, r, o->criterion);
    if (!r->ok) {
        s->failed++;
        return;
    }
    if (s->best < 0 || crit_of(r, o->criterion) < crit_of(&s->rows[s->best], o->criterion)) {
        emgmm_model_free(s->best_m);
        s->best_m = m;
        s->best = j;
    } else {
        emgmm_model_free(m);
    }
}

/* The sweep's fits, --jobs at a time: workers take the K values (in order, or with several
 * workers largest first), and one K's fits run one after the other after its shared k-means.
 * Rows are printed and ranked in row order as they become ready, so the table, the best model and
 * the failure that ends the sweep (the first in row order; later rows are then not shown) are
 * those of one fit at a time. */
typedef struct {
    const sel_opts *o;
    sel_sweep *s;
    int jobs, threads;    /* workers; threads per fit */
    int next_k;           /* the next K (index into o->ks) a worker takes */
    int ready;            /* rows before it are printed and ranked */
    int stop_row, rc;     /* the first row whose failure ends the sweep (INT_MAX: none yet) */
    unsigned char *done;  /* per row: fitted, or failed as a row of the table */
    emgmm_model **models; /* per row, until ranked */
    pthread_mutex_t mu;
} sel_pool;

static void pool_lock(sel_pool *q)
{
    if (q->jobs > 1) pthread_mutex_lock(&q->mu);
}

static void pool_unlock(sel_pool *q)
{
    if (q->jobs > 1) pthread_mutex_unlock(&q->mu);
}

/* Row j's fit is over: rc 0 (its row holds the outcome, m its model or NULL) or the exit code
 * that ends the sweep.  Ranks every row now ready. */
static void row_over(sel_pool *q, int j, emgmm_model *m, int rc)
{
    const int total = q->o->nk * q->o->ntypes;
    pool_lock(q);
    if (rc != 0) {
        if (j < q->stop_row) {
            q->stop_row = j;
            q->rc = rc;
        }
    } else {
        q->done[j] = 1;
        q->models[j] = m;
    }
    while (q->ready < total && q->ready < q->stop_row && q->done[q->ready]) {
        rank_row(q->o, q->s, q->ready, q->models[q->ready]);
        q->models[q->ready++] = NULL;
    }
    pool_unlock(q);
}

/* The fits of the i-th K, from one shared k-means, on q->threads threads each. */
static void fit_k(sel_pool *q, int i)
{
    const sel_opts *o = q->o;
    sel_opts ok = *o;
    ok.threads = ok.p.n_threads = q->threads;
    double *centres = shared_centres(&ok, q->s, (int)o->ks[i]);
    ok.p.init_centres = centres;
    for (int t = 0; t < o->ntypes; t++) {
        const int j = i * o->ntypes + t;
        pool_lock(q);
        const int stopped = q->stop_row < j;
        pool_unlock(q);
        if (stopped) break;
        sel_row *r = &q->s->rows[j];
        r->k = (int)o->ks[i];
        r->type = o->types[t];
        emgmm_model *m = NULL;
        const int rc = fit_one(&ok, &q->s->X, q->s->row0, r, &m);
        row_over(q, j, m, rc);
        if (rc != 0) break;
    }
    free(centres);
}

static void *pool_worker(void *arg)
{
    sel_pool *q = arg;
    for (;;) {
        pool_lock(q);
        /* one at a time: in order; several: the largest K first (the longest fits), so that
         * no long fit is left running alone at the end; rows past a failure that ends the
         * sweep are not needed */
        int i = -1;
        while (i < 0 && q->next_k < q->o->nk) {
            const int k = q->jobs > 1 ? q->o->nk - 1 - q->next_k : q->next_k;
            q->next_k++;
            if (k * q->o->ntypes < q->stop_row) i = k;
        }
        pool_unlock(q);
        if (i < 0) return NULL;
        fit_k(q, i);
    }
}

/* Fits at a time for T threads.  --jobs auto (issue 21): one fit on T threads syncs its threads
 * at every block pass and k-means step, and a sweep's fits are short (d = 16, 2e5 rows: 2-15
 * iterations of a few ms), so the threads spend a share of their time at barriers — and far more
 * on a loaded machine, where a descheduled thread stalls the other.  Fits side by side on fewer
 * threads each share nothing but the data (2 threads, 2e5 x 16, K 1:12, the four types, quiet
 * machine: 2.02 s wall, 4.0 s CPU one at a time; 1.92 s, 3.75 s as two jobs).  Auto takes the
 * most jobs J that divide T with at least two K values per job (so that the workers, which take
 * the largest K first, end together), and one job otherwise.  MPI: one (every fit is
 * collective). */
static int sweep_jobs(const sel_opts *o, int T)
{
    if (glue_size() > 1) return 1;
    if (o->jobs > 0) return o->jobs < o->nk ? o->jobs : o->nk;
    int best = 1;
    for (int j = 2; j <= T && j <= SEL_MAX_JOBS; j++)
        if (T % j == 0 && o->nk >= 2 * j) best = j;
    return best;
}

/* Fits every (K, type) pair, printing each row in order, and keeps the best model.  Returns 0
 * or an exit code when a failure ends the sweep. */
static int sweep_run(const sel_opts *o, sel_sweep *s)
{
    const int total = o->nk * o->ntypes;
    const int T = o->threads > 0 ? o->threads : emgmm_default_threads();
    sel_pool q = {.o = o, .s = s, .stop_row = INT_MAX};
    /* MPI: every fit is collective, one at a time */
    q.jobs = sweep_jobs(o, T);
    q.threads = q.jobs > 1 ? (T / q.jobs > 1 ? T / q.jobs : 1) : o->threads;
    q.done = calloc((size_t)total, 1);
    q.models = calloc((size_t)total, sizeof *q.models);
    pthread_t tid[SEL_MAX_JOBS];
    int started = 0;
    if (!q.done || !q.models) {
        q.rc = cli_fail(CLI_INTERNAL, "out of memory");
    } else if (q.jobs > 1 && pthread_mutex_init(&q.mu, NULL) == 0) {
        for (; started < q.jobs - 1; started++)
            if (pthread_create(&tid[started], NULL, pool_worker, &q) != 0) break;
        pool_worker(&q); /* this thread is a worker too */
        for (int w = 0; w < started; w++) pthread_join(tid[w], NULL);
        pthread_mutex_destroy(&q.mu);
    } else {
        q.jobs = 1;
        q.threads = o->threads;
        pool_worker(&q);
    }
    for (int j = 0; q.models && j < total; j++) emgmm_model_free(q.models[j]);
    free(q.models);
    free(q.done);
    return q.rc;
}

/* Every fit failed: numerical trouble anywhere makes it a numerical failure (4); otherwise the
 * first failure's class, e.g. 3 when every K exceeds the number of samples. */
static int all_failed(const sel_row *rows, int nrows)
{
    int code = cli_exit_for_status(rows[0].status);
    for (int i = 0; i < nrows; i++)
        if (cli_exit_for_status(rows[i].status) == CLI_NUMERIC) code = CLI_NUMERIC;
    return cli_fail(code, "select: all %d fits failed (the first: K=%d %s: %s)", nrows, rows[0].k,
                    emgmm_covariance_type_name(rows[0].type), rows[0].error);
}

/* Rank 0 after the sweep: the table file, the best model, the closing lines. */
static int sweep_report(const sel_opts *o, const sel_sweep *s)
{
    int rc;
    if (o->table && (rc = write_table(o, &s->Xg, s->rows, s->nrows, s->best)) != 0) return rc;
    if (s->best < 0) return all_failed(s->rows, s->nrows);
    const sel_row *b = &s->rows[s->best];
    if (o->out) {
        emgmm_io_fit_info info = {1, o->p};
        emgmm_io_error err = {0};
        if (emgmm_io_model_write(o->out, s->best_m, &info, &err) != 0) return cli_io_fail(&err);
        cli_model_size_note(o->out);
    }
    if (s->tty) {
        fprintf(s->tty, "\nbest: K=%d, covariance %s, %s %.10g (%s); %d fits in %.3f s", b->k,
                emgmm_covariance_type_name(b->type), crit_name(o->criterion, 1),
                crit_of(b, o->criterion), "lower is better", s->nrows, cli_now() - s->t0);
        if (o->out && strcmp(o->out, "-")) fprintf(s->tty, "; model written to %s", o->out);
        fputc('\n', s->tty);
    }
    if (s->failed)
        fprintf(stderr, "emgmm: select: %d of %d fits failed (listed as failed%s)\n", s->failed,
                s->nrows,
                o->quiet ? (o->table ? " in the table" : "; run without -q to see them")
                         : " above");
    return CLI_OK;
}

int cmd_select(int argc, char **argv)
{
    sel_opts o = {0};
    o.p = emgmm_params_default();
    o.ro = emgmm_io_read_opts_default();
    o.criterion = CRIT_BIC;
    o.jobs = 0; /* auto */
    parse_types("all", &o);
    int rc = parse_args(argc, argv, &o);
    if (rc) {
        free(o.ks);
        return rc < 0 ? CLI_OK : rc;
    }
    /* the outputs' places are checked before any fit runs (rank 0 writes them) */
    if (glue_rank() == 0 && (rc = cli_check_output(o.out)) == 0) rc = cli_check_output(o.table);
    if ((rc = glue_agree(rc)) != 0) {
        free(o.ks);
        return rc;
    }
    /* MPI (tools/mpi_glue.c): each rank reads its rows and every fit is collective; rank 0
     * alone prints and writes. */
    sel_sweep s = {.best = -1};
    if ((rc = sweep_load(&o, &s)) != 0) goto done;
    /* stdout belongs to whichever output was sent there; the table for people then goes to
     * stderr, so that pipes get clean JSON or CSV */
    const int stdout_taken = (o.out && !strcmp(o.out, "-")) || (o.table && !strcmp(o.table, "-"));
    s.tty = o.quiet || glue_rank() != 0 ? NULL : stdout_taken ? stderr : stdout;
    if (s.tty) print_header(s.tty, &o, &s.Xg);
    s.t0 = cli_now();
    if ((rc = sweep_run(&o, &s)) != 0) goto done;
    if (s.tty && o.mclust) print_mclust_matrix(s.tty, &o, s.rows, s.nrows);
    if (glue_rank() == 0) rc = sweep_report(&o, &s);
done:
    rc = glue_agree(rc); /* MPI: rank 0's outcome (or an agreed failure) on every rank */
    emgmm_model_free(s.best_m);
    emgmm_io_matrix_free(&s.mat);
    free(s.wts);
    free(s.rows);
    free(o.ks);
    return rc;
}
