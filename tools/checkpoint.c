/* checkpoint.c — the `emgmm fit --checkpoint/--resume` file: a model file with
 * an extra "checkpoint" object (options, data fingerprint, iteration, lower-
 * bound history), written atomically, and read back into a model whose state
 * is bit for bit the one the interrupted fit had. */
#include <errno.h>
#include <jansson.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "checkpoint.h"

/* ------------------------------------------------------------------------ */
/* Data fingerprint                                                         */
/* ------------------------------------------------------------------------ */
static uint64_t mix64(uint64_t h, uint64_t v)
{
    h ^= v * 0x9E3779B97F4A7C15ull;
    h = (h << 31) | (h >> 33);
    return h * 0xBF58476D1CE4E5B9ull;
}

uint64_t ckpt_data_hash(const emgmm_data *X)
{
    const size_t es = X->dtype == EMGMM_F32 ? sizeof(float) : sizeof(double);
    const size_t row_bytes = X->d * es;
    uint64_t h = mix64(mix64(mix64(0x243F6A8885A308D3ull, X->n), X->d), (uint64_t)X->dtype);
    for (size_t i = 0; i < X->n; i++) {
        const unsigned char *r = (const unsigned char *)X->x + i * X->ld * es;
        size_t j = 0;
        for (; j + 8 <= row_bytes; j += 8) {
            uint64_t v;
            memcpy(&v, r + j, 8);
            h = mix64(h, v);
        }
        if (j < row_bytes) { /* a float32 row of odd width: zero-pad the tail */
            uint64_t v = 0;
            memcpy(&v, r + j, row_bytes - j);
            h = mix64(h, v);
        }
    }
    h ^= h >> 33; /* splitmix64's finaliser */
    h *= 0xFF51AFD7ED558CCDull;
    h ^= h >> 33;
    return h;
}

static uint64_t fmix64(uint64_t h)
{
    h ^= h >> 33; /* splitmix64's finaliser */
    h *= 0xFF51AFD7ED558CCDull;
    h ^= h >> 33;
    return h;
}

uint64_t ckpt_rows_hash(const emgmm_data *X, size_t row0)
{
    const size_t es = X->dtype == EMGMM_F32 ? sizeof(float) : sizeof(double);
    const size_t row_bytes = X->d * es;
    uint64_t sum = 0;
    for (size_t i = 0; i < X->n; i++) {
        const unsigned char *r = (const unsigned char *)X->x + i * X->ld * es;
        uint64_t h = mix64(0x13198A2E03707344ull, (uint64_t)(row0 + i)), v;
        size_t j = 0;
        for (; j + 8 <= row_bytes; j += 8) {
            memcpy(&v, r + j, 8);
            h = mix64(h, v);
        }
        if (j < row_bytes) { /* a float32 row of odd width: zero-pad the tail */
            v = 0;
            memcpy(&v, r + j, row_bytes - j);
            h = mix64(h, v);
        }
        if (X->weights) {
            memcpy(&v, &X->weights[i], 8);
            h = mix64(h, v);
        }
        sum += fmix64(h); /* mod 2^64: the order of the rows' ranks does not matter */
    }
    return sum;
}

uint64_t ckpt_hash_finish(uint64_t sum, size_t n, size_t d, int dtype, int weighted)
{
    uint64_t h = mix64(mix64(mix64(0x243F6A8885A308D3ull, n), d), (uint64_t)dtype);
    return fmix64(mix64(mix64(h, (uint64_t)(weighted != 0)), sum));
}

/* ------------------------------------------------------------------------ */
/* Writing                                                                  */
/* ------------------------------------------------------------------------ */
static void put_num(FILE *f, double v)
{
    char b[40];
    emgmm_io_format_double(b, sizeof b, v);
    fputs(b, f);
}

static const char *dtype_name(int dtype) { return dtype == EMGMM_F32 ? "float32" : "float64"; }

