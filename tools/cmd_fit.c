/* cmd_fit.c — `emgmm fit`: read DATA, fit by EM (optionally from a model file),
 * write the model JSON and optionally the training labels.  With n_init = 1 it
 * drives the fine-grained fit API itself, to report every iteration, write
 * checkpoints, resume from one, and stop cleanly on SIGTERM/SIGINT. */
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "checkpoint.h"
#include "cli.h"
#include "mpi_glue.h"
#include "weights.h"

static const char fit_help[] =
    "usage: emgmm fit DATA -k K [options]\n"
    "Fits a K-component Gaussian mixture to DATA (CSV/TSV, .npy, raw binary; '-' = stdin CSV)\n"
    "and writes the model as JSON (to stdout without -o).\n\n"
    "  -k, --components K  number of components (taken from the model with --init MODEL.json)\n"
    "  -o, --output FILE   model JSON file (written atomically)\n"
    "  --covariance T, --model T  full|tied|diag|spherical (default full) or one of mclust's\n"
    "                      EII VII EEI VEI EVI VVI EEE VEE EVE VVE EEV VEV EVV VVV\n"
    "                      (VVV = full, EEE = tied, VVI = diag, VII = spherical)\n"
    "  --init-resp FILE    start with an M-step from responsibilities (as mclust's me()): an\n"
    "                      n x K matrix, or one label column, 0..K-1 (as --labels writes; a\n"
    "                      column without 0 whose largest label is K is read as R's 1..K)\n"
    "  --inner-tol T, --inner-max-iter N  the inner iteration of VEI VEE EVE VVE VEV\n"
    "                      (default sqrt(machine eps), 1000; reaching N is reported)\n"
    "  --init I            kmeans|k-means++|random|random_from_data|emem|smem (default kmeans),\n"
    "                      or a model JSON file to start from exactly.  emem: em-EM search, short\n"
    "                      EM runs from many k-means starts, EM on from the best; smem: emem, then\n"
    "                      split-and-merge moves kept while they raise the lower bound\n"
    "                      (docs/search.md)\n"
    "  --search-starts S   emem, smem: short runs per initialisation (default 20)\n"
    "  --search-iter L     emem, smem: EM iterations per short run (default 10)\n"
    "  --n-init R          initialisations; the best lower bound is kept (default 1)\n"
    "  --max-iter M        EM iterations per initialisation (default 100)\n"
    "  --tol T             convergence tolerance on the mean log-likelihood (default 1e-3; 0 runs\n"
    "                      max-iter iterations)\n"
    "  --reg-covar R       added to covariance diagonals (default 1e-6)\n"
    "  --degenerate P      reseed|error: an empty or collapsed component is re-initialised at\n"
    "                      the worst-explained points (reseed, default), or the fit behaves as\n"
    "                      scikit-learn's (error: a covariance that is not PD fails, naming it)\n"
    "  --var-floor REL     floor covariance diagonals at REL x each feature's variance (default 0,\n"
    "                      off); for features on very different scales, with --reg-covar 0\n"
    "  --seed S            random seed (default 0)\n"
    "  --accel A           none|squarem: plain EM (default), or SQUAREM-accelerated EM: fewer data\n"
    "                      passes to the same optimum, the lower bound still never decreasing\n"
    "                      (docs/accel.md)\n"
    "  --labels FILE       also write the training rows' labels (.npy or CSV)\n"
    "  --progress          one line per iteration on stderr\n"
    "  --log FILE          the same as JSON lines in FILE\n"
    "  -q, --quiet         no summary line\n"
    "  --checkpoint FILE   save the fit every N iterations (atomically), and on SIGTERM/SIGINT\n"
    "  --checkpoint-every N  iterations between checkpoints (default 1)\n"
    "  --resume FILE       continue the fit saved in checkpoint FILE (same data; -k, --tol, ...\n"
    "                      may be omitted, --max-iter may change)\n"
    "  --no-memory-check   skip the up-front check that the fit fits in memory\n"
    "  --weights FILE      per-sample weights, one column with a weight >= 0 for each row of\n"
    "                      DATA (CSV, .npy, raw .f64/.f32); weight w counts a row w times\n"
    "exit status 6: stopped by SIGTERM/SIGINT after saving the model so far (docs/cli.md)\n"
    CLI_DATA_HELP;

enum {
    O_COV = 2000,
    O_INIT,
    O_NINIT,
    O_MAXIT,
    O_TOL,
    O_REG,
    O_SEED,
    O_LABELS,
    O_PROGRESS,
    O_LOG,
    O_CKPT,
    O_CKPT_EVERY,
    O_RESUME,
    O_NO_MEMCHECK,
    O_DEGEN,
    O_VFLOOR,
    O_WEIGHTS,
    O_SSTARTS,
    O_SITER,
    O_ACCEL,
    O_INITRESP, /* issue 19 */
    O_INNERTOL,
    O_INNERMAX
};

/* Options given explicitly (a resumed fit checks them against its checkpoint). */
enum { G_K = 1, G_COV = 2, G_NINIT = 4, G_MAXIT = 8, G_TOL = 16, G_REG = 32, G_SEED = 64,
       G_DEGEN = 128, G_VFLOOR = 256, G_ACCEL = 512 };

