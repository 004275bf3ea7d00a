#!/usr/bin/Rscript
# bench/mclust_data.R OUTDIR [n] [d]: the mclust benchmark's data and initial partitions (issue 19).
# Writes OUTDIR/X.f64 (n×d row-major float64) and OUTDIR/labels_K.i32 (int32, 0-based) for
# K = 1..9: k-means partitions (seed 19 + K), shared by bench/mclust_sweep.c and
# bench/mclust_bench.R so that both start every (model, K) from the same responsibilities.
args <- commandArgs(trailingOnly = TRUE)
out <- args[1]
n <- if (length(args) > 1) as.integer(args[2]) else 100000L
d <- if (length(args) > 2) as.integer(args[3]) else 10L
dir.create(out, showWarnings = FALSE, recursive = TRUE)
set.seed(19)
G <- 6
centres <- matrix(rnorm(G * d, sd = 3), G, d)
cl <- sample.int(G, n, replace = TRUE)
X <- centres[cl, ] + matrix(rnorm(n * d), n, d) * runif(n, 0.5, 1.5)
writeBin(as.vector(t(X)), file.path(out, "X.f64"), size = 8)
for (K in 1:9) {
  lab <- if (K == 1) rep(1L, n) else { set.seed(19 + K); kmeans(X, K, iter.max = 20)$cluster }
  writeBin(as.integer(lab - 1L), file.path(out, sprintf("labels_%d.i32", K)), size = 4)
}