int ckpt_write(const char *path, const emgmm_model *model, const ckpt_info *ci, emgmm_io_error *err)
{
    emgmm_io_out *o;
    if (emgmm_io_out_open(&o, path, err) != 0) return -1;
    FILE *f = emgmm_io_out_file(o);
    /* The model part without the fit options: they are in the checkpoint
     * object below (the seed as a string, which every JSON reader keeps exact). */
    long end;
    errno = 0;
    if (emgmm_io_model_fprint(f, model, NULL) != 0 || (end = ftell(f)) < 3 ||
        fseek(f, end - 3, SEEK_SET) != 0) {
        emgmm_io_error_set(err, EMGMM_IO_EINPUT, "cannot write checkpoint %s: %s", path,
                           errno ? strerror(errno) : "model not writable");
        emgmm_io_out_abort(o);
        return -1;
    }
    /* The model text ends "\n}\n"; the checkpoint object goes before the brace. */
    const emgmm_params *p = &ci->params;
    const char *init = emgmm_init_method_name(p->init);
    fprintf(f,
            ",\n  \"checkpoint\": {\n    \"format\": \"emgmm-checkpoint\",\n    \"version\": %d,\n"
            "    \"n_iter\": %d,\n    \"converged\": %s,\n    \"every\": %d,\n"
            "    \"data\": {\"n\": %zu, \"d\": %zu, \"dtype\": \"%s\", \"hash\": \"%016llx\"%s},\n"
            "    \"options\": {\"n_components\": %d, \"covariance_type\": \"%s\", \"tol\": ",
            ci->version == 1 ? 1 : 2, ci->n_iter, ci->converged ? "true" : "false", ci->every,
            ci->n, ci->d, dtype_name(ci->dtype), (unsigned long long)ci->data_hash,
            ci->weighted ? ", \"weights\": true" : "", ci->n_components,
            emgmm_covariance_type_name(ci->covariance_type));
    put_num(f, p->tol);
    fputs(", \"reg_covar\": ", f);
    put_num(f, p->reg_covar);
    fprintf(f,
            ", \"max_iter\": %d, \"n_init\": %d, \"init\": \"%s\", \"seed\": \"%llu\", "
            "\"threads\": %d, \"block_size\": %d, \"kmeans_max_iter\": %d, \"kmeans_tol\": ",
            p->max_iter, p->n_init, init ? init : "unknown", (unsigned long long)p->seed,
            ci->threads, p->block_size, p->kmeans_max_iter);
    put_num(f, p->kmeans_tol);
    fprintf(f, ", \"degenerate\": \"%s\", \"var_floor\": ",
            emgmm_degenerate_policy_name(p->degenerate));
    put_num(f, p->var_floor);
    if (p->accel != EMGMM_ACCEL_NONE)
        fprintf(f, ", \"accel\": \"%s\"", emgmm_accel_method_name(p->accel));
    fputs("},\n    \"lower_bounds\": [", f);
    for (int i = 0; i < ci->n_iter; i++) {
        if (i) fputs(i % 4 ? ", " : ",\n      ", f);
        put_num(f, ci->lower_bounds[i]);
    }
    fputs("],\n    \"reseeds\": [", f);
    /* the reseed record: the limit per component and the convergence test
     * after a reseed need it to resume exactly */
    for (int i = 0; i < emgmm_model_n_reseeds(model); i++) {
        int it = 0, k = 0;
        double ld = 0.0;
        emgmm_model_reseed_event(model, i, &it, &k, &ld);
        fprintf(f, "%s[%d, %d, ", i ? ", " : "", it, k);
        put_num(f, isfinite(ld) ? ld : 0.0);
        fputc(']', f);
    }
    fputs("]", f);
    /* an accelerated fit's cycle (docs/accel.md): what a resumed fit needs
     * to continue bit for bit as this one would have */
    if (p->accel != EMGMM_ACCEL_NONE) {
        int phase = 0;
        double step = 1.0;
        long long passes = 0;
        size_t len = 0;
        emgmm_model_accel_state(model, &phase, &step, &passes, NULL, &len);
        double *vec = len ? malloc(len * sizeof(double)) : NULL;
        if (len && !vec) {
            emgmm_io_error_set(err, EMGMM_IO_EINPUT, "cannot write checkpoint %s: out of memory",
                               path);
            emgmm_io_out_abort(o);
            return -1;
        }
        emgmm_model_accel_state(model, &phase, &step, &passes, vec, &len);
        fprintf(f, ",\n    \"accel_state\": {\"phase\": %d, \"n_passes\": %lld, \"step\": ", phase,
                passes);
        put_num(f, step);
        fputs(", \"point\": [", f);
        for (size_t i = 0; i < len; i++) {
            if (i) fputs(i % 4 ? ", " : ",\n      ", f);
            put_num(f, vec[i]);
        }
        fputs("]}", f);
        free(vec);
    }
    fputs("\n  }\n}\n", f);
    return emgmm_io_out_commit(o, err);
}