typedef struct {
    int progress;
    FILE *log;
    double t0;
    long long passes; /* accelerated fits: the data passes so far, else -1 */
} reporter;

static void json_str(FILE *f, const char *s)
{
    fputc('"', f);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            fprintf(f, "\\%c", c);
        else if (c < 0x20)
            fprintf(f, "\\u%04x", c);
        else
            fputc(c, f);
    }
    fputc('"', f);
}

static void json_num(FILE *f, double v)
{
    char b[40];
    if (!isfinite(v)) {
        fputs("null", f);
        return;
    }
    emgmm_io_format_double(b, sizeof b, v);
    fputs(b, f);
}

/* The reseeds recorded since the FROM-th (library events are in order). */
static void report_reseeds(reporter *r, const emgmm_model *m, int from)
{
    const int n = emgmm_model_n_reseeds(m);
    for (int i = from; i < n; i++) {
        int it = 0, k = 0;
        double ld = NAN;
        emgmm_model_reseed_event(m, i, &it, &k, &ld);
        if (r->progress) {
            char at[32] = "init";
            if (it > 0)
                snprintf(at, sizeof at, "iter %4d", it);
            fprintf(stderr,
                    "emgmm: %s: component %d was empty or collapsed; reseeded at the "
                    "worst-explained point (log-density %.6g)\n",
                    at, k, ld);
        }
        if (r->log) {
            fprintf(r->log, "{\"event\": \"reseed\", \"iter\": %d, \"component\": %d, \"log_density\": ",
                    it, k);
            json_num(r->log, ld);
            fputs("}\n", r->log);
            fflush(r->log);
        }
    }
}

static void report_iter(reporter *r, int it, double lb, double change, double secs)
{
    if (r->progress) {
        char ch[32] = "-", sec[32] = "";
        if (isfinite(change))
            snprintf(ch, sizeof ch, "%.4g", change);
        if (isfinite(secs))
            snprintf(sec, sizeof sec, "  %.3f s", secs);
        char ps[40] = "";
        if (r->passes >= 0)
            snprintf(ps, sizeof ps, "  passes %lld", r->passes);
        fprintf(stderr, "emgmm: iter %4d  lower bound %.10g  change %-11s%s%s\n", it, lb, ch, ps,
                sec);
    }
    if (r->log) {
        fprintf(r->log, "{\"event\": \"iteration\", \"iter\": %d, \"lower_bound\": ", it);
        json_num(r->log, lb);
        fputs(", \"change\": ", r->log);
        json_num(r->log, change);
        fputs(", \"seconds\": ", r->log);
        json_num(r->log, secs);
        if (r->passes >= 0)
            fprintf(r->log, ", \"passes\": %lld", r->passes);
        fputs(", \"elapsed\": ", r->log);
        json_num(r->log, cli_now() - r->t0);
        fputs("}\n", r->log);
        fflush(r->log);
    }
}

/* Where and how often checkpoints go; INFO holds what every one repeats. */
typedef struct {
    const char *path;
    ckpt_info info;
    int last; /* n_iter of the last checkpoint written, -1 for none */
} ckpt_ctl;

static int ckpt_save(const emgmm_model *m, ckpt_ctl *c)
{
    int count = 0;
    c->info.lower_bounds = emgmm_model_lower_bounds(m, &count);
    c->info.n_iter = emgmm_model_n_iter(m);
    c->info.converged = emgmm_model_converged(m);
    emgmm_io_error err = {0};
    batch_write_begin();
    int r = glue_rank() == 0 ? ckpt_write(c->path, m, &c->info, &err) : 0; /* MPI: rank 0 */
    batch_write_end();
    c->info.lower_bounds = NULL;
    if ((r = glue_agree(r != 0 ? cli_io_fail(&err) : CLI_OK)) != 0) /* MPI: all ranks stop */
        return r;
    c->last = c->info.n_iter;
    return CLI_OK;
}

/* One initialisation step by step, as emgmm_fit runs it for n_init = 1 (or
 * the rest of one, RESUMED from a checkpoint): the same init, iterate and
 * convergence calls in the same order, so the result is emgmm_fit's bit for
 * bit.  A first SIGTERM/SIGINT is seen between iterations: *STOP_SIG is then
 * set and the fit returns with the model so far.  Library failures come back
 * in *STATUS; the return value is a CLI exit code (a checkpoint write). */
