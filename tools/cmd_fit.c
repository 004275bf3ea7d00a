/* cmd_fit.c — `emgmm fit`: read DATA, fit by EM (optionally from a model file),
 * write the model JSON and optionally the training labels; --progress/--log
 * drive the fine-grained fit API to report every iteration. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

static const char fit_help[] =
    "usage: emgmm fit DATA -k K [options]\n"
    "Fits a K-component Gaussian mixture to DATA (CSV/TSV, .npy, raw binary; '-' = stdin CSV)\n"
    "and writes the model as JSON (to stdout without -o).\n\n"
    "  -k, --components K  number of components (taken from the model with --init MODEL.json)\n"
    "  -o, --output FILE   model JSON file (written atomically)\n"
    "  --covariance T      full|tied|diag|spherical (default full)\n"
    "  --init I            kmeans|k-means++|random|random_from_data (default kmeans), or a model\n"
    "                      JSON file to start from exactly\n"
    "  --n-init R          initialisations; the best lower bound is kept (default 1)\n"
    "  --max-iter M        EM iterations per initialisation (default 100)\n"
    "  --tol T             convergence tolerance on the mean log-likelihood (default 1e-3; 0 runs\n"
    "                      max-iter iterations)\n"
    "  --reg-covar R       added to covariance diagonals (default 1e-6)\n"
    "  --seed S            random seed (default 0)\n"
    "  --labels FILE       also write the training rows' labels (.npy or CSV)\n"
    "  --progress          one line per iteration on stderr\n"
    "  --log FILE          the same as JSON lines in FILE\n"
    "  -q, --quiet         no summary line\n" CLI_DATA_HELP;

enum { O_COV = 2000, O_INIT, O_NINIT, O_MAXIT, O_TOL, O_REG, O_SEED, O_LABELS, O_PROGRESS, O_LOG };

typedef struct {
    int progress;
    FILE *log;
    double t0;
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

static void report_iter(reporter *r, int it, double lb, double change, double secs)
{
    if (r->progress) {
        char ch[32] = "-", sec[32] = "";
        if (isfinite(change))
            snprintf(ch, sizeof ch, "%.4g", change);
        if (isfinite(secs))
            snprintf(sec, sizeof sec, "  %.3f s", secs);
        fprintf(stderr, "emgmm: iter %4d  lower bound %.10g  change %-11s%s\n", it, lb, ch, sec);
    }
    if (r->log) {
        fprintf(r->log, "{\"event\": \"iteration\", \"iter\": %d, \"lower_bound\": ", it);
        json_num(r->log, lb);
        fputs(", \"change\": ", r->log);
        json_num(r->log, change);
        fputs(", \"seconds\": ", r->log);
        json_num(r->log, secs);
        fputs(", \"elapsed\": ", r->log);
        json_num(r->log, cli_now() - r->t0);
        fputs("}\n", r->log);
        fflush(r->log);
    }
}

/* One initialisation step by step, as emgmm_fit runs it for n_init = 1. */
static int fit_stepwise(emgmm_model *m, const emgmm_params *p, const emgmm_data *X, reporter *r)
{
    double t = cli_now();
    int st = emgmm_fit_init(m, p, X);
    if (st != EMGMM_OK)
        return st;
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
    double prev = NAN, lb;
    do {
        t = cli_now();
        st = emgmm_fit_iterate(m, p, X, &lb);
        if (st != EMGMM_OK)
            return st;
        report_iter(r, emgmm_model_n_iter(m), lb, lb - prev, cli_now() - t);
        prev = lb;
    } while (!emgmm_fit_converged(m, p->tol) && emgmm_model_n_iter(m) < p->max_iter);
    return EMGMM_OK;
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
}

typedef struct {
    const char *data, *out, *init_arg, *labels, *log_path;
    long k;
    int cov, threads, progress, quiet;
    emgmm_params p;
    emgmm_io_read_opts ro;
} fit_opts;

