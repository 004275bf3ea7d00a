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
    "  --init I            smem|kmeans|k-means++|random|random_from_data|emem (default smem),\n"
    "                      or a model JSON file to start from exactly.  smem: em-EM, then\n"
    "                      split-and-merge moves kept while they raise the lower bound: better\n"
    "                      optima than kmeans at a few times its cost (docs/search.md); kmeans:\n"
    "                      scikit-learn's start (its results number for number); emem: short\n"
    "                      EM runs from many k-means starts, EM on from the best\n"
    "  --search-starts S   emem, smem: short runs per initialisation (default emem 20, smem 5)\n"
    "  --search-iter L     emem, smem: EM iterations per short run (default emem 10, smem 5)\n"
    "  --n-init R          initialisations; the best lower bound is kept (default 1)\n"
    "  --max-iter M        EM iterations per initialisation (default 100)\n"
    "  --tol T             convergence tolerance on the mean log-likelihood (default 1e-3; 0 runs\n"
    "                      max-iter iterations)\n"
    "  --reg-covar R       added to covariance diagonals (default 1e-6)\n"
    "  --degenerate P      reseed|error: an empty or collapsed component is re-initialised at\n"
    "                      the worst-explained points (reseed, default), or the fit behaves as\n"
    "                      scikit-learn's (error: a covariance that is not PD fails, naming it)\n"
    "  --var-floor REL     floor covariance diagonals at REL x each feature's variance (default "
    "0,\n"
    "                      off); for features on very different scales, with --reg-covar 0\n"
    "  --seed S            random seed (default 0)\n"
    "  --accel A           none|squarem|anderson: plain EM (default), or accelerated EM (SQUAREM\n"
    "                      or Anderson): fewer data passes to the same optimum, the lower bound\n"
    "                      still never decreasing (docs/accel.md); Anderson on >= 8000 rows\n"
    "                      first fits every 4th row, at its 2nd iteration (a warm-up)\n"
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
    "exit status 6: stopped by SIGTERM/SIGINT after saving the model so far "
    "(docs/cli.md)\n" CLI_DATA_HELP;

enum {
    O_COV = 2000,
    O_INIT,
    O_LABELS,
    O_PROGRESS,
    O_LOG,
    O_CKPT,
    O_CKPT_EVERY,
    O_RESUME,
    O_NO_MEMCHECK,
    O_INITRESP, /* issue 19 */
    O_INNERTOL,
    O_INNERMAX
};

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
            if (it > 0) snprintf(at, sizeof at, "iter %4d", it);
            fprintf(stderr,
                    "emgmm: %s: component %d was empty or collapsed; reseeded at the "
                    "worst-explained point (log-density %.6g)\n",
                    at, k, ld);
        }
        if (r->log) {
            fprintf(r->log,
                    "{\"event\": \"reseed\", \"iter\": %d, \"component\": %d, \"log_density\": ",
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
        if (isfinite(change)) snprintf(ch, sizeof ch, "%.4g", change);
        if (isfinite(secs)) snprintf(sec, sizeof sec, "  %.3f s", secs);
        char ps[40] = "";
        if (r->passes >= 0) snprintf(ps, sizeof ps, "  passes %lld", r->passes);
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
        if (r->passes >= 0) fprintf(r->log, ", \"passes\": %lld", r->passes);
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
        /* the searches can take several k-means fits' time, and say nothing until done */
        if (r->progress && (p->init == EMGMM_INIT_SMEM || p->init == EMGMM_INIT_EMEM))
            fprintf(stderr, "emgmm: searching for a start by %s (docs/search.md; --init kmeans "
                            "skips it)\n", emgmm_init_method_name(p->init));
        if ((*status = emgmm_fit_init(m, p, X)) != EMGMM_OK) return CLI_OK;
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
        if (ck && (rc = ckpt_save(m, ck)) != 0) return rc;
    }
    double prev = emgmm_model_n_iter(m) > 0 ? emgmm_model_lower_bound(m) : NAN, lb;
    while (!emgmm_model_converged(m) && emgmm_model_n_iter(m) < p->max_iter) {
        /* MPI: a signal may reach the ranks at different moments; the
         * maximum over the ranks makes all stop after the same iteration. */
        if ((*stop_sig = glue_max_int(batch_stop_signal())) != 0) break;
        double t = cli_now();
        const int seen = emgmm_model_n_reseeds(m);
        if ((*status = emgmm_fit_iterate(m, p, X, &lb)) != EMGMM_OK) return CLI_OK;
        if (p->accel != EMGMM_ACCEL_NONE) r->passes = emgmm_model_n_passes(m);
        report_iter(r, emgmm_model_n_iter(m), lb, lb - prev, cli_now() - t);
        report_reseeds(r, m, seen);
        prev = lb;
        emgmm_fit_converged(m, p->tol);
        if (ck && emgmm_model_n_iter(m) % ck->info.every == 0 && (rc = ckpt_save(m, ck)) != 0)
            return rc;
    }
    /* The end of the fit, or of this run, is always saved. */
    if (ck && ck->last != emgmm_model_n_iter(m) && (rc = ckpt_save(m, ck)) != 0) return rc;
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
    unsigned given; /* CLI_GIVEN_* */
    emgmm_params p;
    emgmm_io_read_opts ro;
    const char *weights; /* --weights FILE, or NULL */
} fit_opts;

