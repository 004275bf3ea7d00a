/* fakecore.c — an LD_PRELOAD shim for the core-fix test: while
 * OPENBLAS_CORETYPE is unset, OpenBLAS "detects" the generic Prescott core,
 * as it does on some virtual machines; once set, the real answer returns. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdlib.h>

char *openblas_get_corename(void)
{
    if (!getenv("OPENBLAS_CORETYPE")) return (char *)"Prescott";
    char *(*real)(void) = (char *(*)(void))dlsym(RTLD_NEXT, "openblas_get_corename");
    return real ? real() : (char *)"unknown";
}
