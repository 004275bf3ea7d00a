/* batch.c — `emgmm fit` under a batch scheduler: SIGTERM/SIGINT handling that
 * lets the fit save its work (the handler only touches lock-free atomics and
 * may _exit), and the up-front estimate of the memory a fit needs. */
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "checkpoint.h"

/* ------------------------------------------------------------------------ */
/* Signals                                                                  */
/* ------------------------------------------------------------------------ */
/* The handler may run on any thread (OpenMP workers do not block signals), so
 * the state is C11 atomics, which are async-signal-safe when lock-free (they
 * are for int on every target emgmm builds on).  W_STATE: 0 idle, 1 an output
 * file is being written, 2 the process is exiting. */
static atomic_int g_graceful, g_count, g_stop_sig, g_pending, g_wstate;
static struct sigaction g_old_term, g_old_int;
static int g_installed;

static void on_signal(int sig)
{
    int n = atomic_fetch_add(&g_count, 1) + 1;
    if (n == 1 && atomic_load(&g_graceful)) {
        atomic_store(&g_stop_sig, sig);
        return;
    }
    /* Exit now, unless a temporary file is between creation and its rename or
     * removal: then batch_write_end() exits as soon as it is done. */
    atomic_store(&g_pending, 128 + sig);
    int idle = 0;
    if (atomic_compare_exchange_strong(&g_wstate, &idle, 2)) _exit(128 + sig);
}

void batch_signals_install(int graceful)
{
    atomic_store(&g_graceful, graceful);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART; /* file I/O in progress must not fail with EINTR */
    sigaction(SIGTERM, &sa, &g_old_term);
    sigaction(SIGINT, &sa, &g_old_int);
    g_installed = 1;
}

void batch_signals_restore(void)
{
    if (!g_installed) return;
    sigaction(SIGTERM, &g_old_term, NULL);
    sigaction(SIGINT, &g_old_int, NULL);
    g_installed = 0;
}

int batch_stop_signal(void) { return atomic_load(&g_stop_sig); }

void batch_write_begin(void)
{
    int idle = 0;
    if (!atomic_compare_exchange_strong(&g_wstate, &idle, 1))
        _exit(atomic_load(&g_pending)); /* a signal handler is exiting */
}

void batch_write_end(void)
{
    atomic_store(&g_wstate, 0);
    int code = atomic_load(&g_pending);
    int idle = 0;
    if (code && atomic_compare_exchange_strong(&g_wstate, &idle, 2)) _exit(code);
}

/* ------------------------------------------------------------------------ */
/* Memory                                                                   */
/* ------------------------------------------------------------------------ */
/* The library's estimate (emgmm_fit_memory_estimate), which takes the pass's
 * part from the sizes the pass allocates. */
double batch_fit_memory(size_t n, size_t d, size_t K, int cov, int dtype, int threads, int init,
                        int max_iter, int n_init, int missing)
{
    emgmm_params p = emgmm_params_default();
    p.n_threads = threads > 0 ? threads : 1;
    p.init = init;
    p.max_iter = max_iter;
    p.n_init = n_init;
    p.missing = missing;
    if (d > INT32_MAX || K > INT32_MAX) return HUGE_VAL;
    return emgmm_fit_memory_estimate(&p, n, (int)d, (int)K, cov, dtype);
}

/* The first "Key: N kB" value of a /proc file, in bytes; negative if absent. */
static double proc_kb(const char *path, const char *key)
{
    FILE *f = fopen(path, "r");
    if (!f) return -1;
    char line[256];
    size_t kl = strlen(key);
    double v = -1;
    while (fgets(line, sizeof line, f))
        if (!strncmp(line, key, kl) && line[kl] == ':') {
            v = strtod(line + kl + 1, NULL) * 1024;
            break;
        }
    fclose(f);
    return v;
}

/* A single number from a cgroup file ("max" and absence give a negative). */
static double read_num(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f) return -1;
    char b[64] = "";
    double v = -1;
    if (fgets(b, sizeof b, f) && b[0] >= '0' && b[0] <= '9') v = strtod(b, NULL);
    fclose(f);
    return v;
}

/* memory.max − memory.current of this process's cgroup (v2), where the
 * scheduler (Slurm, systemd) enforces a job's memory. */
static double cgroup_available(void)
{
    FILE *f = fopen("/proc/self/cgroup", "r");
    if (!f) return -1;
    char line[1024], rel[1024] = "";
    while (fgets(line, sizeof line, f))
        if (!strncmp(line, "0::", 3)) {
            snprintf(rel, sizeof rel, "%s", line + 3);
            rel[strcspn(rel, "\n")] = 0;
            break;
        }
    fclose(f);
    if (!rel[0]) return -1;
    char p[1200];
    snprintf(p, sizeof p, "/sys/fs/cgroup%s/memory.max", strcmp(rel, "/") ? rel : "");
    double max = read_num(p);
    snprintf(p, sizeof p, "/sys/fs/cgroup%s/memory.current", strcmp(rel, "/") ? rel : "");
    double cur = read_num(p);
    if (max < 0 || cur < 0) return -1;
    return max > cur ? max - cur : 0;
}

/* OpenBLAS's BUFFER_SIZE (128 MB on x86-64) plus its alignment slack, mapped
 * once per thread that calls BLAS. */
#define BLAS_BUFFER_BYTES (135266304.0)

double batch_available_memory(int threads, const char **what)
{
    double best = proc_kb("/proc/meminfo", "MemAvailable");
    *what = "MemAvailable in /proc/meminfo";
    if (best < 0) {
        long pages = sysconf(_SC_AVPHYS_PAGES), psz = sysconf(_SC_PAGESIZE);
        if (pages > 0 && psz > 0) best = (double)pages * (double)psz;
        *what = "free physical memory";
    }
    double cg = cgroup_available();
    if (cg >= 0 && (best < 0 || cg < best)) {
        best = cg;
        *what = "the cgroup's memory.max";
    }
    struct rlimit rl;
    if (getrlimit(RLIMIT_AS, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY) {
        double vm = proc_kb("/proc/self/status", "VmSize");
        double left = (double)rl.rlim_cur - (vm > 0 ? vm : 0) -
                      (threads > 0 ? threads : 1) * BLAS_BUFFER_BYTES;
        if (left < 0) left = 0;
        if (best < 0 || left < best) {
            best = left;
            *what = "RLIMIT_AS (ulimit -v)";
        }
    }
    return best;
}
