/* cmd_plot.c — `emgmm plot KIND ...`: the pictures of the Python package's
 * emgmm.plot (density, clusters, uncertainty, bic, convergence), drawn by
 * matplotlib.  The tool draws nothing itself: it replaces itself (execv) with
 * `python3 -m emgmm plot ...` given the same arguments, so the options, the
 * one-line errors and the exit codes are exactly those of the Python command
 * (docs/cli.md).  The interpreter is /usr/bin/python3, or $EMGMM_PYTHON.  Run
 * from a build tree (build/tools/emgmm), the package built beside it
 * (build/python/emgmm) is put first on PYTHONPATH. */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

/* `python3 -c BOOT plot ARGS...`: as `-m emgmm plot`, but a package that does
 * not import (not built, numpy missing) is one line and exit 5, not a
 * traceback. */
static const char boot[] =
    "import sys\n"
    "try:\n"
    "    from emgmm.__main__ import main\n"
    "except ImportError as e:\n"
    "    sys.stderr.write('emgmm: plot: the emgmm Python package cannot be imported (%s); '\n"
    "                     'build it (meson, with python3-dev and python3-numpy) or set "
    "PYTHONPATH\\n' % ' '.join(str(e).split()))\n"
    "    sys.exit(5)\n"
    "sys.exit(main(sys.argv[1:]))\n";

/* The build tree's package directory (<dir of the executable>/../python), when
 * it holds emgmm/__init__.py, prepended to PYTHONPATH. */
static int add_build_tree_path(void)
{
    char exe[PATH_MAX], dir[PATH_MAX + 32], probe[PATH_MAX + 64];
    ssize_t len = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (len <= 0) return 0;
    exe[len] = '\0';
    char *slash = strrchr(exe, '/');
    if (!slash) return 0;
    *slash = '\0';
    snprintf(dir, sizeof dir, "%s/../python", exe);
    snprintf(probe, sizeof probe, "%s/emgmm/__init__.py", dir);
    if (access(probe, R_OK) != 0) return 0;
    const char *old = getenv("PYTHONPATH");
    if (!old || !*old) return setenv("PYTHONPATH", dir, 1);
    size_t n = strlen(dir) + strlen(old) + 2;
    char *both = malloc(n);
    if (!both) return -1;
    snprintf(both, n, "%s:%s", dir, old);
    int rc = setenv("PYTHONPATH", both, 1);
    free(both);
    return rc;
}

int cmd_plot(int argc, char **argv)
{
    const char *py = getenv("EMGMM_PYTHON");
    if (!py || !*py) py = "/usr/bin/python3";
    char **args = malloc(((size_t)argc + 4) * sizeof *args);
    if (!args || add_build_tree_path() != 0) {
        free(args);
        return cli_fail(CLI_INTERNAL, "plot: out of memory");
    }
    int n = 0;
    args[n++] = (char *)py;
    args[n++] = "-c";
    args[n++] = (char *)boot;
    args[n++] = "plot";
    for (int i = 1; i < argc; i++) args[n++] = argv[i];
    args[n] = NULL;
    fflush(stdout);
    fflush(stderr);
    execv(py, args);
    int err = errno;
    free(args);
    return cli_fail(CLI_INTERNAL,
                    "plot: cannot run %s: %s (the pictures need Python 3 with numpy and "
                    "matplotlib; EMGMM_PYTHON names another interpreter)",
                    py, strerror(err));
}
