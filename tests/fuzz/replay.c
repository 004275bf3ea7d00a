/* replay.c — the fuzz regression driver: feeds every file of the given corpus directories to
 * the target's LLVMFuzzerTestOneInput, so the committed corpus (and every reproducer added to
 * it) runs in the ordinary test suite, built with any compiler and no libFuzzer. */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int replay_dir(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d) {
        perror(dir);
        return -1;
    }
    char **names = NULL;
    size_t n = 0, cap = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.') continue;
        if (n == cap) {
            cap = cap ? 2 * cap : 64;
            char **t = realloc(names, cap * sizeof *t);
            if (!t) abort();
            names = t;
        }
        names[n] = strdup(e->d_name);
        if (!names[n++]) abort();
    }
    closedir(d);
    /* A fixed order, so a failure names the same file every run. */
    qsort(names, n, sizeof *names, by_name);
    for (size_t i = 0; i < n; i++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        FILE *f = fopen(path, "rb");
        if (!f) {
            perror(path);
            return -1;
        }
        size_t len = 0, room = 1 << 16;
        uint8_t *buf = malloc(room);
        size_t r;
        while (buf && (r = fread(buf + len, 1, room - len, f)) > 0) {
            len += r;
            if (len == room) {
                room *= 2;
                uint8_t *t = realloc(buf, room);
                if (!t) free(buf);
                buf = t;
            }
        }
        fclose(f);
        if (!buf) abort();
        printf("%s (%zu bytes)\n", path, len);
        fflush(stdout);
        /* An exact-size copy, so ASan (when on) sees any read past the input. */
        uint8_t *exact = malloc(len ? len : 1);
        if (!exact) abort();
        memcpy(exact, buf, len);
        free(buf);
        LLVMFuzzerTestOneInput(exact, len);
        free(exact);
        free(names[i]);
    }
    free(names);
    return (int)n;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s CORPUS_DIR...\n", argv[0]);
        return 2;
    }
    long total = 0;
    for (int i = 1; i < argc; i++) {
        int n = replay_dir(argv[i]);
        if (n <= 0) {
            fprintf(stderr, "%s: no inputs (an empty corpus tests nothing)\n", argv[i]);
            return 1;
        }
        total += n;
    }
    printf("replayed %ld inputs without a failure\n", total);
    return 0;
}
