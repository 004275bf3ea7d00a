/* cmd_info.c — `emgmm info`: version, build options, the BLAS in use and the
 * threads, with the OPENBLAS_CORETYPE hint where OpenBLAS picked a slow core. */
#include <stdlib.h>
#include <string.h>

#include "cli.h"

int cmd_info(int argc, char **argv)
{
    if (argc > 1 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
        fputs("usage: emgmm info\nPrints the version, build options, BLAS and threads.\n", stdout);
        return CLI_OK;
    }
    if (argc > 1) return cli_fail(CLI_USAGE, "info: unexpected argument '%s'", argv[1]);
    const char *core = emgmm_blas_corename(), *cfg = emgmm_blas_config();
    printf("emgmm %s (compiled against %s)\n", emgmm_version_string(), EMGMM_VERSION_STRING);
    printf("openmp: %s\n", emgmm_have_openmp() ? "on" : "off");
#ifdef EMGMM_HAVE_MPI
    printf("mpi: on\n");
#else
    printf("mpi: off\n");
#endif
    printf("hdf5: %s\n", emgmm_io_h5_flavour());
    printf("threads: %d\n", emgmm_default_threads());
    printf("blas core: %s\n", core ? core : "unknown");
    printf("blas config: %s\n", cfg ? cfg : "unknown");
    printf("kernels: %s\n", emgmm_kernel_path());
    /* These two decide the speed; benchmark reports need them. */
    const char *ct = getenv("OPENBLAS_CORETYPE"), *omp = getenv("OMP_NUM_THREADS");
    printf("OPENBLAS_CORETYPE: %s\n", ct ? ct : "(unset)");
    printf("OMP_NUM_THREADS: %s\n", omp ? omp : "(unset)");
    cli_coretype_warning(stdout);
    return CLI_OK;
}
