/* emgmm.c — the emgmm command-line tool's entry point: subcommand dispatch,
 * top-level --help and --version.  Each subcommand lives in cmd_<name>.c. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "emgmm_io.h"
#include "mpi_glue.h"

static const struct {
    const char *name;
    int (*run)(int, char **);
    const char *summary;
} commands[] = {
    {"fit", cmd_fit, "fit a Gaussian mixture to DATA and save the model"},
    {"predict", cmd_predict, "most probable component (or responsibilities) per row"},
    {"score", cmd_score, "mean (or per-sample) log-likelihood of DATA"},
    {"sample", cmd_sample, "draw points from a model"},
    {"impute", cmd_impute, "DATA with missing values (NaN) filled in under a model"},
    {"select", cmd_select, "fit every K and covariance type, rank by BIC/AIC"},
    {"info", cmd_info, "version, build options, BLAS and threads"},
    {"demo", cmd_demo, "fit the built-in 1-D example (two Gaussians)"},
    {"plot", cmd_plot, "draw density, clusters, uncertainty, BIC or convergence (Python)"},
};

static void usage(FILE *f)
{
    fprintf(f, "usage: emgmm <command> [options]   (emgmm <command> --help for details)\n\n"
               "commands:\n");
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(f, "  %-8s %s\n", commands[i].name, commands[i].summary);
    fprintf(f, "\nexit codes: 0 success, 2 usage error, 3 unreadable or malformed input,\n"
               "            4 numerical failure, 5 internal error or out of memory,\n"
               "            6 fit stopped by SIGTERM/SIGINT with its checkpoint saved,\n"
               "            128+N killed by signal N (no partial output file is left)\n");
}

/* OpenBLAS picks its kernels when the library loads.  When it fell back to a
 * generic core (e.g. "Prescott" on a virtual machine) on a CPU that can run
 * far faster ones, and the user neither chose OPENBLAS_CORETYPE nor opted
 * out with EMGMM_NO_COREFIX=1, the tool re-executes itself once with the
 * right OPENBLAS_CORETYPE, before any work.  EMGMM_COREFIX_FROM records what
 * was detected, for `emgmm info` and `fit --progress` to report. */
static void blas_corefix(char **argv)
{
    if (getenv("OPENBLAS_CORETYPE") || getenv("EMGMM_COREFIX_FROM")) return;
    const char *off = getenv("EMGMM_NO_COREFIX");
    if (off && *off && strcmp(off, "0") != 0) return;
    const char *better = emgmm_blas_suggested_coretype();
    if (!better) return;
    if (setenv("OPENBLAS_CORETYPE", better, 1) != 0) return;
    if (setenv("EMGMM_COREFIX_FROM", emgmm_blas_corename(), 1) != 0) {
        unsetenv("OPENBLAS_CORETYPE");
        return;
    }
    execv("/proc/self/exe", argv);
    /* exec failed: carry on with the kernels we have (the warning says so) */
    unsetenv("OPENBLAS_CORETYPE");
    unsetenv("EMGMM_COREFIX_FROM");
}

static int run(int argc, char **argv);

/* A fatal signal removes the temporaries of the outputs being written, then
 * ends the process as the signal would have (`fit` installs its own handler,
 * which saves a checkpoint first).  SIGXFSZ (a file-size limit, ulimit -f)
 * is ignored so that the write fails with EFBIG and takes its error path,
 * which removes the temporary and says so. */
static void on_fatal(int sig)
{
    emgmm_io_out_remove_temps();
    signal(sig, SIG_DFL);
    raise(sig);
}

static void install_signals(void)
{
    static const int fatal[] = {SIGTERM, SIGINT, SIGHUP, SIGPIPE};
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_fatal;
    sigemptyset(&sa.sa_mask);
    for (size_t i = 0; i < sizeof fatal / sizeof fatal[0]; i++) {
        struct sigaction old;
        /* keep a signal that the caller set to be ignored (nohup) ignored */
        if (sigaction(fatal[i], NULL, &old) == 0 && old.sa_handler == SIG_IGN) continue;
        sigaction(fatal[i], &sa, NULL);
    }
    signal(SIGXFSZ, SIG_IGN);
}

int main(int argc, char **argv)
{
    blas_corefix(argv);
    /* MPI starts after the core fix (which may re-execute the tool) and only
     * under a launcher; every command's exit code passes through finalize. */
    glue_init(&argc, &argv);
    install_signals();
    int rc = run(argc, argv);
    glue_finalize(rc);
    return rc;
}

static int run(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return CLI_USAGE;
    }
    const char *cmd = argv[1];
    if (!strcmp(cmd, "--help") || !strcmp(cmd, "-h") || !strcmp(cmd, "help")) {
        usage(stdout);
        return CLI_OK;
    }
    if (!strcmp(cmd, "--version") || !strcmp(cmd, "-V")) {
        printf("emgmm %s\n", emgmm_version_string());
        return CLI_OK;
    }
    if (glue_size() > 1 && strcmp(cmd, "fit") != 0 && strcmp(cmd, "predict") != 0 &&
        strcmp(cmd, "score") != 0 && strcmp(cmd, "select") != 0)
        return cli_fail(CLI_USAGE,
                        "%s does not run with %d MPI ranks; fit, predict, score and select are "
                        "distributed",
                        cmd, glue_size());
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (!strcmp(cmd, commands[i].name)) return commands[i].run(argc - 1, argv + 1);
    return cli_fail(CLI_USAGE, "unknown command '%s' (see 'emgmm --help')", cmd);
}
