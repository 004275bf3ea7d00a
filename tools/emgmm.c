/* emgmm.c — the emgmm command-line tool's entry point: subcommand dispatch,
 * top-level --help and --version.  Each subcommand lives in cmd_<name>.c. */
#include <stdio.h>
#include <string.h>

#include "cli.h"

static const struct {
    const char *name;
    int (*run)(int, char **);
    const char *summary;
} commands[] = {
    {"fit", cmd_fit, "fit a Gaussian mixture to DATA and save the model"},
    {"predict", cmd_predict, "most probable component (or responsibilities) per row"},
    {"score", cmd_score, "mean (or per-sample) log-likelihood of DATA"},
    {"sample", cmd_sample, "draw points from a model"},
    {"select", cmd_select, "fit every K and covariance type, rank by BIC/AIC"},
    {"info", cmd_info, "version, build options, BLAS and threads"},
    {"demo", cmd_demo, "fit the built-in 1-D example (two Gaussians)"},
};

static void usage(FILE *f)
{
    fprintf(f, "usage: emgmm <command> [options]   (emgmm <command> --help for details)\n\n"
               "commands:\n");
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(f, "  %-8s %s\n", commands[i].name, commands[i].summary);
    fprintf(f, "\nexit codes: 0 success, 2 usage error, 3 unreadable or malformed input,\n"
               "            4 numerical failure, 5 internal error or out of memory\n");
}

int main(int argc, char **argv)
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
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (!strcmp(cmd, commands[i].name))
            return commands[i].run(argc - 1, argv + 1);
    return cli_fail(CLI_USAGE, "unknown command '%s' (see 'emgmm --help')", cmd);
}