static int fit_run(emgmm_model *m, const emgmm_params *p, const emgmm_data *X, reporter *r,
                   ckpt_ctl *ck, int resumed, int *status, int *stop_sig)
{
    int rc;
    *stop_sig = 0;
    if (!resumed) {
        double t = cli_now();
        if ((*status = emgmm_fit_init(m, p, X)) != EMGMM_OK)
            return CLI_OK;
        double ti = cli_now() - t;
        const char *iname = emgmm_init_method_name(p->init);
        if (r->progress)
            fprintf(stderr, "emgmm: initialised by %s in %.3f s\n", iname ? iname : "?", ti);
        if (r->log) {
            fprintf(r->log, "{\"event\": \"init\", \"method\": ");
            json_str(r->log, iname ? iname : "?");
            fputs(", \"seconds\": ", r->log);
            json_num(r->log, ti);
            fputs("}\n", r->log);
            fflush(r->log);
        }
        report_reseeds(r, m, 0);
        if (ck && (rc = ckpt_save(m, ck)) != 0)
            return rc;
    }
    double prev = emgmm_model_n_iter(m) > 0 ? emgmm_model_lower_bound(m) : NAN, lb;
    while (!emgmm_model_converged(m) && emgmm_model_n_iter(m) < p->max_iter) {
        /* MPI: a signal may reach the ranks at different moments; the
         * maximum over the ranks makes all stop after the same iteration. */
        if ((*stop_sig = glue_max_int(batch_stop_signal())) != 0)
            break;
        double t = cli_now();
        const int seen = emgmm_model_n_reseeds(m);
        if ((*status = emgmm_fit_iterate(m, p, X, &lb)) != EMGMM_OK)
            return CLI_OK;
        if (p->accel != EMGMM_ACCEL_NONE)
            r->passes = emgmm_model_n_passes(m);
        report_iter(r, emgmm_model_n_iter(m), lb, lb - prev, cli_now() - t);
        report_reseeds(r, m, seen);
        prev = lb;
        emgmm_fit_converged(m, p->tol);
        if (ck && emgmm_model_n_iter(m) % ck->info.every == 0 && (rc = ckpt_save(m, ck)) != 0)
            return rc;
    }
    /* The end of the fit, or of this run, is always saved. */
    if (ck && ck->last != emgmm_model_n_iter(m) && (rc = ckpt_save(m, ck)) != 0)
        return rc;
    *status = EMGMM_OK;
    return CLI_OK;
}

/* With n_init > 1 only emgmm_fit gives the library's result, so the kept
 * initialisation's history is reported afterwards, without per-step times. */
static void report_history(const emgmm_model *m, reporter *r)
{
    int count = 0;
    const double *lbs = emgmm_model_lower_bounds(m, &count);
    if (r->progress)
        fprintf(stderr, "emgmm: kept initialisation %d; its iterations:\n",
                emgmm_model_best_init(m));
    for (int i = 0; lbs && i < count; i++)
        report_iter(r, i + 1, lbs[i], i ? lbs[i] - lbs[i - 1] : NAN, NAN);
    report_reseeds(r, m, 0);
}

typedef struct {
    const char *data, *out, *init_arg, *labels, *log_path, *checkpoint, *resume;
    const char *init_resp; /* issue 19 */
    long k, every;
    int cov, threads, progress, quiet, no_memcheck;
    unsigned given; /* G_* */
    emgmm_params p;
    emgmm_io_read_opts ro;
    const char *weights; /* --weights FILE, or NULL */
} fit_opts;