/* A fit-only option C (those fit shares with select are cli_fit_option's):
 * 1 applied, 0 not one of them, -1 after a usage error (exit code in *RC). */
static int fit_option(int c, const char *arg, fit_opts *o, int *rc)
{
    long v = 0;
    *rc = 0;
    switch (c) {
    case 'k':
        if ((*rc = cli_parse_long("-k", arg, 1, 1L << 20, &o->k)) == 0) o->given |= CLI_GIVEN_K;
        break;
    case 'o': o->out = arg; break;
    case 'q': o->quiet = 1; break;
    case O_COV:
        o->cov = emgmm_covariance_type_from_name(arg);
        if (o->cov < 0)
            *rc = cli_fail(CLI_USAGE,
                           "--covariance: expected full, tied, diag, spherical or an mclust "
                           "model (EII, VII, EEI, VEI, EVI, VVI, EEE, VEE, EVE, VVE, EEV, VEV, "
                           "EVV, VVV), got '%s'",
                           arg);
        o->given |= CLI_GIVEN_COV;
        break;
    case O_INIT: o->init_arg = arg; break;
    case O_LABELS: o->labels = arg; break;
    case O_PROGRESS: o->progress = 1; break;
    case O_LOG: o->log_path = arg; break;
    case O_CKPT: o->checkpoint = arg; break;
    case O_CKPT_EVERY:
        *rc = cli_parse_long("--checkpoint-every", arg, 1, 1L << 30, &o->every);
        break;
    case O_RESUME: o->resume = arg; break;
    case O_NO_MEMCHECK: o->no_memcheck = 1; break;
    case O_INITRESP: o->init_resp = arg; break;
    case O_INNERTOL: *rc = cli_parse_double("--inner-tol", arg, 0, &o->p.inner_tol); break;
    case O_INNERMAX:
        if ((*rc = cli_parse_long("--inner-max-iter", arg, 1, 1L << 30, &v)) == 0)
            o->p.inner_max_iter = (int)v;
        break;
    default: return 0;
    }
    return *rc ? -1 : 1;
}

