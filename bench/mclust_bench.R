#!/usr/bin/Rscript
# bench/mclust_bench.R DIR [iters] [models]: R mclust's side of the sweep (issue 19).  For every
# model of the fourteen (or the comma list given) and K = 1..9, me(modelName, X, z) from the
# partition DIR/labels_K.i32 with exactly ITERS outer iterations (tol 0), the E/M loop that
# Mclust(X, G = 1:9) runs after its hierarchical initialisation.  Prints one line per fit and
# the total; the same work as bench/mclust_sweep.c.  Each line: elapsed and CPU (user + system)
# seconds, the outer iterations me() ran (it stops early when the log-likelihood repeats exactly,
# as it does at K = 1) and its last M-step's inner iterations.
suppressPackageStartupMessages(library(mclust))
args <- commandArgs(trailingOnly = TRUE)
dir <- args[1]
iters <- if (length(args) > 1) as.integer(args[2]) else 20L
models <- if (length(args) > 2) strsplit(args[3], ",")[[1]] else
  c("EII", "VII", "EEI", "VEI", "EVI", "VVI", "EEE", "VEE", "EVE", "VVE", "EEV", "VEV", "EVV", "VVV")
sz <- file.info(file.path(dir, "X.f64"))$size / 8
d <- 10L
X <- matrix(readBin(file.path(dir, "X.f64"), "double", n = sz), ncol = d, byrow = TRUE)
cat(sprintf("mclust %s, R %s, n=%d d=%d, %d iterations per fit\n",
            packageVersion("mclust"), getRversion(), nrow(X), d, iters))
total <- 0
for (K in 1:9) {
  lab <- readBin(file.path(dir, sprintf("labels_%d.i32", K)), "integer", n = nrow(X), size = 4) + 1L
  z <- unmap(lab, groups = 1:K)
  for (M in models) {
    st <- system.time(f <- me(modelName = M, data = X, z = z,
                              control = emControl(tol = c(0, sqrt(.Machine$double.eps)),
                                                  itmax = c(iters, 1000))))
    t <- st[["elapsed"]]
    total <- total + t
    it <- attr(f, "info")
    num <- function(v) {
      if (is.list(v)) v <- v[[1]]
      if (is.numeric(v) && length(v) > 0) abs(v[[1]]) else NA
    }
    cat(sprintf("%s K=%d %.3f s loglik %.6f cpu %.3f s iterations %s inner %s\n", M, K, t,
                ifelse(is.null(f$loglik), NA, f$loglik), st[["user.self"]] + st[["sys.self"]],
                num(it), num(attr(it, "inner"))))
  }
}
cat(sprintf("total %.2f s\n", total))
