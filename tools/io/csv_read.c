/* csv_read.c — the CSV/TSV reader: delimiter and header detection, BOM, CRLF,
 * comment lines, and an exact number parser: up to 19 digits with |e| <= 22 are
 * rounded exactly (Clinger's case, else 128-bit integers), the rest by strtod. */
#include <stdarg.h>
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "emgmm_io.h"
#include "io_internal.h"

#if FLT_EVAL_METHOD != 0
#error "the exact fast path needs plain double evaluation (FLT_EVAL_METHOD == 0)"
#endif

/* Powers of ten that are exact doubles: 10^22 < 2^53 · 2^22 keeps them exact. */
static const double pow10_exact[23] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                       1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                       1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

/* Blanks around fields are ignored, except the one that is the delimiter. */
static inline int skippable(char ch, char delim)
{
    if (delim == ' ') return ch == ' ' || ch == '\t';
    return (ch == ' ' || ch == '\t') && ch != delim;
}

static inline int is_stop(char c, const char *stop)
{
    for (; *stop; stop++)
        if (c == *stop) return 1;
    return 0;
}

__extension__ typedef unsigned __int128 u128;

/* Powers of five below 2^52: 10^k = 5^k·2^k, and the 2^k is an exact scaling. */
static const uint64_t pow5[23] = {1ull,
                                  5ull,
                                  25ull,
                                  125ull,
                                  625ull,
                                  3125ull,
                                  15625ull,
                                  78125ull,
                                  390625ull,
                                  1953125ull,
                                  9765625ull,
                                  48828125ull,
                                  244140625ull,
                                  1220703125ull,
                                  6103515625ull,
                                  30517578125ull,
                                  152587890625ull,
                                  762939453125ull,
                                  3814697265625ull,
                                  19073486328125ull,
                                  95367431640625ull,
                                  476837158203125ull,
                                  2384185791015625ull};

/* (n + f)·2^bexp rounded to nearest-even, where 0 <= f < 1 and STICKY says
 * f > 0.  N has more than 53 significant bits whenever STICKY is set, so the
 * rounding position lies inside n and f only breaks ties. */
static double round_u128(u128 n, int sticky, int bexp)
{
    uint64_t hi = (uint64_t)(n >> 64), lo = (uint64_t)n;
    int bits = hi ? 128 - __builtin_clzll(hi) : 64 - __builtin_clzll(lo);
    if (bits <= 53) return ldexp((double)lo, bexp);
    int shift = bits - 53;
    uint64_t mant = (uint64_t)(n >> shift);
    u128 rem = n & (((u128)1 << shift) - 1), half = (u128)1 << (shift - 1);
    if (rem > half || (rem == half && (sticky || (mant & 1)))) mant++;
    if (mant >> 53) {
        mant >>= 1;
        shift++;
    }
    return ldexp((double)mant, shift + bexp);
}

/* m·10^e exactly rounded for 2^53 < m < 2^64 and |e| <= 22, in integers:
 * m·5^e fits 128 bits; for e < 0, (m·2^64) / 5^-e leaves a quotient of over
 * 64 bits and a remainder that only decides the sticky bit. */
static double wide_decimal(uint64_t m, int e10)
{
    if (e10 >= 0) return round_u128((u128)m * pow5[e10], 0, e10);
    u128 num = (u128)m << 64;
    uint64_t d = pow5[-e10];
    return round_u128(num / d, num % d != 0, e10 - 64);
}

/* Decimal m·10^e with m ≤ 2^53 and |e| ≤ 22: both operands are exact doubles,
 * so one IEEE multiply or divide rounds the true value once, exactly as a
 * correctly rounded strtod does; up to 19 digits go through wide_decimal.
 * Returns NULL when neither applies. */