static int parse_args(int argc, char **argv, fit_opts *o)
{
    static const struct option longopts[] = {{"components", required_argument, NULL, 'k'},
                                             {"output", required_argument, NULL, 'o'},
                                             {"covariance", required_argument, NULL, O_COV},
                                             {"model", required_argument, NULL, O_COV},
                                             {"init-resp", required_argument, NULL, O_INITRESP},
                                             {"inner-tol", required_argument, NULL, O_INNERTOL},
                                             {"inner-max-iter", required_argument, NULL, O_INNERMAX},
                                             {"init", required_argument, NULL, O_INIT},
                                             {"n-init", required_argument, NULL, O_NINIT},
                                             {"max-iter", required_argument, NULL, O_MAXIT},
                                             {"tol", required_argument, NULL, O_TOL},
                                             {"reg-covar", required_argument, NULL, O_REG},
                                             {"seed", required_argument, NULL, O_SEED},
                                             {"labels", required_argument, NULL, O_LABELS},
                                             {"progress", no_argument, NULL, O_PROGRESS},
                                             {"log", required_argument, NULL, O_LOG},
                                             {"quiet", no_argument, NULL, 'q'},
                                             {"checkpoint", required_argument, NULL, O_CKPT},
                                             {"checkpoint-every", required_argument, NULL,
                                              O_CKPT_EVERY},
                                             {"resume", required_argument, NULL, O_RESUME},
                                             {"no-memory-check", no_argument, NULL, O_NO_MEMCHECK},
                                             {"degenerate", required_argument, NULL, O_DEGEN},
                                             {"var-floor", required_argument, NULL, O_VFLOOR},
                                             {"weights", required_argument, NULL, O_WEIGHTS},
                                             {"search-starts", required_argument, NULL, O_SSTARTS},
                                             {"search-iter", required_argument, NULL, O_SITER},
                                             {"accel", required_argument, NULL, O_ACCEL},
                                             {"help", no_argument, NULL, 'h'},
                                             CLI_DATA_LONGOPTS,
                                             {NULL, 0, NULL, 0}};
    int c, rc = 0;
    long v;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":k:o:qh", longopts, NULL)) != -1) {
        int r = cli_data_option(c, optarg, &o->ro, &o->threads, &rc);
        if (r < 0)
            return rc;
        if (r > 0)
            continue;
        switch (c) {
        case 'h':
            fputs(fit_help, stdout);
            return -1;
        case 'k':
            if ((rc = cli_parse_long("-k", optarg, 1, 1L << 20, &o->k)))
                return rc;
            o->given |= G_K;
            break;
        case 'o':
            o->out = optarg;
            break;
        case 'q':
            o->quiet = 1;
            break;
        case O_COV:
            o->cov = emgmm_covariance_type_from_name(optarg);
            if (o->cov < 0)
                return cli_fail(CLI_USAGE,
                                "--covariance: expected full, tied, diag, spherical or an mclust "
                                "model (EII, VII, EEI, VEI, EVI, VVI, EEE, VEE, EVE, VVE, EEV, VEV, "
                                "EVV, VVV), got '%s'",
                                optarg);
            o->given |= G_COV;
            break;
        case O_INIT:
            o->init_arg = optarg;
            break;
        case O_SSTARTS:
            if ((rc = cli_parse_long("--search-starts", optarg, 1, 1L << 20, &v)))
                return rc;
            o->p.search_starts = (int)v;
            break;
        case O_SITER:
            if ((rc = cli_parse_long("--search-iter", optarg, 1, 1L << 30, &v)))
                return rc;
            o->p.search_iter = (int)v;
            break;
        case O_NINIT:
            if ((rc = cli_parse_long("--n-init", optarg, 1, 1L << 20, &v)))
                return rc;
            o->p.n_init = (int)v;
            o->given |= G_NINIT;
            break;
        case O_MAXIT:
            if ((rc = cli_parse_long("--max-iter", optarg, 1, 1L << 30, &v)))
                return rc;
            o->p.max_iter = (int)v;
            o->given |= G_MAXIT;
            break;
        case O_TOL:
            if ((rc = cli_parse_double("--tol", optarg, 0, &o->p.tol)))
                return rc;
            o->given |= G_TOL;
            break;
        case O_REG:
            if ((rc = cli_parse_double("--reg-covar", optarg, 0, &o->p.reg_covar)))
                return rc;
            o->given |= G_REG;
            break;
        case O_SEED:
            if ((rc = cli_parse_u64("--seed", optarg, &o->p.seed)))
                return rc;
            o->given |= G_SEED;
            break;
        case O_LABELS:
            o->labels = optarg;
            break;
        case O_PROGRESS:
            o->progress = 1;
            break;
        case O_LOG:
            o->log_path = optarg;
            break;
        case O_CKPT:
            o->checkpoint = optarg;
            break;
        case O_CKPT_EVERY:
            if ((rc = cli_parse_long("--checkpoint-every", optarg, 1, 1L << 30, &o->every)))
                return rc;
            break;
        case O_RESUME:
            o->resume = optarg;
            break;
        case O_NO_MEMCHECK:
            o->no_memcheck = 1;
            break;
        case O_DEGEN:
            if ((o->p.degenerate = emgmm_degenerate_policy_from_name(optarg)) < 0)
                return cli_fail(CLI_USAGE, "--degenerate: expected reseed or error, got '%s'",
                                optarg);
            o->given |= G_DEGEN;
            break;
        case O_INITRESP:
            o->init_resp = optarg;
            break;
        case O_INNERTOL:
            if ((rc = cli_parse_double("--inner-tol", optarg, 0, &o->p.inner_tol)))
                return rc;
            break;
        case O_INNERMAX: {
            long v;
            if ((rc = cli_parse_long("--inner-max-iter", optarg, 1, 1L << 30, &v)))
                return rc;
            o->p.inner_max_iter = (int)v;
            break;
        }
        case O_VFLOOR:
            if ((rc = cli_parse_double("--var-floor", optarg, 0, &o->p.var_floor)))
                return rc;
            if (o->p.var_floor > 1.0)
                return cli_fail(CLI_USAGE, "--var-floor: expected a fraction in [0, 1], got '%s'",
                                optarg);
            o->given |= G_VFLOOR;
            break;
        case O_WEIGHTS:
            o->weights = optarg;
            break;
        case O_ACCEL:
            if ((o->p.accel = emgmm_accel_method_from_name(optarg)) < 0)
                return cli_fail(CLI_USAGE, "--accel: expected none or squarem, got '%s'", optarg);
            o->given |= G_ACCEL;
            break;
        default:
            return cli_getopt_error("fit", c, argv);
        }
    }
    if (optind != argc - 1)
        return cli_fail(CLI_USAGE,
                        "fit: expected one DATA argument, got %d (see 'emgmm fit --help')",
                        argc - optind);
    o->data = argv[optind];
    o->p.n_threads = o->threads < 0 ? 0 : o->threads;
    o->p.missing = o->ro.missing;
    /* emgmm_fit_init always starts restart 0: restarts r > 0 cannot be driven
     * (or resumed) through the public API. */
    if ((o->checkpoint || o->resume) && o->p.n_init > 1)
        return cli_fail(CLI_USAGE, "fit: --checkpoint and --resume need --n-init 1 (got %d)",
                        o->p.n_init);
    if (o->every && !o->checkpoint && !o->resume)
        return cli_fail(CLI_USAGE, "fit: --checkpoint-every needs --checkpoint FILE");
    if (o->init_resp && (o->init_arg || o->resume))
        return cli_fail(CLI_USAGE, "fit: --init-resp cannot be given with --init or --resume");
    if (o->init_resp && o->k == 0)
        return cli_fail(CLI_USAGE, "fit: --init-resp needs -k K");
    if (o->resume && o->init_arg)
        return cli_fail(CLI_USAGE,
                        "fit: --init cannot be given with --resume (the checkpoint holds the "
                        "fit's state)");
    if (o->resume && !strcmp(o->resume, "-"))
        return cli_fail(CLI_USAGE, "fit: --resume needs a file, not '-'");
    if (o->checkpoint && !strcmp(o->checkpoint, "-"))
        return cli_fail(CLI_USAGE, "fit: --checkpoint needs a file, not '-'");
    /* The model written over the checkpoint would leave nothing to resume. */
    const char *ck = o->checkpoint ? o->checkpoint : o->resume;
    if (ck && ((o->out && !strcmp(o->out, ck)) || (o->labels && !strcmp(o->labels, ck))))
        return cli_fail(CLI_USAGE,
                        "fit: the checkpoint %s cannot also be the model or labels output", ck);
    if (o->labels && !strcmp(o->labels, "-") && (!o->out || !strcmp(o->out, "-")))
        return cli_fail(CLI_USAGE, "fit: the model and --labels cannot both go to stdout");
    if (o->resume)
        return 0; /* the remaining checks are the checkpoint's */
    if (o->init_arg) {
        int im = emgmm_init_method_from_name(o->init_arg);
        if (im >= 0 && im != EMGMM_INIT_USER && im != EMGMM_INIT_RESP)
            o->p.init = im;
        else if (access(o->init_arg, F_OK) != 0 && !strchr(o->init_arg, '.') &&
                 !strchr(o->init_arg, '/'))
            return cli_fail(CLI_USAGE,
                            "--init: expected kmeans, k-means++, random, random_from_data, emem, smem or "
                            "a model file, got '%s'",
                            o->init_arg);
        else
            o->p.init = EMGMM_INIT_USER;
    } else if (o->k == 0) {
        return cli_fail(CLI_USAGE, "fit: -k K is required (see 'emgmm fit --help')");
    }
    if (emgmm_params_validate(&o->p) != EMGMM_OK)
        return cli_fail(CLI_USAGE, "fit: invalid parameters (%s)",
                        emgmm_strerror(EMGMM_ERR_INVALID_PARAM));
    return 0;
}

