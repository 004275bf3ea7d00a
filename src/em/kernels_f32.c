/* kernels_f32.c — the block pass's kernels for the float32 working type:
 * the templates kernels_impl.h and kernels_tri_impl.h compiled for float
 * (the one float/double convention, src/em/type_on.h, which names every
 * kernel: emgmm_quadform_f32, emgmm_mstat_f32, …). */
#include <stddef.h>
#include <string.h>

#include "src/em/kernels.h"

#define EMGMM_TYPE_F32
#include "src/em/type_on.h"
#include "src/em/kernels_impl.h"
#include "src/em/kernels_tri_impl.h"
#include "src/em/type_off.h"