static inline const char *parse_fast(const char *p, const char *end, double *out)
{
    int neg = 0;
    if (p < end && (*p == '-' || *p == '+')) {
        neg = *p == '-';
        p++;
    }
    uint64_t m = 0;
    int nd = 0, e10 = 0, any = 0;
    while (p < end && (unsigned)(*p - '0') < 10) {
        any = 1;
        if (m != 0 || *p != '0') {
            if (nd == 19) return NULL;
            m = m * 10 + (uint64_t)(*p - '0');
            nd++;
        }
        p++;
    }
    if (p < end && *p == '.') {
        p++;
        while (p < end && (unsigned)(*p - '0') < 10) {
            any = 1;
            if (m != 0 || *p != '0') {
                if (nd == 19) return NULL;
                m = m * 10 + (uint64_t)(*p - '0');
                nd++;
            }
            e10--;
            p++;
        }
    }
    if (!any) return NULL;
    if (p < end && (*p == 'e' || *p == 'E')) {
        p++;
        int eneg = 0;
        if (p < end && (*p == '-' || *p == '+')) {
            eneg = *p == '-';
            p++;
        }
        if (p >= end || (unsigned)(*p - '0') >= 10) return NULL;
        int ev = 0;
        while (p < end && (unsigned)(*p - '0') < 10) {
            if (ev > 10000) return NULL;
            ev = ev * 10 + (*p - '0');
            p++;
        }
        e10 += eneg ? -ev : ev;
    }
    double v;
    if (m == 0) {
        v = 0.0;
    } else {
        if (e10 < -22 || e10 > 22) return NULL;
        if (m > (UINT64_C(1) << 53)) {
            v = wide_decimal(m, e10);
        } else {
            v = (double)m;
            v = e10 < 0 ? v / pow10_exact[-e10] : v * pow10_exact[e10];
        }
    }
    *out = neg ? -v : v;
    return p;
}

/* Everything the fast path declines: strtod on a terminated copy of the field. */
static __attribute__((noinline)) const char *parse_slow(const char *s, const char *end,
                                                        const char *stop, double *out)
{
    const char *fe = s;
    while (fe < end && !is_stop(*fe, stop)) fe++;
    size_t len = (size_t)(fe - s);
    if (len == 0) return NULL;
    char small[128];
    char *buf = len < sizeof small ? small : malloc(len + 1);
    if (!buf) return NULL;
    memcpy(buf, s, len);
    buf[len] = 0;
    char *ep;
    double v = strtod(buf, &ep);
    int ok = ep == buf + len && (unsigned char)buf[0] > ' ';
    if (buf != small) free(buf);
    if (!ok) return NULL;
    *out = v;
    return fe;
}

const char *emgmm_io_parse_double(const char *s, const char *end, const char *stop, double *out)
{
    const char *q = parse_fast(s, end, out);
    if (q && (q == end || is_stop(*q, stop))) return q;
    return parse_slow(s, end, stop, out);
}

/* ------------------------------------------------------------------------ */

typedef struct {
    const char *name;
    int dtype;
    char delim;
    char *vals;
    size_t len, cap; /* in elements */
    size_t esize;
    int missing; /* opts->missing: NaN, NA, N/A and empty fields are NaN */
    emgmm_io_error *err;
} csv_ctx;

enum {
    ROW_OK = 0,
    ROW_FAIL = 1
};

/* What went wrong in a row, for the caller to word (or, for a first row, to
 * decide it is a header). */
typedef struct {
    enum {
        F_NONE,
        F_EMPTY,
        F_NONNUM,
        F_NONFINITE,
        F_F32_RANGE,
        F_TOO_MANY,
        F_TOO_FEW,
        F_NOMEM
    } kind;
    size_t field; /* 1-based */
    size_t col;   /* 1-based byte column */
    const char *text;
    size_t text_len;
    size_t nfields;
} row_fail;

static int push(csv_ctx *c, double v)
{
    if (c->len == c->cap) {
        size_t ncap = c->cap ? c->cap * 2 : 4096;
        if (ncap > SIZE_MAX / c->esize) return -1;
        char *nv = realloc(c->vals, ncap * c->esize);
        if (!nv) return -1;
        c->vals = nv;
        c->cap = ncap;
    }
    if (c->dtype == EMGMM_F32)
        ((float *)c->vals)[c->len++] = (float)v;
    else
        ((double *)c->vals)[c->len++] = v;
    return 0;
}

