/* mem.c — zeroed allocation for the library's large arrays (K·d² covariances,
 * their factors and statistics).  A fresh allocation is mapped lazily, one
 * 4 KiB page fault per page on first touch; at d = 1024 a model's 134 MB is
 * 33,000 faults, which cost more than reading the model file.  Where the
 * kernel offers transparent huge pages on request (Linux's "madvise" mode),
 * an array of several MiB is aligned to 2 MiB and asked for huge pages, so
 * it faults in 2 MiB at a time.  Elsewhere this is calloc.  Either way the
 * memory is zeroed and released with free(). */
#define _DEFAULT_SOURCE 1 /* posix_memalign, madvise */
#include <stdlib.h>
#include <string.h>
#if defined(__linux__)
#include <sys/mman.h>
#endif

#include "src/base/base.h"

#define HUGE_ALIGN ((size_t)2 << 20)
/* Below this a huge page would be mostly padding. */
#define HUGE_MIN ((size_t)8 << 20)

void *emgmm_calloc_big(size_t n, size_t size)
{
    if (size && n > SIZE_MAX / size) return NULL;
    size_t bytes = n * size;
#if defined(__linux__) && defined(MADV_HUGEPAGE)
    if (bytes >= HUGE_MIN) {
        void *p = NULL;
        if (posix_memalign(&p, HUGE_ALIGN, bytes) != 0) return NULL;
        /* Advice only: if the kernel declines, the pages are small. */
        (void)madvise(p, bytes & ~(HUGE_ALIGN - 1), MADV_HUGEPAGE);
        memset(p, 0, bytes);
        return p;
    }
#endif
    return calloc(n, size);
}
