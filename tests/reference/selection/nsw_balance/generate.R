# Reference balance statistics for evaltools.selection.balance_table / MatchingResults.balance
# Run from the repository root:  Rscript tests/reference/selection/nsw_balance/generate.R
suppressPackageStartupMessages(library(Matching))
library(jsonlite)
d <- read.csv("evaltools/datasets/nsw/nsw_dw.csv")
d$u74 <- as.integer(d$re74 == 0)
d$u75 <- as.integer(d$re75 == 0)
cov <- c("age", "educ", "black", "hisp", "marr", "re74", "re75", "u74", "u75")
X <- as.matrix(d[, cov])
m <- Match(Y = d$re78 / 1000, Tr = d$treat, X = X, M = 4, estimand = "ATT")
mb <- MatchBalance(treat ~ age + educ + black + hisp + marr + re74 + re75 + u74 + u75, data = d,
                   match.out = m, print.level = 0)
g <- function(part, field) sapply(1:length(cov), function(i) mb[[part]][[i]][[field]])
out <- list(covariates = cov,
            sdiff_before = g("BeforeMatching", "sdiff"), sdiff_after = g("AfterMatching", "sdiff"),
            var_ratio_before = g("BeforeMatching", "var.ratio"), var_ratio_after = g("AfterMatching", "var.ratio"),
            mean_treated_after = g("AfterMatching", "mean.Tr"), mean_control_after = g("AfterMatching", "mean.Co"),
            meta = list(R = R.version.string, Matching = as.character(packageVersion("Matching")),
                        date = as.character(Sys.Date())))
writeLines(toJSON(out, digits = NA, auto_unbox = TRUE, pretty = TRUE),
           "tests/reference/selection/nsw_balance/expected.json")