/* After a value that ends at Q: *P past the blanks that follow; Q, or NULL when
 * something other than the delimiter follows inside the field ("1.5 2" inside
 * one comma field). */
static inline const char *field_end(const char *q, const char *le, char delim, const char **p)
{
    const char *r = q;
    while (r < le && skippable(*r, delim)) r++;
    *p = r;
    return delim != ' ' && r < le && *r != delim ? NULL : q;
}

/* NA or N/A, any case: a missing value (NaN itself parses as a number). */
static inline int is_na(const char *fs, size_t tl)
{
    return (tl == 2 && (fs[0] | 32) == 'n' && (fs[1] | 32) == 'a') ||
           (tl == 3 && (fs[0] | 32) == 'n' && fs[1] == '/' && (fs[2] | 32) == 'a');
}

/* The number in the non-empty field at FS, in *V: the end of its text, with
 * *P past the blanks after it, or NULL when the field is not a number. */
static inline const char *parse_value(const csv_ctx *c, const char *fs, const char *le,
                                      const char *stop, double *v, const char **p)
{
    const char delim = c->delim;
    const char *q;
    if (*fs == '"') {
        /* A quoted number (pandas' QUOTE_ALL) is the number inside. */
        const char *cq = memchr(fs + 1, '"', (size_t)(le - fs - 1));
        q = cq && emgmm_io_parse_double(fs + 1, cq, "", v) ? cq + 1 : NULL;
    } else {
        q = parse_fast(fs, le, v);
        if (!q || (q < le && *q != delim && *q != ' ' && *q != '\t'))
            q = parse_slow(fs, le, stop, v);
    }
    if (q) q = field_end(q, le, delim, p);
    if (!q && c->missing) {
        const char *fe = fs;
        while (fe < le && *fe != delim && *fe != ' ' && *fe != '\t') fe++;
        if (is_na(fs, (size_t)(fe - fs))) {
            *v = NAN;
            q = field_end(fe, le, delim, p);
        }
    }
    return q;
}

/* The field at FS is not a number: its text, without trailing blanks, for the message. */
static int fail_nonnum(const char *fs, const char *le, char delim, row_fail *f)
{
    const char *fe = fs;
    while (fe < le && *fe != delim) fe++;
    if (delim == ' ')
        for (fe = fs; fe < le && *fe != ' ' && *fe != '\t'; fe++)
            ;
    while (fe > fs && (fe[-1] == ' ' || fe[-1] == '\t')) fe--;
    f->kind = F_NONNUM;
    f->text = fs;
    f->text_len = (size_t)(fe - fs);
    return ROW_FAIL;
}

/* Parses the fields of [ls, le) into c; EXPECT = 0 accepts any count.  ROW_OK,
 * or ROW_FAIL with what went wrong in *F. */
static int parse_row(csv_ctx *c, const char *ls, const char *le, size_t expect, row_fail *f)
{
    const char delim = c->delim;
    const char stop_ws[3] = {' ', '\t', 0};
    const char stop_d[4] = {delim, ' ', '\t', 0};
    const char *stop = delim == ' ' ? stop_ws : stop_d;
    const char *p = ls;
    size_t field = 0;
    f->kind = F_NONE;
    f->nfields = 0;
    for (;;) {
        while (p < le && skippable(*p, delim)) p++;
        if (delim == ' ' && p == le) break;
        const char *fs = p;
        field++;
        f->field = field;
        f->col = (size_t)(fs - ls) + 1;
        if (expect && field > expect) {
            f->kind = F_TOO_MANY;
            return ROW_FAIL;
        }
        if (p == le || *p == delim) {
            if (!c->missing) {
                f->kind = F_EMPTY;
                return ROW_FAIL;
            }
            if (push(c, NAN) != 0) { /* an empty field is a missing value */
                f->kind = F_NOMEM;
                return ROW_FAIL;
            }
            if (p == le) break;
            p++;
            continue;
        }
        double v;
        const char *q = parse_value(c, fs, le, stop, &v, &p);
        if (!q) return fail_nonnum(fs, le, delim, f);
        /* With --dtype float32 a finite double beyond FLT_MAX would be stored as inf. */
        if ((!isfinite(v) && !(c->missing && isnan(v))) ||
            (c->dtype == EMGMM_F32 && isinf((float)v))) {
            f->kind = isfinite(v) ? F_F32_RANGE : F_NONFINITE;
            f->text = fs;
            f->text_len = (size_t)(q - fs);
            return ROW_FAIL;
        }
        if (push(c, v) != 0) {
            f->kind = F_NOMEM;
            return ROW_FAIL;
        }
        if (delim == ' ') continue;
        if (p == le) break;
        p++; /* the delimiter */
    }
    f->nfields = field;
    if (expect && field < expect) {
        f->kind = F_TOO_FEW;
        f->col = (size_t)(le - ls) + 1;
        return ROW_FAIL;
    }
    return ROW_OK;
}