/* The options that exclude or need each other, and the --init argument. */
static int check_args(fit_opts *o)
{
    /* emgmm_fit_init always starts restart 0: restarts r > 0 cannot be driven
     * (or resumed) through the public API. */
    if ((o->checkpoint || o->resume) && o->p.n_init > 1)
        return cli_fail(CLI_USAGE, "fit: --checkpoint and --resume need --n-init 1 (got %d)",
                        o->p.n_init);
    if (o->every && !o->checkpoint && !o->resume)
        return cli_fail(CLI_USAGE, "fit: --checkpoint-every needs --checkpoint FILE");
    if (o->init_resp && (o->init_arg || o->resume))
        return cli_fail(CLI_USAGE, "fit: --init-resp cannot be given with --init or --resume");
    if (o->init_resp && o->k == 0) return cli_fail(CLI_USAGE, "fit: --init-resp needs -k K");
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
    if (o->resume) return 0; /* the remaining checks are the checkpoint's */
    if (o->init_arg) {
        int im = emgmm_init_method_from_name(o->init_arg);
        if (im >= 0 && im != EMGMM_INIT_USER && im != EMGMM_INIT_RESP)
            o->p.init = im;
        else if (access(o->init_arg, F_OK) != 0 && !strchr(o->init_arg, '.') &&
                 !strchr(o->init_arg, '/'))
            return cli_fail(
                CLI_USAGE,
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

/* 0, -1 after --help, or the exit code of a usage error (reported). */
static int parse_args(int argc, char **argv, fit_opts *o)
{
    static const struct option longopts[] = {
        {"components", required_argument, NULL, 'k'},
        {"output", required_argument, NULL, 'o'},
        {"covariance", required_argument, NULL, O_COV},
        {"model", required_argument, NULL, O_COV},
        {"init-resp", required_argument, NULL, O_INITRESP},
        {"inner-tol", required_argument, NULL, O_INNERTOL},
        {"inner-max-iter", required_argument, NULL, O_INNERMAX},
        {"init", required_argument, NULL, O_INIT},
        {"labels", required_argument, NULL, O_LABELS},
        {"progress", no_argument, NULL, O_PROGRESS},
        {"log", required_argument, NULL, O_LOG},
        {"quiet", no_argument, NULL, 'q'},
        {"checkpoint", required_argument, NULL, O_CKPT},
        {"checkpoint-every", required_argument, NULL, O_CKPT_EVERY},
        {"resume", required_argument, NULL, O_RESUME},
        {"no-memory-check", no_argument, NULL, O_NO_MEMCHECK},
        {"help", no_argument, NULL, 'h'},
        CLI_FIT_LONGOPTS,
        CLI_DATA_LONGOPTS,
        {NULL, 0, NULL, 0}};
    int c, rc = 0;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":k:o:qh", longopts, NULL)) != -1) {
        if (c == 'h') {
            fputs(fit_help, stdout);
            return -1;
        }
        int r = cli_data_option(c, optarg, &o->ro, &o->threads, &rc);
        if (r == 0) r = cli_fit_option(c, optarg, &o->p, &o->weights, &o->given, &rc);
        if (r == 0) r = fit_option(c, optarg, o, &rc);
        if (r < 0) return rc;
        if (r == 0) return cli_getopt_error("fit", c, argv);
    }
    if (optind != argc - 1)
        return cli_fail(CLI_USAGE,
                        "fit: expected one DATA argument, got %d (see 'emgmm fit --help')",
                        argc - optind);
    o->data = argv[optind];
    o->p.n_threads = o->threads < 0 ? 0 : o->threads;
    o->p.missing = o->ro.missing;
    return check_args(o);
}

