// bench_arma.cpp — Armadillo's gmm_full on a gen_data.py data set, timed like the other drivers.
// Every fit starts from the shared initial model (set_params + keep_existing, km_iter = 0);
// per-iteration time is (t(em_iter = m+1) - t(em_iter = 1)) / m.  Prints one line "RESULT {json}".
// Usage: bench_arma DATADIR [--m 3] [--repeats 3] [--threads T] [--dtype float64|float32]
//                            [--warmup 1] [--var-floor 1e-6]
#include <armadillo>

#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#ifdef _OPENMP
#include <omp.h>
#endif

namespace {

struct Options {
    std::string dir;
    int m = 3;
    int repeats = 3;
    int threads = 0;
    int warmup = 1;
    bool f32 = false;
    double var_floor = 1e-6;
};

[[noreturn]] void die(const std::string &msg)
{
    std::fprintf(stderr, "bench_arma: %s\n", msg.c_str());
    std::exit(1);
}

std::vector<double> read_f64(const std::string &path, size_t count)
{
    std::vector<double> v(count);
    FILE *f = std::fopen(path.c_str(), "rb");
    if (!f)
        die("cannot open " + path);
    if (std::fread(v.data(), sizeof(double), count, f) != count)
        die("short read on " + path);
    std::fclose(f);
    return v;
}

double now()
{
    using clk = std::chrono::steady_clock;
    return std::chrono::duration<double>(clk::now().time_since_epoch()).count();
}

template <typename T>
int run(const Options &o, size_t n, size_t d, size_t k)
{
    using Mat = arma::Mat<T>;
    // Row-major n×d on disk is column-major d×n: one column per sample, as Armadillo wants.
    Mat X(d, n);
    {
        FILE *f = std::fopen((o.dir + "/X.f64").c_str(), "rb");
        if (!f)
            die("cannot open X.f64");
        std::vector<double> buf(d * 4096);
        for (size_t done = 0; done < n;) {
            size_t rows = std::min<size_t>(4096, n - done);
            if (std::fread(buf.data(), sizeof(double), rows * d, f) != rows * d)
                die("short read on X.f64");
            T *dst = X.memptr() + done * d;
            for (size_t i = 0; i < rows * d; i++)
                dst[i] = static_cast<T>(buf[i]);
            done += rows;
        }
        std::fclose(f);
    }
    std::vector<double> init = read_f64(o.dir + "/init.f64", k + k * d + k * d * d);
    arma::Row<T> hefts(k);
    Mat means(d, k);
    arma::Cube<T> fcovs(d, d, k);
    for (size_t j = 0; j < k; j++)
        hefts[j] = static_cast<T>(init[j]);
    for (size_t i = 0; i < k * d; i++)
        means[i] = static_cast<T>(init[k + i]);
    for (size_t i = 0; i < k * d * d; i++)
        fcovs[i] = static_cast<T>(init[k + k * d + i]);

    auto fit = [&](int iters, arma::gmm_priv::gmm_full<T> &g) {
        g.set_params(means, fcovs, hefts);
        double t0 = now();
        bool ok = g.learn(X, k, arma::eucl_dist, arma::keep_existing, 0, iters,
                          static_cast<T>(o.var_floor), false);
        double t = now() - t0;
        if (!ok)
            die("gmm_full::learn failed");
        return t;
    };

    for (int w = 0; w < o.warmup; w++) {
        arma::gmm_priv::gmm_full<T> warm;
        fit(1, warm);
    }
    std::vector<double> per, t1s, tms;
    arma::gmm_priv::gmm_full<T> g;
    for (int r = 0; r < o.repeats; r++) {
        arma::gmm_priv::gmm_full<T> g1;
        double t1 = fit(1, g1);
        double tm = fit(o.m + 1, g);
        t1s.push_back(t1);
        tms.push_back(tm);
        per.push_back((tm - t1) / o.m);
    }
    double score = static_cast<double>(g.avg_log_p(X));
    std::vector<double> s = per;
    std::sort(s.begin(), s.end());
    double med = s.size() % 2 ? s[s.size() / 2] : 0.5 * (s[s.size() / 2 - 1] + s[s.size() / 2]);
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    int threads = 1;
#ifdef _OPENMP
    threads = omp_get_max_threads();
#endif
    auto list = [](const std::vector<double> &v) {
        std::string out = "[";
        char b[40];
        for (size_t i = 0; i < v.size(); i++) {
            std::snprintf(b, sizeof b, "%s%.9g", i ? ", " : "", v[i]);
            out += b;
        }
        return out + "]";
    };
    std::printf("RESULT {\"engine\": \"armadillo\", \"version\": \"%u.%u.%u\", "
                "\"dtype\": \"%s\", \"n\": %zu, \"d\": %zu, \"K\": %zu, \"m\": %d, "
                "\"repeats\": %d, \"warmup\": %d, \"threads\": %d, \"openmp\": %s, \"per_iter_s\": %s, "
                "\"t1_s\": %s, \"tm_s\": %s, \"median_s\": %.9g, \"min_s\": %.9g, "
                "\"max_s\": %.9g, \"mean_loglik\": %.17g, \"peak_rss_kb\": %ld, "
                "\"data_bytes\": %zu}\n",
                arma::arma_version::major, arma::arma_version::minor, arma::arma_version::patch,
                o.f32 ? "float32" : "float64", n, d, k, o.m, o.repeats, o.warmup, threads,
#ifdef ARMA_USE_OPENMP
                "true",
#else
                "false",
#endif
                list(per).c_str(), list(t1s).c_str(), list(tms).c_str(), med, s.front(),
                s.back(), score, ru.ru_maxrss, n * d * sizeof(T));
    return 0;
}

} // namespace

int main(int argc, char **argv)
{
    Options o;
    for (int i = 1; i < argc; i++) {
        std::string a = argv[i];
        auto val = [&]() -> const char * {
            if (i + 1 >= argc)
                die("missing value for " + a);
            return argv[++i];
        };
        if (a == "--m")
            o.m = std::atoi(val());
        else if (a == "--repeats")
            o.repeats = std::atoi(val());
        else if (a == "--threads")
            o.threads = std::atoi(val());
        else if (a == "--warmup")
            o.warmup = std::atoi(val());
        else if (a == "--var-floor")
            o.var_floor = std::atof(val());
        else if (a == "--dtype") {
            std::string t = val();
            if (t != "float64" && t != "float32")
                die("--dtype is float64 or float32");
            o.f32 = (t == "float32");
        } else if (a.size() > 1 && a[0] == '-')
            die("unknown option " + a);
        else
            o.dir = a;
    }
    if (o.dir.empty() || o.m < 1 || o.repeats < 1)
        die("usage: bench_arma DATADIR [--m M>=1] [--repeats R>=1] [--threads T] "
            "[--dtype float64|float32] [--warmup W] [--var-floor V]");
#ifdef _OPENMP
    if (o.threads > 0)
        omp_set_num_threads(o.threads);
#endif
    size_t n = 0, d = 0, k = 0;
    {
        FILE *f = std::fopen((o.dir + "/meta.txt").c_str(), "r");
        if (!f || std::fscanf(f, "%zu %zu %zu", &n, &d, &k) != 3)
            die("cannot read " + o.dir + "/meta.txt");
        std::fclose(f);
    }
    return o.f32 ? run<float>(o, n, d, k) : run<double>(o, n, d, k);
}