static int parse_args(int argc, char **argv, fit_opts *o)
{
    static const struct option longopts[] = {{"components", required_argument, NULL, 'k'},
                                             {"output", required_argument, NULL, 'o'},
                                             {"covariance", required_argument, NULL, O_COV},
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
                                "--covariance: expected full, tied, diag or spherical, got '%s'",
                                optarg);
            break;
        case O_INIT:
            o->init_arg = optarg;
            break;
        case O_NINIT:
            if ((rc = cli_parse_long("--n-init", optarg, 1, 1L << 20, &v)))
                return rc;
            o->p.n_init = (int)v;
            break;
        case O_MAXIT:
            if ((rc = cli_parse_long("--max-iter", optarg, 1, 1L << 30, &v)))
                return rc;
            o->p.max_iter = (int)v;
            break;
        case O_TOL:
            if ((rc = cli_parse_double("--tol", optarg, 0, &o->p.tol)))
                return rc;
            break;
        case O_REG:
            if ((rc = cli_parse_double("--reg-covar", optarg, 0, &o->p.reg_covar)))
                return rc;
            break;
        case O_SEED:
            if ((rc = cli_parse_u64("--seed", optarg, &o->p.seed)))
                return rc;
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
        default:
            return cli_getopt_error("fit", c, argv);
        }
    }
    if (optind != argc - 1)
        return cli_fail(CLI_USAGE,
                        "fit: expected one DATA argument, got %d (see 'emgmm fit --help')",
                        argc - optind);
    o->data = argv[optind];
    o->p.n_threads = o->threads;
    if (o->labels && !strcmp(o->labels, "-") && (!o->out || !strcmp(o->out, "-")))
        return cli_fail(CLI_USAGE, "fit: the model and --labels cannot both go to stdout");
    if (o->init_arg) {
        int im = emgmm_init_method_from_name(o->init_arg);
        if (im >= 0 && im != EMGMM_INIT_USER)
            o->p.init = im;
        else if (access(o->init_arg, F_OK) != 0 && !strchr(o->init_arg, '.') &&
                 !strchr(o->init_arg, '/'))
            return cli_fail(CLI_USAGE,
                            "--init: expected kmeans, k-means++, random, random_from_data or a "
                            "model file, got '%s'",
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
        if (o->cov >= 0 && o->cov != emgmm_model_covariance_type(*m))
            return cli_fail(CLI_USAGE, "--covariance %s disagrees with %s, which is %s",
                            emgmm_covariance_type_name(o->cov), o->init_arg,
                            emgmm_covariance_type_name(emgmm_model_covariance_type(*m)));
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

int cmd_fit(int argc, char **argv)
{
    fit_opts o = {0};
    o.cov = -1;
    o.p = emgmm_params_default();
    o.ro = emgmm_io_read_opts_default();
    int rc = parse_args(argc, argv, &o);
    if (rc)
        return rc < 0 ? CLI_OK : rc;

    if ((rc = cli_check_output(o.out)) != 0 || (rc = cli_check_output(o.labels)) != 0)
        return rc;
    emgmm_io_matrix mat = {0};
    emgmm_model *m = NULL;
    reporter rep = {o.progress, NULL, 0};
    if ((rc = cli_read_data(o.data, &o.ro, &mat)) != 0)
        goto done;
    emgmm_data X = emgmm_io_matrix_data(&mat);
    if ((rc = make_model(&o, &X, &m)) != 0)
        goto done;
    emgmm_model_set_n_threads(m, o.threads);
    if (o.log_path && !(rep.log = fopen(o.log_path, "w"))) {
        rc = cli_fail(CLI_INPUT, "cannot create log %s", o.log_path);
        goto done;
    }
    if (o.progress)
        cli_coretype_warning(stderr);
    if (rep.log) {
        fprintf(rep.log, "{\"event\": \"start\", \"data\": ");
        json_str(rep.log, o.data);
        fprintf(rep.log,
                ", \"n\": %zu, \"d\": %zu, \"k\": %d, \"covariance_type\": \"%s\", "
                "\"n_init\": %d, \"max_iter\": %d, \"seed\": %llu}\n",
                X.n, X.d, emgmm_model_n_components(m),
                emgmm_covariance_type_name(emgmm_model_covariance_type(m)), o.p.n_init,
                o.p.max_iter, (unsigned long long)o.p.seed);
    }
    rep.t0 = cli_now();
    int st = (o.progress || rep.log) && o.p.n_init == 1 ? fit_stepwise(m, &o.p, &X, &rep)
                                                        : emgmm_fit(m, &o.p, &X);
    double secs = cli_now() - rep.t0;
    if (st == EMGMM_OK && (o.progress || rep.log) && o.p.n_init > 1)
        report_history(m, &rep);
    if (st != EMGMM_OK) {
        if (st == EMGMM_ERR_UNSUPPORTED)
            rc = cli_fail(CLI_USAGE, "fit: %s (covariance type %s)", emgmm_strerror(st),
                          emgmm_covariance_type_name(emgmm_model_covariance_type(m)));
        else
            rc = cli_lib_fail(st, m, "fit failed", o.data, 0);
        if (rep.log) {
            fputs("{\"event\": \"error\", \"message\": ", rep.log);
            json_str(rep.log, emgmm_model_last_error(m));
            fprintf(rep.log, ", \"status\": %d}\n", st);
        }
        goto done;
    }
    if (!o.quiet)
        fprintf(stderr, "emgmm: fit: %d components, %d iterations, %s, lower bound %.10g, %.3f s\n",
                emgmm_model_n_components(m), emgmm_model_n_iter(m),
                emgmm_model_converged(m) ? "converged" : "not converged",
                emgmm_model_lower_bound(m), secs);
    if (rep.log) {
        fprintf(rep.log,
                "{\"event\": \"done\", \"n_iter\": %d, \"converged\": %s, \"lower_bound\": ",
                emgmm_model_n_iter(m), emgmm_model_converged(m) ? "true" : "false");
        json_num(rep.log, emgmm_model_lower_bound(m));
        fputs(", \"seconds\": ", rep.log);
        json_num(rep.log, secs);
        fputs("}\n", rep.log);
    }
    emgmm_io_fit_info info = {1, o.p};
    emgmm_io_error err = {0};
    if (emgmm_io_model_write(o.out ? o.out : "-", m, &info, &err) != 0) {
        rc = cli_io_fail(&err);
        goto done;
    }
    if (o.labels)
        rc = cli_write_labels(m, &X, o.labels, o.data);
done:
    if (rep.log && fclose(rep.log) != 0 && rc == 0)
        rc = cli_fail(CLI_INPUT, "cannot write log %s", o.log_path);
    emgmm_model_free(m);
    emgmm_io_matrix_free(&mat);
    return rc;
}