/* The model to fit: empty with K components, or the --init file's. */
static int make_model(fit_opts *o, const emgmm_data *X, emgmm_model **m)
{
    int rc;
    if (o->p.init == EMGMM_INIT_USER) {
        if ((rc = cli_load_model(o->init_arg, m)) != 0)
            return rc;
        if (o->k && o->k != emgmm_model_n_components(*m))
            return cli_fail(CLI_USAGE, "-k %ld disagrees with %s, which has %d components", o->k,
                            o->init_arg, emgmm_model_n_components(*m));
        if (o->cov >= 0 && o->cov != emgmm_model_structure(*m))
            return cli_fail(CLI_USAGE, "--covariance %s disagrees with %s, which is %s",
                            emgmm_covariance_type_name(o->cov), o->init_arg,
                            emgmm_covariance_type_name(emgmm_model_structure(*m)));
        return cli_check_shape(*m, X, o->init_arg, o->data);
    }
    int ct = o->cov >= 0 ? o->cov : EMGMM_COV_FULL;
    int st = emgmm_model_create(m, (int)o->k, (int)X->d, ct);
    if (st == EMGMM_ERR_UNSUPPORTED)
        return cli_fail(CLI_USAGE, "--covariance %s is not supported by this build",
                        emgmm_covariance_type_name(ct));
    if (st != EMGMM_OK)
        return cli_lib_fail(st, NULL, "cannot create the model", NULL, 0);
    return CLI_OK;
}

/* A resumed fit runs with its checkpoint's options: those given again must
 * agree; only --max-iter may change (not below the iterations already run). */
static int resume_options(fit_opts *o, const ckpt_info *ci, int threads_given)
{
    const emgmm_params *c = &ci->params;
    const char *f = o->resume;
#define DIFFERS(flag, cond, what)                                                               \
    if ((o->given & (flag)) && (cond))                                                          \
        return cli_fail(CLI_USAGE,                                                              \
                        "fit: %s differs from the checkpoint %s; a resumed fit keeps the "      \
                        "options it started with",                                              \
                        what, f);
    DIFFERS(G_K, o->k != ci->n_components, "-k")
    DIFFERS(G_COV, o->cov != ci->covariance_type, "--covariance")
    DIFFERS(G_TOL, o->p.tol != c->tol, "--tol")
    DIFFERS(G_REG, o->p.reg_covar != c->reg_covar, "--reg-covar")
    DIFFERS(G_SEED, o->p.seed != c->seed, "--seed")
    DIFFERS(G_DEGEN, o->p.degenerate != c->degenerate, "--degenerate")
    DIFFERS(G_VFLOOR, o->p.var_floor != c->var_floor, "--var-floor")
    DIFFERS(G_ACCEL, o->p.accel != c->accel, "--accel")
#undef DIFFERS
    if ((o->weights != NULL) != (ci->weighted != 0))
        return cli_fail(CLI_USAGE,
                        "fit: the checkpoint %s was written by a fit %s --weights; resume it %s",
                        f, ci->weighted ? "with" : "without",
                        ci->weighted ? "with the same --weights FILE" : "without --weights");
    if (threads_given && o->threads != ci->threads)
        return cli_fail(CLI_USAGE,
                        "fit: --threads %d differs from the checkpoint %s (%d threads); the "
                        "result is bit for bit the same only on the same thread count",
                        o->threads, f, ci->threads);
    if (o->ro.dtype != EMGMM_IO_DTYPE_NATURAL && o->ro.dtype != ci->dtype)
        return cli_fail(CLI_USAGE, "fit: --dtype differs from the checkpoint %s (%s)", f,
                        ci->dtype == EMGMM_F32 ? "float32" : "float64");
    int max_iter = (o->given & G_MAXIT) ? o->p.max_iter : c->max_iter;
    if (max_iter < ci->n_iter)
        return cli_fail(CLI_USAGE,
                        "fit: --max-iter %d is below the %d iterations the checkpoint %s has "
                        "already run",
                        max_iter, ci->n_iter, f);
    o->p = *c;
    o->p.max_iter = max_iter;
    o->p.n_threads = ci->threads;
    o->threads = ci->threads;
    o->ro.dtype = ci->dtype;
    return CLI_OK;
}

