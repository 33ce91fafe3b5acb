# Reference values for evaltools.selection.Matching (Abadie-Imbens covariate matching)
# Run from the repository root:
#   Rscript tests/reference/selection/nsw_ai_matching/generate.R
# Input: evaltools/datasets/nsw/nsw_dw.csv (NSW Dehejia-Wahba experimental sample, 445 rows).
suppressPackageStartupMessages(library(Matching))
library(jsonlite)
d <- read.csv("evaltools/datasets/nsw/nsw_dw.csv")
d$u74 <- as.integer(d$re74 == 0)
d$u75 <- as.integer(d$re75 == 0)
Y <- d$re78 / 1000
X <- as.matrix(d[, c("age", "educ", "black", "hisp", "marr", "re74", "re75", "u74", "u75")])
cases <- list(
  att_m4_w1          = list(M = 4, estimand = "ATT", BiasAdjust = FALSE, Weight = 1),
  att_m4_w1_bias     = list(M = 4, estimand = "ATT", BiasAdjust = TRUE,  Weight = 1),
  att_m4_w2_bias     = list(M = 4, estimand = "ATT", BiasAdjust = TRUE,  Weight = 2),
  ate_m4_w1_bias     = list(M = 4, estimand = "ATE", BiasAdjust = TRUE,  Weight = 1),
  atc_m4_w1          = list(M = 4, estimand = "ATC", BiasAdjust = FALSE, Weight = 1),
  ate_m1_w2          = list(M = 1, estimand = "ATE", BiasAdjust = FALSE, Weight = 2),
  att_m1_w1_caliper  = list(M = 1, estimand = "ATT", BiasAdjust = FALSE, Weight = 1, caliper = 0.25)
)
out <- list()
for (nm in names(cases)) {
  a <- cases[[nm]]
  for (vc in c(0, 1, 4)) {
    args <- c(list(Y = Y, Tr = d$treat, X = X, Var.calc = vc), a)
    m <- do.call(Match, args)
    key <- paste0(nm, "_vc", vc)
    out[[key]] <- list(
      M = a$M, estimand = a$estimand, BiasAdjust = a$BiasAdjust, Weight = a$Weight,
      caliper = if (is.null(a$caliper)) NA else a$caliper, Var_calc = vc,
      est = as.numeric(m$est), se = as.numeric(m$se), se_standard = as.numeric(m$se.standard),
      nobs = m$nobs, wnobs = m$wnobs, orig_treated_nobs = m$orig.treated.nobs,
      ndrops = m$ndrops, ndrops_matches = m$ndrops.matches,
      n_pairs = length(m$index.treated),
      n_unique_controls = length(unique(m$index.control))
    )
  }
}
out$meta <- list(R = R.version.string, Matching = as.character(packageVersion("Matching")),
                 date = as.character(Sys.Date()))
writeLines(toJSON(out, digits = NA, auto_unbox = TRUE, pretty = TRUE, na = "null"),
           "tests/reference/selection/nsw_ai_matching/expected.json")