/* The offending text, made printable and cut short for the message. */
static void quote_text(char *dst, size_t size, const char *s, size_t n)
{
    size_t j = 0;
    for (size_t i = 0; i < n && j + 5 < size; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (i == 40) {
            memcpy(dst + j, "...", 3);
            j += 3;
            break;
        }
        dst[j++] = (ch >= 0x20 && ch < 0x7f) ? (char)ch : '?';
    }
    dst[j] = 0;
}

/* "0,637", "-12,5e3": a number written with a decimal comma. */
static int decimal_comma(const char *t)
{
    const char *comma = strchr(t, ',');
    if (!comma || strchr(comma + 1, ',')) return 0;
    size_t lead = 0, trail = 0;
    const char *p = t;
    if (*p == '-' || *p == '+') p++;
    for (; p < comma; p++, lead++)
        if (*p < '0' || *p > '9') return 0;
    for (p = comma + 1; *p >= '0' && *p <= '9'; p++) trail++;
    return lead > 0 && trail > 0 && (*p == 0 || *p == 'e' || *p == 'E');
}

static void report(csv_ctx *c, const row_fail *f, size_t line, size_t expect, int from_header)
{
    const char *by = from_header ? " (as the header)" : "";
    char t[64];
    const char *nm = c->name;
    switch (f->kind) {
    case F_EMPTY:
        emgmm_io_error_set(c->err, EMGMM_IO_EINPUT,
                           "empty field %zu (%s:%zu:%zu); --missing nan reads it as missing",
                           f->field, nm, line, f->col);
        break;
    case F_NONNUM:
        quote_text(t, sizeof t, f->text, f->text_len);
        emgmm_io_error_set(
            c->err, EMGMM_IO_EINPUT, "non-numeric value '%s' in field %zu (%s:%zu:%zu)%s", t,
            f->field, nm, line, f->col,
            !strcasecmp(t, "na") || !strcasecmp(t, "n/a") ? "; --missing nan reads it as missing"
            : decimal_comma(t) ? "; decimal commas are not read: write the "
                                 "decimal mark as '.'"
                               : "");
        break;
    case F_NONFINITE:
        quote_text(t, sizeof t, f->text, f->text_len);
        emgmm_io_error_set(
            c->err, EMGMM_IO_EINPUT, "non-finite value '%s' in field %zu (%s:%zu:%zu)%s", t,
            f->field, nm, line, f->col,
            strpbrk(t, "nN") && !strpbrk(t, "iI") ? "; --missing nan reads NaN as missing" : "");
        break;
    case F_F32_RANGE:
        quote_text(t, sizeof t, f->text, f->text_len);
        emgmm_io_error_set(c->err, EMGMM_IO_EINPUT,
                           "value '%s' in field %zu overflows float32 (%s:%zu:%zu)", t, f->field,
                           nm, line, f->col);
        break;
    case F_TOO_MANY:
        emgmm_io_error_set(c->err, EMGMM_IO_EINPUT,
                           "ragged row: more than %zu fields%s (%s:%zu:%zu)", expect, by, nm, line,
                           f->col);
        break;
    case F_TOO_FEW:
        emgmm_io_error_set(c->err, EMGMM_IO_EINPUT,
                           "ragged row: %zu fields, expected %zu%s (%s:%zu:%zu)", f->nfields,
                           expect, by, nm, line, f->col);
        break;
    default: emgmm_io_error_set(c->err, EMGMM_IO_ENOMEM, "out of memory reading %s", nm); break;
    }
}

