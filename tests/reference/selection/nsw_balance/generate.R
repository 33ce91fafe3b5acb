# Reference balance statistics for evaltools.selection.balance_table / ecdf_balance / MatchingResults.balance
# Run from the repository root:  Rscript tests/reference/selection/nsw_balance/generate.R
suppressPackageStartupMessages(library(Matching))
library(jsonlite)
d <- read.csv("evaltools/datasets/nsw/nsw_dw.csv")
d$u74 <- as.integer(d$re74 == 0)
d$u75 <- as.integer(d$re75 == 0)
cov <- c("age", "educ", "black", "hisp", "marr", "re74", "re75", "u74", "u75")
X <- as.matrix(d[, cov])
m <- Match(Y = d$re78 / 1000, Tr = d$treat, X = X, M = 4, estimand = "ATT")
set.seed(20240301)  # only the bootstrap KS p-values (not compared) use the RNG
mb <- MatchBalance(treat ~ age + educ + black + hisp + marr + re74 + re75 + u74 + u75, data = d,
                   match.out = m, print.level = 0, nboots = 500)
g <- function(part, field) sapply(1:length(cov), function(i) mb[[part]][[i]][[field]])
qq <- function(part, field, raw = FALSE) sapply(1:length(cov), function(i)
  mb[[part]][[i]][[if (raw) "qqsummary.raw" else "qqsummary"]][[field]])
ks <- function(part, field) sapply(1:length(cov), function(i) {
  k <- mb[[part]][[i]]$ks
  if (is.null(k)) NA else if (field == "boot") k$ks.boot.pvalue else k$ks[[field]]
})
# weighted empirical CDFs (cobalt's convention) with logit ATT odds weights, written out by hand
ps <- fitted(glm(treat ~ age + educ + black + hisp + marr + re74 + re75 + u74 + u75, family = binomial, data = d))
w <- ifelse(d$treat == 1, 1, ps / (1 - ps))
wecdf <- function(x) {
  v <- sort(unique(x)); t1 <- d$treat == 1
  f1 <- sapply(v, function(a) sum(w[t1][x[t1] <= a]) / sum(w[t1]))
  f0 <- sapply(v, function(a) sum(w[!t1][x[!t1] <= a]) / sum(w[!t1]))
  dd <- abs(f1 - f0)
  c(mean = mean(dd), median = median(dd), max = max(dd))
}
wst <- sapply(cov, function(v) wecdf(d[[v]]))
# exact two-sample KS p-values (n1 * n0 < 10000, with ties) on a subsample: last 60 treated, last 100 controls
sub <- rbind(tail(d[d$treat == 1, ], 60), tail(d[d$treat == 0, ], 100))
exact_p <- sapply(c("age", "educ", "re74", "re75"), function(v)
  suppressWarnings(ks.test(sub[[v]][sub$treat == 1], sub[[v]][sub$treat == 0])$p.value))
exact_d <- sapply(c("age", "educ", "re74", "re75"), function(v)
  suppressWarnings(ks.test(sub[[v]][sub$treat == 1], sub[[v]][sub$treat == 0])$statistic))
out <- list(covariates = cov,
            sdiff_before = g("BeforeMatching", "sdiff"), sdiff_after = g("AfterMatching", "sdiff"),
            var_ratio_before = g("BeforeMatching", "var.ratio"), var_ratio_after = g("AfterMatching", "var.ratio"),
            mean_treated_after = g("AfterMatching", "mean.Tr"), mean_control_after = g("AfterMatching", "mean.Co"),
            ecdf_mean_before = qq("BeforeMatching", "meandiff"), ecdf_median_before = qq("BeforeMatching", "mediandiff"),
            ecdf_max_before = qq("BeforeMatching", "maxdiff"),
            ecdf_mean_after = qq("AfterMatching", "meandiff"), ecdf_median_after = qq("AfterMatching", "mediandiff"),
            ecdf_max_after = qq("AfterMatching", "maxdiff"),
            eqq_mean_before = qq("BeforeMatching", "meandiff", TRUE),
            eqq_median_before = qq("BeforeMatching", "mediandiff", TRUE),
            eqq_max_before = qq("BeforeMatching", "maxdiff", TRUE),
            eqq_mean_after = qq("AfterMatching", "meandiff", TRUE),
            eqq_median_after = qq("AfterMatching", "mediandiff", TRUE),
            eqq_max_after = qq("AfterMatching", "maxdiff", TRUE),
            ks_before = ks("BeforeMatching", "statistic"), ks_pvalue_before = ks("BeforeMatching", "p.value"),
            ks_boot_pvalue_before = ks("BeforeMatching", "boot"),
            ks_after = ks("AfterMatching", "statistic"), ks_pvalue_after = ks("AfterMatching", "p.value"),
            ks_boot_pvalue_after = ks("AfterMatching", "boot"),
            n_pairs = length(m$index.treated),
            ipw_weights = unname(w),
            weighted_ecdf_mean = unname(wst["mean", ]), weighted_ecdf_median = unname(wst["median", ]),
            weighted_ecdf_max = unname(wst["max", ]),
            exact_subsample = list(covariates = names(exact_p), statistic = unname(exact_d), p_value = unname(exact_p)),
            meta = list(R = R.version.string, Matching = as.character(packageVersion("Matching")),
                        date = as.character(Sys.Date())))
print(rbind(ks_before = out$ks_before, p_before = out$ks_pvalue_before, ks_after = out$ks_after,
            p_after = out$ks_pvalue_after), digits = 10)
print(exact_p, digits = 15)
writeLines(toJSON(out, digits = NA, auto_unbox = TRUE, pretty = TRUE),
           "tests/reference/selection/nsw_balance/expected.json")