/* ------------------------------------------------------------------------ */
/* Reading                                                                  */
/* ------------------------------------------------------------------------ */
void ckpt_info_free(ckpt_info *ci)
{
    free((void *)ci->lower_bounds);
    ci->lower_bounds = NULL;
}

#define CK_BAD(...)                                                                                \
    do {                                                                                           \
        char what_[512];                                                                           \
        snprintf(what_, sizeof what_, __VA_ARGS__);                                                \
        rc = cli_fail(CLI_INPUT, "bad checkpoint file: %s (%s)", what_, path);                     \
        goto fail;                                                                                 \
    } while (0)

static int get_long(json_t *o, const char *key, long lo, long hi, long *out)
{
    json_t *v = json_object_get(o, key);
    if (!json_is_integer(v)) return -1;
    json_int_t x = json_integer_value(v);
    if (x < lo || x > hi) return -1;
    *out = (long)x;
    return 0;
}

static int get_real(json_t *o, const char *key, double *out)
{
    json_t *v = json_object_get(o, key);
    if (!json_is_number(v) || !isfinite(json_number_value(v))) return -1;
    *out = json_number_value(v);
    return 0;
}

static const char *get_str(json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

int ckpt_read(const char *path, ckpt_info *ci, emgmm_model **model)
{
    memset(ci, 0, sizeof *ci);
    *model = NULL;
    emgmm_io_model_file mf;
    emgmm_io_error err = {0};
    int rc = 0;
    if (emgmm_io_model_read(path, &mf, &err) != 0) return cli_io_fail(&err);
    json_error_t jerr;
    json_t *root = json_load_file(path, 0, &jerr);
    emgmm_model *m = NULL;
    json_t *ck = root ? json_object_get(root, "checkpoint") : NULL;
    if (!ck) CK_BAD("no 'checkpoint' object: a model file, not a checkpoint");
    const char *s = get_str(ck, "format");
    long v, n_iter, every;
    if (!s || strcmp(s, "emgmm-checkpoint") || get_long(ck, "version", 1, 2, &v))
        CK_BAD("'checkpoint.format' must be \"emgmm-checkpoint\" and its version 1 or 2");
    ci->version = (int)v;
    if (get_long(ck, "n_iter", 0, 1L << 30, &n_iter) || get_long(ck, "every", 1, 1L << 30, &every))
        CK_BAD("'checkpoint.n_iter' / 'checkpoint.every' missing or out of range");
    ci->n_iter = (int)n_iter;
    ci->every = (int)every;
    json_t *cv = json_object_get(ck, "converged");
    if (!json_is_boolean(cv)) CK_BAD("'checkpoint.converged' must be true or false");
    ci->converged = json_is_true(cv);

    json_t *dat = json_object_get(ck, "data");
    long dn, dd;
    const char *dt = dat ? get_str(dat, "dtype") : NULL, *hs = dat ? get_str(dat, "hash") : NULL;
    char *e;
    if (!dat || get_long(dat, "n", 1, LONG_MAX, &dn) || get_long(dat, "d", 1, 1L << 30, &dd) ||
        !dt || (strcmp(dt, "float64") && strcmp(dt, "float32")) || !hs || strlen(hs) != 16)
        CK_BAD("'checkpoint.data' must hold n, d, dtype and a 16-digit hash");
    ci->n = (size_t)dn;
    ci->d = (size_t)dd;
    ci->dtype = strcmp(dt, "float32") ? EMGMM_F64 : EMGMM_F32;
    json_t *wt = json_object_get(dat, "weights"); /* version 2, optional */
    if (wt && (ci->version < 2 || !json_is_boolean(wt)))
        CK_BAD("'checkpoint.data.weights' must be true or false (version 2)");
    ci->weighted = json_is_true(wt);
    errno = 0;
    ci->data_hash = strtoull(hs, &e, 16);
    if (*e || errno) CK_BAD("'checkpoint.data.hash' is not hexadecimal");

    json_t *op = json_object_get(ck, "options");
    emgmm_params *p = &ci->params;
    *p = emgmm_params_default();
    long k, mi, ni, th, bs, kmi;
    const char *ct = op ? get_str(op, "covariance_type") : NULL;
    const char *in = op ? get_str(op, "init") : NULL, *sd = op ? get_str(op, "seed") : NULL;
    if (!op || get_long(op, "n_components", 1, 1L << 20, &k) || !ct ||
        emgmm_covariance_type_from_name(ct) < 0 || get_real(op, "tol", &p->tol) ||
        get_real(op, "reg_covar", &p->reg_covar) || get_long(op, "max_iter", 1, 1L << 30, &mi) ||
        get_long(op, "n_init", 1, 1, &ni) || !in || emgmm_init_method_from_name(in) < 0 || !sd ||
        get_long(op, "threads", 1, 4096, &th) || get_long(op, "block_size", 0, 1L << 30, &bs) ||
        get_long(op, "kmeans_max_iter", 0, 1L << 30, &kmi) ||
        get_real(op, "kmeans_tol", &p->kmeans_tol))
        CK_BAD("'checkpoint.options' is incomplete or out of range");
    errno = 0;
    p->seed = strtoull(sd, &e, 10);
    if (!*sd || *e || errno || sd[0] == '-')
        CK_BAD("'checkpoint.options.seed' is not an integer in [0, 2^64-1]");
    ci->n_components = (int)k;
    ci->covariance_type = emgmm_covariance_type_from_name(ct);
    p->max_iter = (int)mi;
    p->n_init = 1;
    p->init = emgmm_init_method_from_name(in);
    ci->threads = (int)th;
    p->n_threads = ci->threads;
    p->block_size = (int)bs;
    p->kmeans_max_iter = (int)kmi;
    /* The degenerate-data options came later: a checkpoint without them was
     * written before reseeding existed, by a fit that behaved as 'error'. */
    const char *dg = get_str(op, "degenerate");
    p->degenerate = dg ? emgmm_degenerate_policy_from_name(dg) : EMGMM_DEGEN_ERROR;
    p->var_floor = 0.0;
    if (json_object_get(op, "var_floor") && get_real(op, "var_floor", &p->var_floor))
        CK_BAD("'checkpoint.options.var_floor' is not a number");
    const char *ac = get_str(op, "accel"); /* absent: plain EM */
    if (json_object_get(op, "accel") && (!ac || emgmm_accel_method_from_name(ac) < 0))
        CK_BAD("'checkpoint.options.accel' must be \"none\", \"squarem\" or \"anderson\"");
    p->accel = ac ? emgmm_accel_method_from_name(ac) : EMGMM_ACCEL_NONE;
    if (emgmm_params_validate(p) != EMGMM_OK)
        CK_BAD("'checkpoint.options' are not valid fit parameters");
    if (mf.n_components != ci->n_components || mf.structure != ci->covariance_type ||
        (size_t)mf.n_features != ci->d)
        CK_BAD("the model part disagrees with 'checkpoint.options' / 'checkpoint.data'");
    if (!mf.has_n_iter || mf.n_iter != ci->n_iter)
        CK_BAD("the model's n_iter disagrees with 'checkpoint.n_iter'");

    json_t *lbs = json_object_get(ck, "lower_bounds");
    if (!json_is_array(lbs) || json_array_size(lbs) != (size_t)ci->n_iter)
        CK_BAD("'checkpoint.lower_bounds' must hold n_iter = %d numbers", ci->n_iter);
    double *hist = malloc(((size_t)ci->n_iter + 1) * sizeof(double));
    ci->lower_bounds = hist;
    if (!hist) {
        rc = cli_fail(CLI_INTERNAL, "out of memory reading %s", path);
        goto fail;
    }
    for (int i = 0; i < ci->n_iter; i++) {
        json_t *x = json_array_get(lbs, (size_t)i);
        if (!json_is_number(x) || !isfinite(json_number_value(x)))
            CK_BAD("'checkpoint.lower_bounds[%d]' must be a finite number", i);
        hist[i] = json_number_value(x);
    }

    int st = emgmm_model_create(&m, mf.n_components, mf.n_features, mf.structure);
    if (st != EMGMM_OK) {
        rc = cli_lib_fail(st, NULL, "cannot create the model", path, 0);
        goto fail;
    }
    /* a fitted model's weights sum to 1 within rounding: the library keeps
     * them bit for bit, so the resumed fit continues exactly */
    st = emgmm_model_set_parameters(m, mf.weights, mf.means, mf.covariances);
    if (st == EMGMM_OK)
        st = emgmm_model_set_fit_state(m, ci->lower_bounds, ci->n_iter, ci->converged);
    /* optional: checkpoints from before reseeding existed have none */
    json_t *rs = json_object_get(ck, "reseeds");
    if (st == EMGMM_OK && rs && !json_is_array(rs))
        CK_BAD("'checkpoint.reseeds' must be an array of [iteration, component, log-density]");
    for (size_t i = 0; st == EMGMM_OK && rs && i < json_array_size(rs); i++) {
        json_t *e = json_array_get(rs, i);
        json_t *a = json_array_get(e, 0), *b = json_array_get(e, 1), *c = json_array_get(e, 2);
        if (!json_is_array(e) || json_array_size(e) != 3 || !json_is_integer(a) ||
            !json_is_integer(b) || !json_is_number(c) || json_integer_value(a) < 0 ||
            json_integer_value(a) > INT_MAX || json_integer_value(b) < 0 ||
            json_integer_value(b) > INT_MAX)
            CK_BAD("'checkpoint.reseeds[%zu]' must be [iteration, component, log-density]", i);
        if (emgmm_model_add_reseed_event(m, (int)json_integer_value(a), (int)json_integer_value(b),
                                         json_number_value(c)) != EMGMM_OK)
            CK_BAD("'checkpoint.reseeds[%zu]' is out of order or out of range", i);
    }
    json_t *as = json_object_get(ck, "accel_state");
    if (st == EMGMM_OK && as) {
        long ph;
        double step;
        json_t *np = json_object_get(as, "n_passes"), *pt = json_object_get(as, "point");
        if (!json_is_object(as) || get_long(as, "phase", 0, 3, &ph) ||
            get_real(as, "step", &step) || !json_is_integer(np) || json_integer_value(np) < 0 ||
            !json_is_array(pt))
            CK_BAD("'checkpoint.accel_state' must hold phase, n_passes, step and point");
        size_t len = json_array_size(pt);
        double *vec = malloc((len ? len : 1) * sizeof(double));
        if (!vec) {
            rc = cli_fail(CLI_INTERNAL, "out of memory reading %s", path);
            goto fail;
        }
        int ok = 1;
        for (size_t i = 0; i < len && ok; i++) {
            json_t *x = json_array_get(pt, i);
            ok = json_is_number(x) && isfinite(json_number_value(x));
            vec[i] = ok ? json_number_value(x) : 0.0;
        }
        int as_st = ok ? emgmm_model_set_accel_state(m, (int)ph, step,
                                                     (long long)json_integer_value(np), vec, len)
                       : EMGMM_ERR_INVALID_PARAM;
        free(vec);
        if (as_st != EMGMM_OK) CK_BAD("'checkpoint.accel_state' does not fit this model");
    }
    if (st != EMGMM_OK) {
        rc = cli_lib_fail(st, m, "bad checkpoint file", path, 0);
        goto fail;
    }

    json_decref(root);
    emgmm_io_model_file_free(&mf);
    *model = m;
    return CLI_OK;
fail:

    emgmm_model_free(m);
    ckpt_info_free(ci);
    json_decref(root);
    emgmm_io_model_file_free(&mf);
    return rc;
}