/* Header fields may be quoted ("a,b" with "" for a quote); numbers never are. */
static size_t count_header_fields(const char *ls, const char *le, char delim)
{
    size_t n = 0;
    const char *p = ls;
    for (;;) {
        while (p < le && skippable(*p, delim)) p++;
        if (delim == ' ' && p == le) break;
        n++;
        if (p < le && *p == '"') {
            for (p++; p < le; p++) {
                if (*p == '"') {
                    if (p + 1 < le && p[1] == '"')
                        p++;
                    else {
                        p++;
                        break;
                    }
                }
            }
        }
        if (delim == ' ') {
            while (p < le && *p != ' ' && *p != '\t') p++;
            continue;
        }
        while (p < le && *p != delim) p++;
        if (p == le) break;
        p++;
    }
    return n;
}

/* A first row is a header when none of its fields is a number (empty fields
 * allowed, as in pandas' index column), so one corrupt data row is reported,
 * never silently dropped. */
static int looks_like_header(const char *ls, const char *le, char delim)
{
    const char *p = ls;
    int any_text = 0;
    while (p <= le) {
        const char *fe = p;
        if (delim == ' ') {
            while (p < le && (*p == ' ' || *p == '\t')) p++;
            if (p == le) break;
            for (fe = p; fe < le && *fe != ' ' && *fe != '\t'; fe++)
                ;
        } else {
            while (fe < le && *fe != delim) fe++;
        }
        const char *a = p, *b = fe;
        while (a < b && (*a == ' ' || *a == '\t')) a++;
        while (b > a && (b[-1] == ' ' || b[-1] == '\t')) b--;
        if (b - a >= 2 && *a == '"' && b[-1] == '"') {
            a++;
            b--;
        }
        if (a < b) {
            double v;
            if (emgmm_io_parse_double(a, b, "", &v)) return 0;
            any_text = 1;
        }
        if (fe == le) break;
        p = fe + 1;
    }
    return any_text;
}

static char detect_delim(const char *ls, const char *le)
{
    size_t n = (size_t)(le - ls);
    if (memchr(ls, '\t', n)) return '\t';
    if (memchr(ls, ';', n)) return ';';
    if (memchr(ls, ',', n)) return ',';
    return ' ';
}

static int blank(const char *ls, const char *le)
{
    for (; ls < le; ls++)
        if (*ls != ' ' && *ls != '\t') return 0;
    return 1;
}

/* The next line of [*p, end) into [*ls, *le), without its "\n" or "\r\n"; *p moves past it. */
static void next_line(const char **p, const char *end, const char **ls, const char **le)
{
    const char *nl = memchr(*p, '\n', (size_t)(end - *p));
    *ls = *p;
    *le = nl ? nl : end;
    *p = nl ? nl + 1 : end;
    if (*le > *ls && (*le)[-1] == '\r') (*le)--;
}

/* A line whose first non-blank character is '#'. */
static int comment(const char *ls, const char *le)
{
    while (ls < le && (*ls == ' ' || *ls == '\t')) ls++;
    return *ls == '#';
}

/* A row parser for NAME with the options' working type and missing-value rule. */
static csv_ctx ctx_for(const char *name, const emgmm_io_read_opts *opts, char delim,
                       emgmm_io_error *err)
{
    csv_ctx c = {0};
    c.name = name;
    c.err = err;
    c.dtype = opts->dtype == EMGMM_F32 ? EMGMM_F32 : EMGMM_F64;
    c.esize = c.dtype == EMGMM_F32 ? sizeof(float) : sizeof(double);
    c.delim = delim;
    c.missing = opts->missing;
    return c;
}

/* The first line that is neither blank nor a comment fixes the delimiter, the
 * header and the column count; the data start after the header, or at that
 * line when it is a row (parsed here once, for its field count). */
