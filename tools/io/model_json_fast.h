/* model_json_fast.h — the model JSON read in one pass, straight into the
 * model's buffers, without jansson's tree for the big arrays (issue 22: the
 * tree of a d = 1024, K = 8 model took 3.9× the parameters' bytes and most of
 * 6 s).  Included once, by model_json.c, whose checks it shares.
 *
 * It takes the file as emgmm and every JSON library lay it out: one object
 * whose header fields (format, version, covariance_type, model, n_components,
 * n_features) come before the arrays.  weights, means and covariances are
 * parsed number by number (the JSON number grammar, then the CSV reader's
 * exact parser or strtod, which round exactly as jansson's strtod does) into
 * the model; the other members are
 * handed to jansson one by one (json_loadb of their text) and checked by the
 * same code as the tree path's.  Behind the cursor, the pages of a mapped file
 * are released every 16 MB, so the text never stays in memory whole.
 *
 * Anything else — a syntax error, a duplicate or escaped key, an array of the
 * wrong shape or with a non-finite or non-number entry, the header after the
 * arrays — is declined (FAST_DECLINED) before anything is said, and the tree
 * path reads the file again and words the error exactly as before.  Only a
 * file that parses completely reaches the value checks (weights summing to 1,
 * symmetry, positive variances, the fit report, the commit), which are the
 * tree path's own, in its order. */
#include <sys/mman.h>
#include <unistd.h>

enum {
    FAST_DECLINED = 1
};

typedef struct {
    const char *p, *end, *base;
    emgmm_io_blob *blob; /* the mapped file, whose pages behind p are released; or NULL */
    size_t released;
} fscan;

static void f_ws(fscan *s)
{
    while (s->p < s->end && (*s->p == ' ' || *s->p == '\n' || *s->p == '\r' || *s->p == '\t'))
        s->p++;
}

/* Clean pages of a private read-only mapping: dropped now, read again from the
 * file should the tree path need them. */
static void f_release(fscan *s)
{
    if (!s->blob) return;
    const size_t done = (size_t)(s->p - s->base);
    if (done - s->released < ((size_t)16 << 20)) return;
    const size_t pg = (size_t)sysconf(_SC_PAGESIZE), to = done / pg * pg;
    if (to > s->released) {
        madvise((char *)s->base + s->released, to - s->released, MADV_DONTNEED);
        s->released = to;
    }
}

/* A key of plain printable ASCII (no escapes) into BUF. */
static int f_key(fscan *s, char *buf, size_t size)
{
    if (s->p >= s->end || *s->p != '"') return -1;
    const char *a = ++s->p;
    while (s->p < s->end && *s->p != '"') {
        const unsigned char ch = (unsigned char)*s->p;
        if (ch < 0x20 || ch >= 0x7f || ch == '\\') return -1;
        s->p++;
    }
    if (s->p >= s->end || (size_t)(s->p - a) >= size) return -1;
    memcpy(buf, a, (size_t)(s->p - a));
    buf[s->p - a] = '\0';
    s->p++;
    return 0;
}

/* Past one JSON value, loosely (jansson then checks its text strictly). */
static int f_skip(fscan *s, int depth)
{
    if (depth > 64 || s->p >= s->end) return -1;
    const char ch = *s->p;
    if (ch == '"') {
        for (s->p++; s->p < s->end && *s->p != '"'; s->p++)
            if (*s->p == '\\') s->p++;
        if (s->p >= s->end) return -1;
        s->p++;
        return 0;
    }
    if (ch == '[' || ch == '{') {
        const char close = ch == '[' ? ']' : '}';
        s->p++;
        f_ws(s);
        if (s->p < s->end && *s->p == close) {
            s->p++;
            return 0;
        }
        for (;;) {
            if (ch == '{') {
                if (s->p >= s->end || *s->p != '"' || f_skip(s, depth + 1) != 0) return -1;
                f_ws(s);
                if (s->p >= s->end || *s->p != ':') return -1;
                s->p++;
                f_ws(s);
            }
            if (f_skip(s, depth + 1) != 0) return -1;
            f_ws(s);
            if (s->p < s->end && *s->p == ',') {
                s->p++;
                f_ws(s);
                continue;
            }
            if (s->p < s->end && *s->p == close) {
                s->p++;
                return 0;
            }
            return -1;
        }
    }
    const char *a = s->p; /* a number or a literal: up to the next delimiter */
    while (s->p < s->end && *s->p && !strchr(",]} \t\r\n:[{\"", *s->p)) s->p++;
    return s->p > a ? 0 : -1;
}

