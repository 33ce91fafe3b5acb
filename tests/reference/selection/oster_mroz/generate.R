# Independent reference for Oster (2019) coefficient-stability bounds, in base R.
# Stata psacalc (the reference implementation) is not available here; this
# script transcribes Oster (2019, JBES 37(2), Propositions 2 and 3) directly:
#   delta(beta) = N / D with nu = beta~ - beta, d0 = beta_o - beta~,
#   N = nu (R~ - R_o) sy2 tx + nu sx2 tx d0^2 + 2 nu^2 tx d0 sx2 + nu^3 (tx sx2 - tx^2)
#   D = (Rmax - R~) sy2 d0 sx2 + nu (Rmax - R~) sy2 (sx2 - tx) + nu^2 tx d0 sx2 + nu^3 (tx sx2 - tx^2)
# (for beta = 0 this is the delta* formula of the CRAN package 'robomit'/'bounds'
# documentation), and beta*(delta) as beta~ - nu with nu the root of N - delta D
# closest to 0 (polyroot).  Data: Mroz (1987) working women (428 rows),
# lwage on educ; controls exper, expersq, age, kidslt6, kidsge6, nwifeinc, huseduc.
# Run from the repository root:
#   Rscript tests/reference/selection/oster_mroz/generate.R
library(jsonlite)
m <- read.csv("evaltools/datasets/mroz/mroz.csv")
m <- m[m$inlf == 1, ]
ctrl <- c("exper", "expersq", "age", "kidslt6", "kidsge6", "nwifeinc", "huseduc")
short <- lm(lwage ~ educ, data = m)
full <- lm(reformulate(c("educ", ctrl), "lwage"), data = m)
aux <- lm(reformulate(ctrl, "educ"), data = m)
bo <- unname(coef(short)["educ"]); bt <- unname(coef(full)["educ"])
Ro <- summary(short)$r.squared; Rt <- summary(full)$r.squared
sy2 <- var(m$lwage); sx2 <- var(m$educ); tx <- sum(resid(aux)^2) / (nrow(m) - 1)
d0 <- bo - bt
ND <- function(nu, Rmax) {
  c3 <- tx * sx2 - tx^2
  c(N = nu * (Rt - Ro) * sy2 * tx + nu * sx2 * tx * d0^2 + 2 * nu^2 * tx * d0 * sx2 + nu^3 * c3,
    D = (Rmax - Rt) * sy2 * d0 * sx2 + nu * (Rmax - Rt) * sy2 * (sx2 - tx) + nu^2 * tx * d0 * sx2 + nu^3 * c3)
}
delta_for <- function(beta, Rmax) { v <- ND(bt - beta, Rmax); unname(v["N"] / v["D"]) }
beta_star <- function(delta, Rmax) {
  # coefficients of N(nu) - delta D(nu) in increasing powers of nu, evaluated
  # by interpolation (exact for a cubic) rather than expanded by hand
  nus <- c(-1, 0, 1, 2) * max(abs(bt), abs(d0))
  f <- sapply(nus, function(nu) { v <- ND(nu, Rmax); v["N"] - delta * v["D"] })
  V <- outer(nus, 0:3, "^")
  a <- solve(V, f)
  a <- a[seq_len(max(which(abs(a) > 1e-12 * max(abs(a)))))]
  r <- polyroot(a)
  rr <- Re(r[abs(Im(r)) < 1e-9 * max(abs(bt), abs(d0))])
  bt - rr[which.min(abs(rr))]
}
cases <- list()
for (Rmax in c(1.3 * Rt, 0.5)) {
  key <- if (Rmax == 0.5) "rmax_0.5" else "rmax_1.3Rt"
  cases[[key]] <- list(rmax = Rmax,
                       delta_beta0 = delta_for(0, Rmax), delta_beta0.05 = delta_for(0.05, Rmax),
                       beta_star_delta1 = beta_star(1, Rmax), beta_star_delta0.5 = beta_star(0.5, Rmax),
                       beta_star_delta2 = beta_star(2, Rmax))
}
out <- list(software = paste(R.version.string, "; base stats; jsonlite", packageVersion("jsonlite")),
            nobs = nrow(m), controls = ctrl, beta_short = bo, beta_controlled = bt, r2_short = Ro,
            r2_controlled = Rt, var_y = sy2, var_x = sx2, tau_x = tx, cases = cases)
writeLines(toJSON(out, digits = NA, auto_unbox = TRUE, pretty = TRUE),
           "tests/reference/selection/oster_mroz/expected.json")