static int csv_probe(const char *buf, size_t len, const char *name, const emgmm_io_read_opts *opts,
                     emgmm_io_csv_layout *lay, emgmm_io_error *err)
{
    memset(lay, 0, sizeof *lay);
    const char *p = buf, *end = buf + len;
    if (len >= 3 && !memcmp(p, "\xEF\xBB\xBF", 3)) p += 3;
    size_t line = 0;
    while (p < end) {
        const char *ls, *le;
        next_line(&p, end, &ls, &le);
        line++;
        if (blank(ls, le) || comment(ls, le)) continue;
        lay->delim = opts->delimiter ? opts->delimiter : detect_delim(ls, le);
        if (opts->header == 1 || (opts->header < 0 && looks_like_header(ls, le, lay->delim))) {
            lay->header = 1;
            lay->header_start = (size_t)(ls - buf);
            lay->header_len = (size_t)(le - ls);
            lay->d = count_header_fields(ls, le, lay->delim);
            lay->data_start = (size_t)(p - buf);
            lay->data_line = line + 1;
            return 0;
        }
        csv_ctx c = ctx_for(name, opts, lay->delim, err);
        row_fail f;
        int bad = parse_row(&c, ls, le, 0, &f) != ROW_OK;
        if (bad) report(&c, &f, line, 0, 0);
        lay->d = c.len;
        free(c.vals);
        if (bad) return -1;
        lay->data_start = (size_t)(ls - buf);
        lay->data_line = line;
        return 0;
    }
    emgmm_io_error_set(err, EMGMM_IO_EINPUT, "%s is empty: no data rows", name);
    return -1;
}

/* Room for est rows of d values, which the first row's length predicts, so that the growth
 * rarely copies (a failed reservation leaves the growth to push). */
static void reserve_rows(csv_ctx *c, size_t d, size_t est)
{
    if (d && est < SIZE_MAX / c->esize / d / 2 && est * d > c->cap) {
        char *nv = realloc(c->vals, est * d * c->esize);
        if (nv) {
            c->vals = nv;
            c->cap = est * d;
        }
    }
}

/* Parses the lines of [begin, end), which start at line LINE0 and lie in the
 * data part of LAY's file.  A blank line is only allowed where no data row
 * follows; info->first_blank lets the caller apply that across parts. */
static int csv_read_lines(const char *buf, size_t begin, size_t end_off, size_t line0,
                          const char *name, const emgmm_io_read_opts *opts,
                          const emgmm_io_csv_layout *lay, emgmm_io_matrix *out,
                          emgmm_io_csv_range_info *info, emgmm_io_error *err)
{
    memset(out, 0, sizeof *out);
    memset(info, 0, sizeof *info);
    csv_ctx c = ctx_for(name, opts, lay->delim, err);
    const size_t d = lay->d;
    const char *p = buf + begin, *end = buf + end_off;
    size_t line = line0 - 1, n = 0;
    size_t pending_blank = 0; /* a blank line is only allowed at the end */
    while (p < end) {
        const char *ls, *le;
        next_line(&p, end, &ls, &le);
        line++;
        if (blank(ls, le)) {
            if (!pending_blank) pending_blank = line;
            continue;
        }
        if (comment(ls, le)) continue;
        info->has_content = 1;
        if (pending_blank) {
            emgmm_io_csv_blank_error(name, pending_blank, err);
            goto fail;
        }
        row_fail f;
        if (parse_row(&c, ls, le, d, &f) != ROW_OK) {
            report(&c, &f, line, d, lay->header);
            goto fail;
        }
        if (n == 0) reserve_rows(&c, d, (size_t)(end - ls) / (size_t)(p - ls) + 16);
        n++;
    }
    info->first_blank = pending_blank;
    /* Give back the slack of the doubling growth. */
    if (c.len) {
        char *shrunk = realloc(c.vals, c.len * c.esize);
        if (shrunk) c.vals = shrunk;
    }
    out->owned = c.vals;
    out->x = c.vals;
    out->dtype = (emgmm_dtype)c.dtype;
    out->n = n;
    out->d = d;
    return 0;
fail:
    info->failed = 1;
    free(c.vals);
    return -1;
}

