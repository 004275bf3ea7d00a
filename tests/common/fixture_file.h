/* fixture_file.h — the one reader of the tests' fixture files (tests/fixtures/NAME.txt, written
 * by make_sklearn_fixtures.py and make_family_fixtures.py): "<key> <count>" sections of
 * numbers, looked up by key, so that one file can hold a section per covariance type
 * ("diag.means") in that type's shape.  tests/ref/fixture.c builds the scikit-learn
 * fixture on it. */
#ifndef EMGMM_TESTS_FIXTURE_FILE_H
#define EMGMM_TESTS_FIXTURE_FILE_H

#include <stddef.h>

typedef struct {
    char key[64];
    size_t count;
    double *v;
} ff_section;

typedef struct {
    ff_section *sec;
    size_t nsec;
} ff_file;

/* Loads the file PATH; returns 0, or -1 with a message on stderr. */
int ff_load_path(ff_file *f, const char *path);
/* Loads <dir>/family_<name>.txt (ff_load_path). */
int ff_load(ff_file *f, const char *dir, const char *name);
void ff_free(ff_file *f);

/* The values of section KEY (prefix.KEY when prefix is not NULL), which must hold exactly
 * `count` numbers (any count when count is (size_t)-1); NULL if absent or of another size,
 * with a message on stderr. */
const double *ff_get(const ff_file *f, const char *prefix, const char *key, size_t count);
/* 1 if the section exists. */
int ff_has(const ff_file *f, const char *prefix, const char *key);
/* Scalar section; NAN (and a message) if absent. */
double ff_scalar(const ff_file *f, const char *prefix, const char *key);

#endif /* EMGMM_TESTS_FIXTURE_FILE_H */
