# Independent reference for the Heckman (1979) two-step estimator with the
# corrected covariance matrix, written directly from the published formulas
# (Heckman 1979; Greene, Econometric Analysis, 7th ed., eq. 19-24/19-25) with
# base R only: glm(binomial("probit")) for the first step, lm() for the second.
# R sampleSelection::heckit (the usual oracle) is not packaged for Debian and
# CRAN is unreachable from the build machine, so this script is the oracle.
#
# The probit covariance entering the correction is the inverse Fisher
# information (as glm's vcov and sampleSelection::heckit); the "_observed" cases
# use the inverse observed information (Stata probit's default OIM) instead.
#
# Run from the repository root:
#   Rscript tests/reference/selection/mroz_heckman_twostep/generate.R
library(jsonlite)

mroz <- read.csv("evaltools/datasets/mroz/mroz.csv")

heckit2 <- function(d, sel_formula, out_formula, info = "expected") {
  pr <- glm(sel_formula, family = binomial(link = "probit"), data = d,
            control = glm.control(epsilon = 1e-14, maxit = 100))
  Z <- model.matrix(sel_formula, d)
  # glm's IRLS (Fisher scoring) stops on a relative deviance change, which leaves
  # ~1e-8 relative error in the coefficients: polish with exact Newton steps.
  sv <- d[[all.vars(sel_formula)[1]]]
  q <- 2 * sv - 1
  g <- coef(pr)
  for (it in 1:50) {
    zg <- drop(Z %*% g)
    m <- exp(dnorm(q * zg, log = TRUE) - pnorm(q * zg, log.p = TRUE))
    w <- m * (m + q * zg)
    step <- solve(crossprod(Z, w * Z), crossprod(Z, q * m))
    g <- g + drop(step)
    if (max(abs(step)) < 1e-15) break
  }
  zg <- drop(Z %*% g)
  m <- exp(dnorm(q * zg, log = TRUE) - pnorm(q * zg, log.p = TRUE))
  if (info == "observed") {               # minus the Hessian (Stata probit's OIM)
    Vg <- solve(crossprod(Z, (m * (m + q * zg)) * Z))
  } else {                                 # Fisher information (glm's vcov, sampleSelection)
    P <- pnorm(zg)
    Vg <- solve(crossprod(Z, (dnorm(zg)^2 / (P * (1 - P))) * Z))
  }
  imr <- dnorm(zg) / pnorm(zg)
  s <- d[[all.vars(sel_formula)[1]]] == 1
  ds <- d[s, ]
  ds$imr <- imr[s]
  X <- cbind(model.matrix(out_formula, ds), imr = ds$imr)
  y <- ds[[all.vars(out_formula)[1]]]
  fit <- lm.fit(X, y)
  b <- fit$coefficients
  e <- fit$residuals
  n <- sum(s)
  bl <- unname(b["imr"])
  delta <- imr[s] * (imr[s] + zg[s])
  sig2 <- sum(e^2) / n + bl^2 * mean(delta)
  rho2 <- bl^2 / sig2
  Zs <- Z[s, , drop = FALSE]
  A <- solve(crossprod(X))
  XDZ <- crossprod(X, delta * Zs)
  Q <- rho2 * XDZ %*% Vg %*% t(XDZ)
  V <- sig2 * A %*% (crossprod(X, (1 - rho2 * delta) * X) + Q) %*% A
  list(outcome = as.list(b), outcome_se = as.list(sqrt(diag(V))),
       selection = as.list(g), selection_se = as.list(sqrt(diag(Vg))),
       sigma = sqrt(sig2), rho = bl / sqrt(sig2), nobs = nrow(d), nselected = n,
       outcome_vcov = unname(V))
}

# Wooldridge, Introductory Econometrics, Example 17.5
w_sel <- inlf ~ educ + exper + expersq + nwifeinc + age + kidslt6 + kidsge6
w_out <- lwage ~ educ + exper + expersq
w <- heckit2(mroz, w_sel, w_out)
w_obs <- heckit2(mroz, w_sel, w_out, info = "observed")

# Greene, Econometric Analysis, Example 22.8 (Mroz87 in sampleSelection):
# lfp ~ age + age^2 + faminc + kids, wage ~ exper + exper^2 + educ + city,
# kids = any child under 18.
g_d <- mroz
g_d$kids <- as.integer(g_d$kidslt6 + g_d$kidsge6 > 0)
g_d$agesq <- g_d$age^2
g_sel <- inlf ~ age + agesq + faminc + kids + educ
g_out <- wage ~ exper + expersq + educ + city
g <- heckit2(g_d, g_sel, g_out)
g_obs <- heckit2(g_d, g_sel, g_out, info = "observed")

out <- list(
  software = paste(R.version.string, "; base stats glm/lm.fit; jsonlite", packageVersion("jsonlite")),
  wooldridge_17_5 = w,
  wooldridge_17_5_observed = w_obs,
  greene_22_8 = g,
  greene_22_8_observed = g_obs
)
writeLines(toJSON(out, digits = NA, auto_unbox = TRUE, pretty = TRUE),
           "tests/reference/selection/mroz_heckman_twostep/expected.json")