static void human_bytes(char *b, size_t size, double v)
{
    static const char *const unit[] = {"bytes", "kB", "MB", "GB", "TB", "PB", "EB"};
    int u = 0;
    while (v >= 1000 && u < 6) {
        v /= 1000;
        u++;
    }
    snprintf(b, size, u ? "%.3g %s" : "%.0f %s", v, unit[u]);
}

/* Refuses, before anything is allocated, a fit that cannot fit in memory. */
static int memory_check(const fit_opts *o, const emgmm_data *X, int K, int cov, int threads)
{
    /* With fewer rows than components the fit fails at once, for that clearer
     * reason, before it allocates anything large. */
    if (o->no_memcheck || (size_t)K > X->n)
        return CLI_OK;
    double need = batch_fit_memory(X->n, X->d, (size_t)K, emgmm_covariance_storage(cov), X->dtype, threads, o->p.init,
                                   o->p.max_iter, o->p.n_init, o->p.missing);
    const char *what = "";
    double avail = batch_available_memory(threads, &what);
    if (avail < 0 || need <= avail)
        return CLI_OK;
    char nb[32], ab[32];
    human_bytes(nb, sizeof nb, need);
    human_bytes(ab, sizeof ab, avail);
    return cli_fail(CLI_INTERNAL,
                    "fit: not enough memory: K=%d, d=%zu, %s covariances on %d threads need about "
                    "%s beyond the data, but %s is available (%s); use fewer components or "
                    "threads or a diag/spherical covariance, or skip this check with "
                    "--no-memory-check",
                    K, X->d, emgmm_covariance_type_name(cov), threads, nb, ab, what);
}

/* Reports a library failure of the fit (and logs it). */
static int fit_failed(int st, const emgmm_model *m, const fit_opts *o, reporter *rep,
                      const emgmm_data *X)
{
    int rc;
    if (st == EMGMM_ERR_UNSUPPORTED)
        rc = cli_fail(CLI_USAGE, "fit: %s (covariance type %s)", emgmm_strerror(st),
                      emgmm_covariance_type_name(emgmm_model_covariance_type(m)));
    else
        rc = cli_fit_fail(st, m, "fit failed", o->data, 0, glue_size() == 1 ? X : NULL);
    if (rep->log) {
        fputs("{\"event\": \"error\", \"message\": ", rep->log);
        json_str(rep->log, emgmm_model_last_error(m));
        fprintf(rep->log, ", \"status\": %d}\n", st);
    }
    return rc;
}

static int write_model(const char *path, const emgmm_model *m, const emgmm_params *p)
{
    emgmm_io_fit_info info = {1, *p};
    emgmm_io_error err = {0};
    batch_write_begin();
    int r = emgmm_io_model_write(path ? path : "-", m, &info, &err);
    batch_write_end();
    if (r == 0)
        cli_model_size_note(path);
    return r != 0 ? cli_io_fail(&err) : CLI_OK;
}

/* MPI: ranks other than 0 stay quiet; with several ranks, refuses data that
 * cannot be split (stdin). */
static int mpi_fit_options(fit_opts *o)
{
    if (glue_rank() != 0) {
        o->quiet = 1;
        o->progress = 0;
        o->log_path = NULL;
    }
    if (glue_size() == 1)
        return CLI_OK;
    return glue_check_format(o->data, &o->ro);
}