static int f_digit(char ch) { return ch >= '0' && ch <= '9'; }

/* One JSON number, by its grammar, then strtod on exactly its text (the byte
 * after it, a delimiter, stops strtod inside the buffer). */
static int f_num(fscan *s, double *out)
{
    const char *q = s->p, *e = s->end;
    if (q < e && *q == '-') q++;
    if (q >= e || !f_digit(*q)) return -1;
    if (*q == '0')
        q++;
    else
        while (q < e && f_digit(*q)) q++;
    if (q < e && *q == '.') {
        const char *f = ++q;
        while (q < e && f_digit(*q)) q++;
        if (q == f) return -1;
    }
    if (q < e && (*q == 'e' || *q == 'E')) {
        q++;
        if (q < e && (*q == '+' || *q == '-')) q++;
        const char *f = q;
        while (q < e && f_digit(*q)) q++;
        if (q == f) return -1;
    }
    if (q >= e || !strchr(",]} \t\r\n", *q) || !*q) return -1;
    /* up to 19 digits within 10^±22 exactly in integers (the CSV reader's
     * parser), the rest by strtod: both round as jansson's strtod does */
    if (emgmm_io_decimal_fast(s->p, q, out) != q) {
        char *end;
        *out = strtod(s->p, &end);
        if (end != q) return -1;
    }
    s->p = q;
    return 0;
}

/* A nested array of finite numbers of exactly dims[0] × … × dims[nd-1],
 * row-major into DST. */
static int f_array(fscan *s, const size_t *dims, int nd, double *dst)
{
    if (s->p >= s->end || *s->p != '[') return -1;
    s->p++;
    size_t stride = 1;
    for (int i = 1; i < nd; i++) stride *= dims[i];
    for (size_t i = 0; i < dims[0]; i++) {
        f_ws(s);
        if (i > 0) {
            if (s->p >= s->end || *s->p != ',') return -1;
            s->p++;
            f_ws(s);
        }
        if (nd > 1) {
            if (f_array(s, dims + 1, nd - 1, dst + i * stride) != 0) return -1;
        } else if (f_num(s, dst + i) != 0 || !isfinite(dst[i])) {
            return -1;
        }
    }
    f_ws(s);
    if (s->p >= s->end || *s->p != ']') return -1;
    s->p++;
    if (nd == 1) f_release(s);
    return 0;
}

static int f_header_key(const char *key)
{
    static const char *const h[] = {"format", "version",      "covariance_type",
                                    "model",  "n_components", "n_features"};
    for (size_t i = 0; i < sizeof h / sizeof h[0]; i++)
        if (!strcmp(key, h[i])) return 1;
    return 0;
}

/* The parse's state: the scan, the small fields gathered into root, the
 * header once taken, and which of the three big arrays have been read. */
typedef struct {
    fscan s;
    ctx qc;
    json_t *root;
    emgmm_io_model_file *mf;
    emgmm_model *m;
    int have_header, seen[3];
    double *buf[3];
} fast_state;

/* One of the big arrays (0 weights, 1 means, 2 covariances) straight into the
 * model, which is made from the header fields seen so far the first time. */
