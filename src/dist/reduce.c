/* reduce.c — the reduction seam: per-thread partial statistics are summed in a
 * fixed (thread) order, so a fit is bitwise reproducible for a thread count.
 * A distributed fit then all-reduces the sum over ranks (comm.c). */
#include <string.h>

#include "src/dist/dist.h"

void emgmm_reduce_stats(emgmm_stats *out, emgmm_stats *const *parts, int n_parts)
{
    emgmm_stats_zero(out);
    for (int t = 0; t < n_parts; t++) emgmm_stats_add(out, parts[t]);
}

void emgmm_reduce_doubles(double *out, const double *parts, int n_parts, size_t len)
{
    memset(out, 0, len * sizeof(double));
    for (int t = 0; t < n_parts; t++)
        for (size_t i = 0; i < len; i++) out[i] += parts[(size_t)t * len + i];
}
