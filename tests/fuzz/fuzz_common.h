/* fuzz_common.h — helpers shared by the libFuzzer targets of tests/fuzz: the checks every
 * reader's result must pass (a failure is one printable line with nothing left allocated; a
 * success is a consistent matrix), and an in-memory file for the path-based readers. */
#ifndef EMGMM_FUZZ_COMMON_H
#define EMGMM_FUZZ_COMMON_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* memfd_create */
#endif
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "emgmm_io.h"

/* abort() rather than assert(): the checks must also hold in release builds of the replay. */
#define FUZZ_CHECK(cond)                                                                           \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "fuzz check failed: %s (%s:%d)\n", #cond, __FILE__, __LINE__);         \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

/* The CLI prints these messages as "emgmm: MSG" on one line: no control bytes, not empty. */
static inline void fuzz_check_error(const emgmm_io_error *err)
{
    FUZZ_CHECK(err->code == EMGMM_IO_EINPUT || err->code == EMGMM_IO_EUSAGE ||
               err->code == EMGMM_IO_ENOMEM);
    size_t len = strnlen(err->msg, sizeof err->msg);
    FUZZ_CHECK(len > 0 && len < sizeof err->msg);
    /* Set while fuzzing on past a reported message finding, so it does not stop every run. */
    static int lax = -1;
    if (lax < 0) lax = getenv("EMGMM_FUZZ_LAX_MESSAGES") != NULL;
    if (lax) return;
    for (size_t i = 0; i < len; i++) {
        if ((unsigned char)err->msg[i] < 0x20) {
            fprintf(stderr, "error message has control byte 0x%02x at %zu: %s\n",
                    (unsigned char)err->msg[i], i, err->msg);
            abort();
        }
    }
}

/* A failed read leaves the matrix empty; a successful one is n×d with every value
 * readable (touching them lets ASan or a SIGSEGV catch a short mapping). */
static inline void fuzz_check_matrix(int rc, const emgmm_io_matrix *m, const emgmm_io_error *err,
                                     int want_dtype, int require_finite)
{
    if (rc != 0) {
        FUZZ_CHECK(m->x == NULL && m->owned == NULL && m->map == NULL);
        fuzz_check_error(err);
        return;
    }
    FUZZ_CHECK(m->x != NULL && m->n > 0 && m->d > 0);
    FUZZ_CHECK((m->owned != NULL) != (m->map != NULL));
    if (want_dtype != EMGMM_IO_DTYPE_NATURAL) FUZZ_CHECK((int)m->dtype == want_dtype);
    FUZZ_CHECK(m->n <= SIZE_MAX / m->d);
    size_t count = m->n * m->d;
    volatile double sink = 0;
    for (size_t i = 0; i < count; i++) {
        double v =
            m->dtype == EMGMM_F32 ? (double)((const float *)m->x)[i] : ((const double *)m->x)[i];
        if (require_finite) FUZZ_CHECK(isfinite(v));
        sink += v;
    }
    (void)sink;
}

/* The .npy and raw readers take a path: an anonymous memory file (memfd) reopened through
 * /proc/self/fd stands in for one, so each input costs no file-system work. */
static int fuzz_memfd = -1;
static char fuzz_memfd_path[64];

static inline const char *fuzz_file(const uint8_t *data, size_t size)
{
    if (fuzz_memfd < 0) {
        fuzz_memfd = memfd_create("emgmm-fuzz", 0);
        if (fuzz_memfd < 0) {
            perror("memfd_create");
            abort();
        }
        snprintf(fuzz_memfd_path, sizeof fuzz_memfd_path, "/proc/self/fd/%d", fuzz_memfd);
    }
    if (ftruncate(fuzz_memfd, 0) != 0 || ftruncate(fuzz_memfd, (off_t)size) != 0) {
        perror("ftruncate");
        abort();
    }
    size_t done = 0;
    while (done < size) {
        ssize_t w = pwrite(fuzz_memfd, data + done, size - done, (off_t)done);
        if (w <= 0) {
            perror("pwrite");
            abort();
        }
        done += (size_t)w;
    }
    return fuzz_memfd_path;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#endif
