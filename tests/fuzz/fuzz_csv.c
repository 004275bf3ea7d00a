/* fuzz_csv.c — libFuzzer target for the CSV reader (emgmm_io_read_csv_buffer) under five
 * option sets (two reading missing values), plus a differential check of emgmm_io_parse_double against strtod on the
 * input's first line (the reader promises exactly strtod's double). */
#include "fuzz_common.h"

static void read_with(const uint8_t *data, size_t size, int header, char delim, int dtype,
                      int missing)
{
    emgmm_io_read_opts o = emgmm_io_read_opts_default();
    o.missing = missing;
    o.format = EMGMM_IO_FMT_CSV;
    o.header = header;
    o.delimiter = delim;
    o.dtype = dtype;
    emgmm_io_matrix m;
    emgmm_io_error err;
    memset(&err, 0, sizeof err);
    int rc = emgmm_io_read_csv_buffer((const char *)data, size, "fuzz.csv", &o, &m, &err);
    /* Every stored value is finite, float32 included (a double past FLT_MAX is refused); with
     * missing values read, NaN too but never ±Inf. */
    fuzz_check_matrix(rc, &m, &err, dtype == EMGMM_IO_DTYPE_NATURAL ? EMGMM_F64 : dtype, !missing);
    if (rc == 0 && missing)
        for (size_t i = 0; i < m.n * m.d; i++) {
            const double v =
                m.dtype == EMGMM_F32 ? (double)((const float *)m.x)[i] : ((const double *)m.x)[i];
            FUZZ_CHECK(!isinf(v));
        }
    emgmm_io_matrix_free(&m);
}

/* The number parser on [s, s+len): when it accepts, strtod must read the same text to the
 * same bits. */
static void check_number(const char *s, size_t len)
{
    double v;
    const char *q = emgmm_io_parse_double(s, s + len, ",", &v);
    if (!q) return;
    FUZZ_CHECK(q > s && q <= s + len && (q == s + len || *q == ','));
    char buf[256];
    size_t n = (size_t)(q - s);
    if (n >= sizeof buf) return;
    memcpy(buf, s, n);
    buf[n] = 0;
    char *e;
    double w = strtod(buf, &e);
    if (e != buf + n || memcmp(&v, &w, sizeof v) != 0) {
        fprintf(stderr, "parse_double('%s') = %.17g, strtod = %.17g (consumed %zu of %zu)\n", buf,
                v, w, (size_t)(e - buf), n);
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    read_with(data, size, -1, 0, EMGMM_IO_DTYPE_NATURAL, 0);
    read_with(data, size, 1, ',', EMGMM_F32, 0);
    read_with(data, size, 0, ' ', EMGMM_F64, 0);
    read_with(data, size, -1, 0, EMGMM_IO_DTYPE_NATURAL, 1); /* NaN, NA, N/A, empty: missing */
    read_with(data, size, 1, ';', EMGMM_F32, 1);
    const char *nl = memchr(data, '\n', size);
    size_t first = nl ? (size_t)(nl - (const char *)data) : size;
    check_number((const char *)data, first < 200 ? first : 200);
    return 0;
}