static int fast_big(fast_state *f, int big, size_t len, const char *name)
{
    emgmm_io_model_file *mf = f->mf;
    if (f->seen[big]) return -1;
    if (!f->have_header) {
        /* nothing allocated for more numbers than the text can hold (two
         * bytes each at the least) */
        if (parse_header(&f->qc, f->root, mf) != 0 ||
            (double)mf->cov_size + (double)mf->n_components * (mf->n_features + 1.0) >
                (double)len / 2 ||
            emgmm_io_model_create(mf, name, &f->m, f->qc.err) != 0)
            return -1;
        emgmm_model_parameter_buffers(f->m, &f->buf[0], &f->buf[1], &f->buf[2], NULL);
        f->have_header = 1;
    }
    size_t dims[3] = {(size_t)mf->n_components, (size_t)mf->n_features, 0};
    const int nd = big == 2 ? emgmm_io_model_dims(mf, "covariances", dims) : big + 1;
    if (f_array(&f->s, dims, nd, f->buf[big]) != 0) return -1;
    f->seen[big] = 1;
    return 0;
}

/* Any other field, parsed by jansson into root: not a duplicate, and not a
 * header field after the header was taken without it. */
static int fast_small(fast_state *f, const char *key)
{
    if (json_object_get(f->root, key) || (f->have_header && f_header_key(key))) return -1;
    const char *a = f->s.p;
    if (f_skip(&f->s, 0) != 0) return -1;
    json_error_t je;
    json_t *v = json_loadb(a, (size_t)(f->s.p - a), JSON_DECODE_ANY | JSON_DECODE_INT_AS_REAL, &je);
    return !v || json_object_set_new(f->root, key, v) != 0 ? -1 : 0;
}

/* The object's fields in order; 0 when it parsed whole with all three arrays. */
static int fast_fields(fast_state *f, size_t len, const char *name)
{
    fscan *s = &f->s;
    f_ws(s);
    if (s->p >= s->end || *s->p != '{') return -1;
    s->p++;
    f_ws(s);
    for (;;) {
        char key[256];
        if (f_key(s, key, sizeof key) != 0) return -1;
        f_ws(s);
        if (s->p >= s->end || *s->p != ':') return -1;
        s->p++;
        f_ws(s);
        const int big = !strcmp(key, "weights")       ? 0
                        : !strcmp(key, "means")       ? 1
                        : !strcmp(key, "covariances") ? 2
                                                      : -1;
        if ((big >= 0 ? fast_big(f, big, len, name) : fast_small(f, key)) != 0) return -1;
        f_ws(s);
        if (s->p < s->end && *s->p == ',') {
            s->p++;
            f_ws(s);
            continue;
        }
        if (s->p < s->end && *s->p == '}') {
            s->p++;
            break;
        }
        return -1;
    }
    f_ws(s);
    return s->p != s->end || !f->seen[0] || !f->seen[1] || !f->seen[2] ? -1 : 0;
}

/* 0 with *OUT the model, -1 with the error said (a file that parsed
 * completely), or FAST_DECLINED with nothing said. */
static int fast_parse(const char *text, size_t len, const char *name, emgmm_io_blob *blob,
                      emgmm_model **out, emgmm_io_model_file *mf, emgmm_io_error *err)
{
    emgmm_io_error quiet = {0};
    ctx c = {name, err};
    fast_state f = {
        {text, text + len, text, blob && blob->map && blob->data == text ? blob : NULL, 0},
        {name, &quiet},
        json_object(),
        mf,
        NULL,
        0,
        {0, 0, 0},
        {NULL, NULL, NULL}};
    if (!f.root) return FAST_DECLINED;
    int rc = FAST_DECLINED;
    if (fast_fields(&f, len, name) != 0) goto done;
    /* The file parsed as the tree path would parse it: its value checks, in its order. */
    rc = -1;
    const size_t k = (size_t)mf->n_components;
    if (check_weights(&c, f.buf[0], k) != 0) goto done;
    for (size_t i = 0; mf->covariance_type == 0 && i < k; i++)
        if (check_cov(&c, mf, f.buf[2], (long)i) != 0) goto done;
    if (check_cov(&c, mf, f.buf[2], -1) != 0 || parse_report(&c, f.root, mf, f.m) != 0) goto done;
    *out = f.m;
    f.m = NULL;
    rc = 0;
done:
    json_decref(f.root);
    emgmm_model_free(f.m);
    if (rc != 0) memset(mf, 0, sizeof *mf);
    return rc;
}
