#!/usr/bin/Rscript
# bench/mclust_eve.R DIR MODEL K ITMAX TOLIN [ITMAXIN=1000] [TOLOUT=0]: one me() fit from the partition
# DIR/labels_K.i32 (bench/mclust_data.R) with the given outer/inner limits, for the EVE/VVE
# comparisons of bench/results/mclust-sweep-2026-12-07-zen5.md; prints the log-likelihood, the
# outer and last inner iteration counts and the CPU seconds.
suppressPackageStartupMessages(library(mclust))
a <- commandArgs(trailingOnly = TRUE)
dir <- a[1]; M <- a[2]; K <- as.integer(a[3]); it <- as.integer(a[4]); tolin <- as.numeric(a[5])
itin <- if (length(a) > 5) as.integer(a[6]) else 1000L
tolout <- if (length(a) > 6) as.numeric(a[7]) else 0
sz <- file.info(file.path(dir, "X.f64"))$size / 8
X <- matrix(readBin(file.path(dir, "X.f64"), "double", n = sz), ncol = 10, byrow = TRUE)
lab <- readBin(file.path(dir, sprintf("labels_%d.i32", K)), "integer", n = nrow(X), size = 4) + 1L
z <- unmap(lab, groups = 1:K)
st <- system.time(f <- me(modelName = M, data = X, z = z,
  control = emControl(tol = c(tolout, tolin), itmax = c(it, itin))))
info <- attr(f, "info")
cat(sprintf("%s K=%d itmax=%d tolin=%g loglik %.8f outer %s inner %s cpu %.2f\n", M, K, it, tolin,
            f$loglik, info[1], attr(info, "inner")[1], st[["user.self"]]))