void emgmm_io_csv_blank_error(const char *name, size_t line, emgmm_io_error *err)
{
    emgmm_io_error_set(err, EMGMM_IO_EINPUT, "empty line inside the data (%s:%zu:1)", name, line);
}

void emgmm_io_csv_no_rows_error(const char *name, emgmm_io_error *err)
{
    emgmm_io_error_set(err, EMGMM_IO_EINPUT, "%s has a header but no data rows", name);
}

/* Appends one warning line to m->warnings (dropped when out of memory). */
static void add_warning(emgmm_io_matrix *m, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void add_warning(emgmm_io_matrix *m, const char *fmt, ...)
{
    char line[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    size_t old = m->warnings ? strlen(m->warnings) : 0;
    char *w = realloc(m->warnings, old + strlen(line) + 2);
    if (!w) return;
    if (old) w[old++] = '\n';
    strcpy(w + old, line);
    m->warnings = w;
}

static int missing_word(const char *a, const char *b)
{
    size_t n = (size_t)(b - a);
    return (n == 2 && !strncasecmp(a, "na", 2)) || (n == 3 && !strncasecmp(a, "n/a", 3)) ||
           (n == 3 && !strncasecmp(a, "nan", 3));
}

/* What the reader accepts but a person may not have meant: a header made of
 * NA only (data without a header?), an empty first header field (pandas'
 * index column, read as a feature), and a column with no value on any row
 * (e.g. a delimiter at the end of every line). */
static void csv_warnings(const char *name, const emgmm_io_csv_layout *lay, const char *buf,
                         emgmm_io_matrix *m)
{
    if (lay->header && lay->delim != ' ') {
        const char *p = buf + lay->header_start, *le = p + lay->header_len;
        size_t fields = 0, na = 0, text = 0;
        int first_empty = 0;
        for (;;) {
            const char *fe = memchr(p, lay->delim, (size_t)(le - p));
            if (!fe) fe = le;
            const char *a = p, *b = fe;
            while (a < b && (*a == ' ' || *a == '\t')) a++;
            while (b > a && (b[-1] == ' ' || b[-1] == '\t')) b--;
            if (b - a >= 2 && *a == '"' && b[-1] == '"') {
                a++;
                b--;
            }
            if (fields == 0 && a == b) first_empty = 1;
            if (a < b) missing_word(a, b) ? na++ : text++;
            fields++;
            if (fe == le) break;
            p = fe + 1;
        }
        if (na > 0 && text == 0)
            add_warning(m,
                        "the first row of %s is read as a header, but it holds only missing "
                        "values (NA, NaN): if it is data, give --no-header",
                        name);
        else if (first_empty && fields > 1)
            add_warning(m,
                        "the first field of %s's header is empty, as in the index column "
                        "pandas writes: that column is read as feature 0 (write the file "
                        "with index=False if it is an index)",
                        name);
    }
    if (!m->x || m->n == 0) return;
    for (size_t j = 0; j < m->d; j++) {
        size_t i = 0;
        if (m->dtype == EMGMM_F32)
            while (i < m->n && isnan(((const float *)m->x)[i * m->d + j])) i++;
        else
            while (i < m->n && isnan(((const double *)m->x)[i * m->d + j])) i++;
        if (i == m->n) {
            add_warning(m,
                        "column %zu of %s has no value on any row%s: it is read as a feature "
                        "that is always missing",
                        j, name,
                        j + 1 == m->d && m->d > 1 ? " (a delimiter at the end of every line?)"
                                                  : "");
            break;
        }
    }
}

int emgmm_io_read_csv_buffer(const char *buf, size_t len, const char *name,
                             const emgmm_io_read_opts *opts, emgmm_io_matrix *out,
                             emgmm_io_error *err)
{
    memset(out, 0, sizeof *out);
    emgmm_io_csv_layout lay;
    emgmm_io_csv_range_info info;
    if (csv_probe(buf, len, name, opts, &lay, err) != 0 ||
        csv_read_lines(buf, lay.data_start, len, lay.data_line, name, opts, &lay, out, &info,
                       err) != 0)
        return -1;
    if (out->n == 0) {
        emgmm_io_csv_no_rows_error(name, err);
        emgmm_io_matrix_free(out);
        return -1;
    }
    out->delimiter = lay.delim;
    if (lay.header && !(out->header = strndup(buf + lay.header_start, lay.header_len))) {
        emgmm_io_error_set(err, EMGMM_IO_ENOMEM, "out of memory reading %s", name);
        emgmm_io_matrix_free(out);
        return -1;
    }
    csv_warnings(name, &lay, buf, out);
    return 0;
}

/* ------------------------------------------------------------------------ */
/* One part of a CSV file split over processes                              */
/* ------------------------------------------------------------------------ */
struct emgmm_io_csv_part {
    emgmm_io_blob blob;
    emgmm_io_read_opts opts;
    emgmm_io_csv_layout lay;
    const char *name;
    size_t begin, end; /* this part's bytes */
};

/* Start of part R of P: byte ⌊D·r/P⌋ of the D data bytes, moved forward to
 * the next line start (a part may be empty). */
static size_t part_start(const char *buf, size_t len, size_t data_start, int r, int P)
{
    if (r <= 0) return data_start;
    if (r >= P) return len;
    const size_t D = len - data_start;
    size_t off = data_start + (size_t)((u128)D * (unsigned)r / (unsigned)P);
    if (off <= data_start || buf[off - 1] == '\n') return off;
    const char *nl = memchr(buf + off, '\n', len - off);
    return nl ? (size_t)(nl - buf) + 1 : len;
}

int emgmm_io_csv_part_open(emgmm_io_csv_part **out, const char *path,
                           const emgmm_io_read_opts *opts, int part, int parts, emgmm_io_error *err)
{
    *out = NULL;
    emgmm_io_csv_part *cp = calloc(1, sizeof *cp);
    if (!cp) {
        emgmm_io_error_set(err, EMGMM_IO_ENOMEM, "out of memory reading %s", path);
        return -1;
    }
    cp->opts = *opts;
    cp->name = emgmm_io_display_name(path);
    if (emgmm_io_load_file(path, &cp->blob, err) != 0) {
        free(cp);
        return -1;
    }
    if (cp->blob.owned) {
        /* A pipe or device, read whole: the parts cannot each read their own. */
        emgmm_io_error_set(err, EMGMM_IO_EUSAGE, "%s is not a regular file, so it cannot be split",
                           cp->name);
        emgmm_io_csv_part_close(cp);
        return -1;
    }
    const char *buf = cp->blob.data;
    const size_t len = cp->blob.len;
    if (csv_probe(buf, len, cp->name, opts, &cp->lay, err) != 0) {
        emgmm_io_csv_part_close(cp);
        return -1;
    }
    cp->begin = part_start(buf, len, cp->lay.data_start, part, parts);
    cp->end = part_start(buf, len, cp->lay.data_start, part + 1, parts);
    *out = cp;
    return 0;
}

size_t emgmm_io_csv_part_lines(const emgmm_io_csv_part *cp)
{
    size_t n = 0;
    const char *p = cp->blob.data + cp->begin, *end = cp->blob.data + cp->end;
    while (p < end && (p = memchr(p, '\n', (size_t)(end - p))) != NULL) {
        n++;
        p++;
    }
    return n;
}

const char *emgmm_io_csv_part_name(const emgmm_io_csv_part *cp) { return cp->name; }

int emgmm_io_csv_part_read(emgmm_io_csv_part *cp, size_t lines_before, emgmm_io_matrix *out,
                           emgmm_io_csv_range_info *info, emgmm_io_error *err)
{
    return csv_read_lines(cp->blob.data, cp->begin, cp->end, cp->lay.data_line + lines_before,
                          cp->name, &cp->opts, &cp->lay, out, info, err);
}

void emgmm_io_csv_part_close(emgmm_io_csv_part *cp)
{
    if (!cp) return;
    emgmm_io_blob_free(&cp->blob);
    free(cp);
}

/* The exact fast path for other readers (the model JSON's arrays). */
const char *emgmm_io_decimal_fast(const char *p, const char *end, double *out)
{
    return parse_fast(p, end, out);
}