/* The model to fit: empty with K components, or the --init file's. */
static int make_model(fit_opts *o, const emgmm_data *X, emgmm_model **m)
{
    int rc;
    if (o->p.init == EMGMM_INIT_USER) {
        if ((rc = cli_load_model(o->init_arg, m)) != 0) return rc;
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
    if (st != EMGMM_OK) return cli_lib_fail(st, NULL, "cannot create the model", NULL, 0);
    return CLI_OK;
}

/* A resumed fit runs with its checkpoint's options: those given again must
 * agree; only --max-iter may change (not below the iterations already run). */
static int resume_options(fit_opts *o, const ckpt_info *ci, int threads_given)
{
    const emgmm_params *c = &ci->params;
    const char *f = o->resume;
#define DIFFERS(flag, cond, what)                                                                  \
    if ((o->given & (flag)) && (cond))                                                             \
        return cli_fail(CLI_USAGE,                                                                 \
                        "fit: %s differs from the checkpoint %s; a resumed fit keeps the "         \
                        "options it started with",                                                 \
                        what, f);
    DIFFERS(CLI_GIVEN_K, o->k != ci->n_components, "-k")
    DIFFERS(CLI_GIVEN_COV, o->cov != ci->covariance_type, "--covariance")
    DIFFERS(CLI_GIVEN_TOL, o->p.tol != c->tol, "--tol")
    DIFFERS(CLI_GIVEN_REG, o->p.reg_covar != c->reg_covar, "--reg-covar")
    DIFFERS(CLI_GIVEN_SEED, o->p.seed != c->seed, "--seed")
    DIFFERS(CLI_GIVEN_DEGEN, o->p.degenerate != c->degenerate, "--degenerate")
    DIFFERS(CLI_GIVEN_VFLOOR, o->p.var_floor != c->var_floor, "--var-floor")
    DIFFERS(CLI_GIVEN_ACCEL, o->p.accel != c->accel, "--accel")
#undef DIFFERS
    if ((o->weights != NULL) != (ci->weighted != 0))
        return cli_fail(CLI_USAGE,
                        "fit: the checkpoint %s was written by a fit %s --weights; resume it %s", f,
                        ci->weighted ? "with" : "without",
                        ci->weighted ? "with the same --weights FILE" : "without --weights");
    if (threads_given && o->threads != ci->threads)
        return cli_fail(CLI_USAGE,
                        "fit: --threads %d differs from the checkpoint %s (%d threads); the "
                        "result is bit for bit the same only on the same thread count",
                        o->threads, f, ci->threads);
    if (o->ro.dtype != EMGMM_IO_DTYPE_NATURAL && o->ro.dtype != ci->dtype)
        return cli_fail(CLI_USAGE, "fit: --dtype differs from the checkpoint %s (%s)", f,
                        ci->dtype == EMGMM_F32 ? "float32" : "float64");
    int max_iter = (o->given & CLI_GIVEN_MAXIT) ? o->p.max_iter : c->max_iter;
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
    if (o->no_memcheck || (size_t)K > X->n) return CLI_OK;
    double need = batch_fit_memory(X->n, X->d, (size_t)K, emgmm_covariance_storage(cov), X->dtype,
                                   threads, o->p.init, o->p.max_iter, o->p.n_init, o->p.missing);
    const char *what = "";
    double avail = batch_available_memory(threads, &what);
    if (avail < 0 || need <= avail) return CLI_OK;
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
    if (r == 0) cli_model_size_note(path);
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
    if (glue_size() == 1) return CLI_OK;
    return glue_check_format(o->data, &o->ro);
}

/* One `emgmm fit` run: what its steps share. */
typedef struct {
    fit_opts o;
    int threads_given;
    int threads; /* the thread count the fit runs on */
    emgmm_io_matrix mat;
    emgmm_data X;   /* MPI: this rank's rows (a CSV file split at line starts) */
    long long row0; /* MPI: this rank's first row */
    size_t n_all;   /* MPI: all ranks' rows */
    uint64_t hash;  /* the data's fingerprint, for checkpoints */
    int hash_version;
    double *wts;       /* --weights: this rank's rows' weights */
    double *init_resp; /* issue 19: --init-resp, [n][K] */
    emgmm_model *m;
    reporter rep;
    ckpt_info resumed;
    ckpt_ctl ck;
} fit_job;

/* Reads this rank's rows and weights and, for a checkpointed or resumed fit,
 * their fingerprint; a resumed fit's data must be the checkpoint's. */
static int load_data(fit_job *j)
{
    fit_opts *o = &j->o;
    int rc = glue_read_rows(o->data, &o->ro, &j->mat, &j->X, &j->row0);
    if ((rc = glue_agree(rc)) != 0) /* MPI: the fingerprint below is collective */
        return rc;
    /* Per-sample weights (issue 15): this rank's rows' weights; collective. */
    if (o->weights) {
        if ((rc = cli_read_weights(o->weights, o->data, j->X.n, j->row0, &j->wts)) != 0) return rc;
        j->X.weights = j->wts;
    }
    const emgmm_data *X = &j->X;
    /* --init-resp (issue 19): every rank reads the file and takes its own
     * rows; collective, here where every rank still runs the same steps */
    if (o->init_resp) {
        const size_t n_resp = (size_t)glue_sum((double)X->n);
        rc = cli_read_init_resp(o->init_resp, n_resp, j->row0, X->n, (int)o->k, &j->init_resp);
        if ((rc = glue_agree(rc)) != 0) return rc;
    }
    j->n_all = X->n;
    j->hash_version = o->resume && j->resumed.version == 1 ? 1 : 2;
    if ((o->resume || o->checkpoint) && j->hash_version == 1) {
        j->hash = glue_data_hash(ckpt_data_hash(X), X->n, &j->n_all); /* P ranks: P's own hash */
    } else if (o->resume || o->checkpoint) {
        /* issue 15: independent of the row split, so another P can resume */
        uint64_t sums[2] = {ckpt_rows_hash(X, (size_t)j->row0), X->n};
        glue_sum_u64(sums, 2);
        j->n_all = (size_t)sums[1];
        j->hash = ckpt_hash_finish(sums[0], j->n_all, X->d, X->dtype, X->weights != NULL);
    }
    const ckpt_info *r = &j->resumed;
    if (o->resume && (j->n_all != r->n || X->d != r->d || j->hash != r->data_hash))
        return cli_fail(CLI_INPUT,
                        "fit: %s is not the data the checkpoint %s was written for (%zu x %zu, "
                        "hash %016llx; this is %zu x %zu, hash %016llx%s)",
                        o->data, o->resume, r->n, r->d, (unsigned long long)r->data_hash, j->n_all,
                        X->d, (unsigned long long)j->hash,
                        glue_size() > 1 && j->hash_version == 1
                            ? "; a version 1 checkpoint's hash also depends on the number of "
                              "ranks"
                            : "");
    return CLI_OK;
}

/* The model to fit (the checkpoint's, the --init file's or a new one) after
 * the memory check, and the --init-resp start. */
static int prepare_model(fit_job *j)
{
    fit_opts *o = &j->o;
    const emgmm_data *X = &j->X;
    int rc;
    if (o->resume) {
        if ((rc = memory_check(o, X, j->resumed.n_components, j->resumed.covariance_type,
                               j->threads)))
            return rc;
    } else if (o->p.init == EMGMM_INIT_USER) {
        if ((rc = make_model(o, X, &j->m)) != 0 ||
            (rc = memory_check(o, X, emgmm_model_n_components(j->m),
                               emgmm_model_covariance_type(j->m), j->threads)) != 0)
            return rc;
    } else {
        if ((rc = memory_check(o, X, (int)o->k, o->cov >= 0 ? o->cov : EMGMM_COV_FULL,
                               j->threads)) ||
            (rc = make_model(o, X, &j->m)) != 0)
            return rc;
    }
    emgmm_model_set_n_threads(j->m, o->threads);
    if (o->init_resp) { /* issue 19: read in load_data */
        o->p.init = EMGMM_INIT_RESP;
        o->p.init_resp = j->init_resp;
    }
    return CLI_OK;
}

/* What every checkpoint of this fit repeats. */
static void ckpt_setup(fit_job *j)
{
    const fit_opts *o = &j->o;
    if (!o->checkpoint && !o->resume) return;
    ckpt_ctl *ck = &j->ck;
    ck->path = o->checkpoint ? o->checkpoint : o->resume;
    ck->info.n_components = emgmm_model_n_components(j->m);
    ck->info.covariance_type = emgmm_model_structure(j->m);
    ck->info.dtype = j->X.dtype;
    ck->info.threads = j->threads;
    ck->info.params = o->p;
    ck->info.n = j->n_all;
    ck->info.d = j->X.d;
    ck->info.data_hash = j->hash;
    ck->info.version = j->hash_version;
    ck->info.weighted = j->X.weights != NULL;
    ck->info.every = o->every ? (int)o->every : o->resume ? j->resumed.every : 1;
}

static void log_start(const fit_job *j)
{
    FILE *log = j->rep.log;
    const fit_opts *o = &j->o;
    fprintf(log, "{\"event\": \"start\", \"data\": ");
    json_str(log, o->data);
    fprintf(log,
            ", \"n\": %zu, \"d\": %zu, \"k\": %d, \"covariance_type\": \"%s\", "
            "\"n_init\": %d, \"max_iter\": %d, \"seed\": %llu, \"degenerate\": \"%s\", "
            "\"var_floor\": ",
            j->X.n, j->X.d, emgmm_model_n_components(j->m),
            emgmm_covariance_type_name(emgmm_model_covariance_type(j->m)), o->p.n_init,
            o->p.max_iter, (unsigned long long)o->p.seed,
            emgmm_degenerate_policy_name(o->p.degenerate));
    json_num(log, o->p.var_floor);
    if (o->p.accel != EMGMM_ACCEL_NONE)
        fprintf(log, ", \"accel\": \"%s\"", emgmm_accel_method_name(o->p.accel));
    if (o->resume) fprintf(log, ", \"resumed_at\": %d", j->resumed.n_iter);
    fputs("}\n", log);
}

/* Stopped by STOP_SIG: the checkpoint (if any) is written; saves the model so far. */
static int save_interrupted(fit_job *j, int stop_sig)
{
    const char *sig = stop_sig == SIGTERM ? "SIGTERM" : "SIGINT";
    const int it = emgmm_model_n_iter(j->m);
    if (j->rep.log)
        fprintf(j->rep.log, "{\"event\": \"interrupted\", \"signal\": \"%s\", \"iter\": %d}\n", sig,
                it);
    int rc = glue_rank() == 0 ? write_model(j->o.out, j->m, &j->o.p) : CLI_OK; /* MPI: rank 0 */
    if ((rc = glue_agree(rc)) != 0) /* MPI: no rank ends before the model is written */
        return rc;
    if (glue_rank() == 0)
        fprintf(stderr, "emgmm: fit: interrupted by %s at iteration %d; model so far in %s%s%s\n",
                sig, it, j->o.out ? j->o.out : "<stdout>", j->ck.path ? ", checkpoint in " : "",
                j->ck.path ? j->ck.path : "");
    return CLI_INTERRUPTED;
}

/* The summary line (unless -q) and the log's last event. */
static void report_done(const fit_job *j, double secs)
{
    const emgmm_model *m = j->m;
    const emgmm_params *p = &j->o.p;
    const int reseeds = emgmm_model_n_reseeds(m);
    if (!j->o.quiet) {
        char rs[96] = "";
        if (reseeds > 0)
            snprintf(rs, sizeof rs, ", %d component%s reseeded", reseeds, reseeds > 1 ? "s" : "");
        if (p->accel != EMGMM_ACCEL_NONE)
            snprintf(rs + strlen(rs), sizeof rs - strlen(rs), ", %lld data passes (%s)",
                     emgmm_model_n_passes(m), emgmm_accel_method_name(p->accel));
        fprintf(stderr,
                "emgmm: fit: %d components, %d iterations, %s%s, lower bound %.10g, %.3f s\n",
                emgmm_model_n_components(m), emgmm_model_n_iter(m),
                emgmm_model_converged(m) ? "converged" : "not converged", rs,
                emgmm_model_lower_bound(m), secs);
    }
    FILE *log = j->rep.log;
    if (log) {
        fprintf(log,
                "{\"event\": \"done\", \"n_iter\": %d, \"converged\": %s, \"reseeds\": %d, "
                "\"lower_bound\": ",
                emgmm_model_n_iter(m), emgmm_model_converged(m) ? "true" : "false", reseeds);
        json_num(log, emgmm_model_lower_bound(m));
        fprintf(log, ", \"passes\": %lld", emgmm_model_n_passes(m));
        fputs(", \"seconds\": ", log);
        json_num(log, secs);
        fputs("}\n", log);
    }
}

/* Runs the prepared fit and writes its outputs. */
static int run_fit(fit_job *j)
{
    fit_opts *o = &j->o;
    int rc;
    if (o->progress) cli_coretype_warning(stderr);
    if (j->rep.log) log_start(j);
    /* From here a first SIGTERM/SIGINT lets the fit save its work (n_init = 1);
     * emgmm_fit (n_init > 1) cannot be stopped, so there the first exits. */
    /* MPI: the ranks agree on the stop in fit_run (issue 15) */
    batch_signals_install(o->p.n_init == 1);
    j->rep.t0 = cli_now();
    int st = EMGMM_OK, stop_sig = 0;
    if (o->p.n_init == 1) {
        if ((rc = fit_run(j->m, &o->p, &j->X, &j->rep, j->ck.path ? &j->ck : NULL,
                          o->resume != NULL, &st, &stop_sig)) != 0)
            return rc;
    } else {
        st = emgmm_fit(j->m, &o->p, &j->X);
    }
    const double secs = cli_now() - j->rep.t0;
    if (st == EMGMM_OK && (o->progress || j->rep.log) && o->p.n_init > 1)
        report_history(j->m, &j->rep);
    if (st != EMGMM_OK) return fit_failed(st, j->m, o, &j->rep, &j->X);
    if (stop_sig) return save_interrupted(j, stop_sig);
    report_done(j, secs);
    rc = CLI_OK;
    if (glue_rank() == 0) rc = write_model(o->out, j->m, &o->p);
    if (o->labels) { /* MPI: collective, each rank its rows; nothing written when rc != 0 */
        batch_write_begin();
        rc = glue_write_predictions(j->m, &j->X, 0, o->labels, o->data, j->row0, rc);
        batch_write_end();
    }
    return rc;
}

/* Everything before the fit's collectives; a failing rank returns its code. */
static int prepare_fit(fit_job *j)
{
    fit_opts *o = &j->o;
    int rc;
    if (o->resume) { /* MPI: every rank reads the checkpoint */
        if ((rc = ckpt_read(o->resume, &j->resumed, &j->m)) == 0)
            rc = resume_options(o, &j->resumed, j->threads_given);
        if ((rc = glue_agree(rc)) != 0) return rc;
    }
    if ((rc = load_data(j)) != 0) return rc;
    j->threads = o->threads > 0 ? o->threads : emgmm_default_threads();
    if ((rc = prepare_model(j)) != 0) return rc;
    ckpt_setup(j);
    if (o->log_path && !(j->rep.log = fopen(o->log_path, "w")))
        return cli_fail(CLI_INPUT, "cannot create log %s", o->log_path);
    /* MPI: each rank's part of the one distributed fit */
    if (glue_size() > 1 && (rc = glue_set_comm(j->m, j->row0)) != 0) return rc;
    return CLI_OK;
}

int cmd_fit(int argc, char **argv)
{
    fit_job j = {0};
    fit_opts *o = &j.o;
    o->cov = -1;
    o->threads = -1; /* -1: not given */
    o->p = emgmm_params_default();
    /* The CLI's default start is the smem search (issue 18: it reaches
     * scikit-learn's best-of-10 lower bound on 36-38 of 40 problems in less
     * time than its single run, docs/search.md); the library's stays kmeans,
     * as scikit-learn's.  --init, --init-resp and --resume replace it. */
    o->p.init = EMGMM_INIT_SMEM;
    o->ro = emgmm_io_read_opts_default();
    int rc = parse_args(argc, argv, o);
    if (rc) return rc < 0 ? CLI_OK : rc;
    j.threads_given = o->threads >= 0;
    if (!j.threads_given) o->threads = o->p.n_threads = 0;
    /* MPI (tools/mpi_glue.c): rank 0 alone reports and writes; with several
     * ranks only what is distributed is accepted. */
    if ((rc = mpi_fit_options(o)) != 0) return rc;
    if (glue_rank() == 0) {
        if ((rc = cli_check_output(o->out)) == 0 && (rc = cli_check_output(o->labels)) == 0)
            rc = cli_check_output(o->checkpoint);
    }
    if ((rc = glue_agree(rc)) != 0) return rc;
    j.rep = (reporter){o->progress, NULL, 0, -1};
    j.ck = (ckpt_ctl){NULL, {0}, -1};
    /* MPI: a rank that failed agrees here, so every rank starts the fit's
     * collectives or none does. */
    rc = prepare_fit(&j);
    if ((rc = glue_agree(rc)) == 0) rc = run_fit(&j);
    batch_signals_restore();
    if (j.rep.log && fclose(j.rep.log) != 0 && rc == 0)
        rc = cli_fail(CLI_INPUT, "cannot write log %s", o->log_path);
    ckpt_info_free(&j.resumed);
    free(j.wts);
    emgmm_model_free(j.m);
    emgmm_io_matrix_free(&j.mat);
    free(j.init_resp);
    return rc;
}
