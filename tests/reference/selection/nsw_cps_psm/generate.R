# Reference values for evaltools.selection.PropensityScore and Matching(distance="pscore")
# on the NSW treated + CPS-1 controls (Dehejia and Wahba 2002, Table 2 propensity specification).
# Run from the repository root:
#   Rscript tests/reference/selection/nsw_cps_psm/generate.R
suppressPackageStartupMessages(library(Matching))
library(jsonlite)
nsw <- read.csv("evaltools/datasets/nsw/nsw_dw.csv")
cps <- read.csv("evaltools/datasets/nsw/cps1.csv")
d <- rbind(nsw[nsw$treat == 1, ], cps)
d$u74 <- as.integer(d$re74 == 0)
d$u75 <- as.integer(d$re75 == 0)
f <- treat ~ age + I(age^2) + I(age^3) + educ + I(educ^2) + marr + nodegree + black + hisp +
  re74 + re75 + u74 + u75 + I(educ * re74)
g <- glm(f, family = binomial(), data = d, control = glm.control(epsilon = 1e-14, maxit = 100))
ps <- as.numeric(fitted(g))
write.csv(data.frame(pscore = sprintf("%.17g", ps)), "tests/reference/selection/nsw_cps_psm/pscore.csv",
          row.names = FALSE, quote = FALSE)
out <- list(glm = list(coef = unname(coef(g)), se = unname(sqrt(diag(vcov(g)))), names = names(coef(g)),
                       loglik = as.numeric(logLik(g)), iter = g$iter))
cases <- list(
  att_m1 = list(M = 1),
  att_m4 = list(M = 4),
  att_m1_caliper = list(M = 1, caliper = 0.1)
)
for (nm in names(cases)) {
  a <- cases[[nm]]
  for (vc in c(0, 1)) {
    m <- do.call(Match, c(list(Y = d$re78, Tr = d$treat, X = ps, estimand = "ATT", Var.calc = vc), a))
    out[[paste0(nm, "_vc", vc)]] <- list(
      M = a$M, caliper = if (is.null(a$caliper)) NA else a$caliper, Var_calc = vc,
      est = as.numeric(m$est), se = as.numeric(m$se), wnobs = m$wnobs, ndrops = m$ndrops,
      n_pairs = length(m$index.treated), n_unique_controls = length(unique(m$index.control)))
  }
}
out$meta <- list(R = R.version.string, Matching = as.character(packageVersion("Matching")),
                 date = as.character(Sys.Date()))
writeLines(toJSON(out, digits = NA, auto_unbox = TRUE, pretty = TRUE, na = "null"),
           "tests/reference/selection/nsw_cps_psm/expected.json")