int cmd_fit(int argc, char **argv)
{
    fit_opts o = {0};
    o.cov = -1;
    o.threads = -1; /* -1: not given */
    o.p = emgmm_params_default();
    o.ro = emgmm_io_read_opts_default();
    int rc = parse_args(argc, argv, &o);
    if (rc)
        return rc < 0 ? CLI_OK : rc;
    const int threads_given = o.threads >= 0;
    if (!threads_given)
        o.threads = o.p.n_threads = 0;
    /* MPI (tools/mpi_glue.c): rank 0 alone reports and writes; with several
     * ranks only what is distributed is accepted. */
    if ((rc = mpi_fit_options(&o)) != 0)
        return rc;
    if (glue_rank() == 0) {
        if ((rc = cli_check_output(o.out)) == 0 && (rc = cli_check_output(o.labels)) == 0)
            rc = cli_check_output(o.checkpoint);
    }
    if ((rc = glue_agree(rc)) != 0)
        return rc;
    int agreed = 0;     /* MPI: the ranks agreed to start the fit */
    long long row0 = 0; /* MPI: this rank's first row */
    emgmm_io_matrix mat = {0};
    double *init_resp = NULL; /* issue 19: --init-resp, [n][K] */
    emgmm_model *m = NULL;
    reporter rep = {o.progress, NULL, 0, -1};
    ckpt_info resumed = {0};
    ckpt_ctl ck = {NULL, {0}, -1};
    double *wts = NULL; /* --weights: this rank's rows' weights */
    if (o.resume) { /* MPI: every rank reads the checkpoint */
        if ((rc = ckpt_read(o.resume, &resumed, &m)) == 0)
            rc = resume_options(&o, &resumed, threads_given);
        if ((rc = glue_agree(rc)) != 0)
            goto done;
    }
    emgmm_data X; /* MPI: this rank's rows (a CSV file split at line starts) */
    rc = glue_read_rows(o.data, &o.ro, &mat, &X, &row0);
    if ((rc = glue_agree(rc)) != 0) /* MPI: the fingerprint below is collective */
        goto done;
    const int threads = o.threads > 0 ? o.threads : emgmm_default_threads();
    /* Per-sample weights (issue 15): this rank's rows' weights; collective. */
    if (o.weights) {
        if ((rc = cli_read_weights(o.weights, o.data, X.n, row0, &wts)) != 0)
            goto done;
        X.weights = wts;
    }
    /* --init-resp (issue 19): every rank reads the file and takes its own
     * rows; collective, here where every rank still runs the same steps */
    if (o.init_resp) {
        const size_t n_resp = (size_t)glue_sum((double)X.n);
        rc = cli_read_init_resp(o.init_resp, n_resp, row0, X.n, (int)o.k, &init_resp);
        if ((rc = glue_agree(rc)) != 0)
            goto done;
    }
    uint64_t hash = 0;
    size_t n_all = X.n; /* MPI: all ranks' rows */
    const int hash_version = o.resume && resumed.version == 1 ? 1 : 2;
    if ((o.resume || o.checkpoint) && hash_version == 1) {
        hash = glue_data_hash(ckpt_data_hash(&X), X.n, &n_all); /* P ranks: P's own hash */
    } else if (o.resume || o.checkpoint) {
        /* issue 15: independent of the row split, so another P can resume */
        uint64_t sums[2] = {ckpt_rows_hash(&X, (size_t)row0), X.n};
        glue_sum_u64(sums, 2);
        n_all = (size_t)sums[1];
        hash = ckpt_hash_finish(sums[0], n_all, X.d, X.dtype, X.weights != NULL);
    }
    if (o.resume && (n_all != resumed.n || X.d != resumed.d || hash != resumed.data_hash)) {
        rc = cli_fail(CLI_INPUT,
                      "fit: %s is not the data the checkpoint %s was written for (%zu x %zu, "
                      "hash %016llx; this is %zu x %zu, hash %016llx%s)",
                      o.data, o.resume, resumed.n, resumed.d,
                      (unsigned long long)resumed.data_hash, n_all, X.d, (unsigned long long)hash,
                      glue_size() > 1 && hash_version == 1
                          ? "; a version 1 checkpoint's hash also depends on the number of ranks"
                          : "");
        goto done;
    }
    if (o.resume) {
        if ((rc = memory_check(&o, &X, resumed.n_components, resumed.covariance_type, threads)))
            goto done;
    } else if (o.p.init == EMGMM_INIT_USER) {
        if ((rc = make_model(&o, &X, &m)) != 0 ||
            (rc = memory_check(&o, &X, emgmm_model_n_components(m),
                               emgmm_model_covariance_type(m), threads)) != 0)
            goto done;
    } else {
        if ((rc = memory_check(&o, &X, (int)o.k, o.cov >= 0 ? o.cov : EMGMM_COV_FULL, threads)) ||
            (rc = make_model(&o, &X, &m)) != 0)
            goto done;
    }
    emgmm_model_set_n_threads(m, o.threads);
    if (o.init_resp) { /* issue 19: read above */
        o.p.init = EMGMM_INIT_RESP;
        o.p.init_resp = init_resp;
    }
    if (o.checkpoint || o.resume) {
        ck.path = o.checkpoint ? o.checkpoint : o.resume;
        ck.info.n_components = emgmm_model_n_components(m);
        ck.info.covariance_type = emgmm_model_structure(m);
        ck.info.dtype = X.dtype;
        ck.info.threads = threads;
        ck.info.params = o.p;
        ck.info.n = n_all;
        ck.info.d = X.d;
        ck.info.data_hash = hash;
        ck.info.version = hash_version;
        ck.info.weighted = X.weights != NULL;
        ck.info.every = o.every ? (int)o.every : o.resume ? resumed.every : 1;
    }
    if (o.log_path && !(rep.log = fopen(o.log_path, "w"))) {
        rc = cli_fail(CLI_INPUT, "cannot create log %s", o.log_path);
        goto done;
    }
    /* MPI: a rank that failed above agrees from done:, so every rank starts
     * the fit's collectives or none does. */
    if (glue_size() > 1 && (rc = glue_set_comm(m, row0)) != 0)
        goto done;
    agreed = 1;
    if ((rc = glue_agree(0)) != 0)
        goto done;
    if (o.progress)
        cli_coretype_warning(stderr);
    if (rep.log) {
        fprintf(rep.log, "{\"event\": \"start\", \"data\": ");
        json_str(rep.log, o.data);
        fprintf(rep.log,
                ", \"n\": %zu, \"d\": %zu, \"k\": %d, \"covariance_type\": \"%s\", "
                "\"n_init\": %d, \"max_iter\": %d, \"seed\": %llu, \"degenerate\": \"%s\", "
                "\"var_floor\": ",
                X.n, X.d, emgmm_model_n_components(m),
                emgmm_covariance_type_name(emgmm_model_covariance_type(m)), o.p.n_init,
                o.p.max_iter, (unsigned long long)o.p.seed,
                emgmm_degenerate_policy_name(o.p.degenerate));
        json_num(rep.log, o.p.var_floor);
        if (o.p.accel != EMGMM_ACCEL_NONE)
            fprintf(rep.log, ", \"accel\": \"%s\"", emgmm_accel_method_name(o.p.accel));
        if (o.resume)
            fprintf(rep.log, ", \"resumed_at\": %d", resumed.n_iter);
        fputs("}\n", rep.log);
    }
    /* From here a first SIGTERM/SIGINT lets the fit save its work (n_init = 1);
     * emgmm_fit (n_init > 1) cannot be stopped, so there the first exits. */
    /* MPI: the ranks agree on the stop in fit_run (issue 15) */
    batch_signals_install(o.p.n_init == 1);
    rep.t0 = cli_now();
    int st = EMGMM_OK, stop_sig = 0;
    if (o.p.n_init == 1) {
        if ((rc = fit_run(m, &o.p, &X, &rep, ck.path ? &ck : NULL, o.resume != NULL, &st,
                          &stop_sig)) != 0)
            goto done;
    } else {
        st = emgmm_fit(m, &o.p, &X);
    }
    double secs = cli_now() - rep.t0;
    if (st == EMGMM_OK && (o.progress || rep.log) && o.p.n_init > 1)
        report_history(m, &rep);
    if (st != EMGMM_OK) {
        rc = fit_failed(st, m, &o, &rep, &X);
        goto done;
    }
    if (stop_sig) {
        /* The checkpoint (if any) is written; save the model so far. */
        const int it = emgmm_model_n_iter(m);
        if (rep.log)
            fprintf(rep.log, "{\"event\": \"interrupted\", \"signal\": \"%s\", \"iter\": %d}\n",
                    stop_sig == SIGTERM ? "SIGTERM" : "SIGINT", it);
        rc = glue_rank() == 0 ? write_model(o.out, m, &o.p) : CLI_OK; /* MPI: rank 0 */
        if ((rc = glue_agree(rc)) != 0) /* MPI: no rank ends before the model is written */
            goto done;
        if (glue_rank() == 0)
            fprintf(stderr,
                    "emgmm: fit: interrupted by %s at iteration %d; model so far in %s%s%s\n",
                    stop_sig == SIGTERM ? "SIGTERM" : "SIGINT", it, o.out ? o.out : "<stdout>",
                    ck.path ? ", checkpoint in " : "", ck.path ? ck.path : "");
        rc = CLI_INTERRUPTED;
        goto done;
    }
    const int reseeds = emgmm_model_n_reseeds(m);
    if (!o.quiet) {
        char rs[96] = "";
        if (reseeds > 0)
            snprintf(rs, sizeof rs, ", %d component%s reseeded", reseeds, reseeds > 1 ? "s" : "");
        if (o.p.accel != EMGMM_ACCEL_NONE)
            snprintf(rs + strlen(rs), sizeof rs - strlen(rs), ", %lld data passes (%s)",
                     emgmm_model_n_passes(m), emgmm_accel_method_name(o.p.accel));
        fprintf(stderr,
                "emgmm: fit: %d components, %d iterations, %s%s, lower bound %.10g, %.3f s\n",
                emgmm_model_n_components(m), emgmm_model_n_iter(m),
                emgmm_model_converged(m) ? "converged" : "not converged", rs,
                emgmm_model_lower_bound(m), secs);
    }
    if (rep.log) {
        fprintf(rep.log,
                "{\"event\": \"done\", \"n_iter\": %d, \"converged\": %s, \"reseeds\": %d, "
                "\"lower_bound\": ",
                emgmm_model_n_iter(m), emgmm_model_converged(m) ? "true" : "false", reseeds);
        json_num(rep.log, emgmm_model_lower_bound(m));
        fprintf(rep.log, ", \"passes\": %lld", emgmm_model_n_passes(m));
        fputs(", \"seconds\": ", rep.log);
        json_num(rep.log, secs);
        fputs("}\n", rep.log);
    }
    if (glue_rank() == 0)
        rc = write_model(o.out, m, &o.p);
    if (o.labels) { /* MPI: collective, each rank its rows; nothing written when rc != 0 */
        batch_write_begin();
        rc = glue_write_predictions(m, &X, 0, o.labels, o.data, row0, rc);
        batch_write_end();
    }
done:
    if (!agreed)
        rc = glue_agree(rc);
    batch_signals_restore();
    if (rep.log && fclose(rep.log) != 0 && rc == 0)
        rc = cli_fail(CLI_INPUT, "cannot write log %s", o.log_path);
    ckpt_info_free(&resumed);
    free(wts);
    emgmm_model_free(m);
    emgmm_io_matrix_free(&mat);
    free(init_resp);
    return rc;
}
