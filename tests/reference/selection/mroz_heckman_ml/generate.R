# Independent reference for the full-information ML Heckman selection model,
# written in base R from the published log-likelihood (Heckman 1979; Stata
# [R] heckman "Methods and formulas"): parameters are the outcome
# coefficients, the probit coefficients, athrho = atanh(rho) and
# lnsigma = log(sigma), as in Stata.  The maximum is found with optim(BFGS)
# on an analytic gradient from OLS/probit starting values, then polished with
# Newton steps; the observed-information matrix is optimHess() (central
# differences of the analytic gradient, step 1e-6; the default step 1e-3 is
# too coarse here and moves some standard errors by up to 2.6%).  sampleSelection::selection (the usual
# R oracle) is not packaged for Debian and CRAN is unreachable here.
#
# Run from the repository root:
#   Rscript tests/reference/selection/mroz_heckman_ml/generate.R
library(jsonlite)

mroz <- read.csv("evaltools/datasets/mroz/mroz.csv")
sel_formula <- inlf ~ educ + exper + expersq + nwifeinc + age + kidslt6 + kidsge6
out_formula <- lwage ~ educ + exper + expersq

Z <- model.matrix(sel_formula, mroz)
s <- mroz$inlf == 1
X <- model.matrix(out_formula, mroz[s, ])
y <- mroz$lwage[s]
kx <- ncol(X); kz <- ncol(Z)

unpack <- function(th) list(b = th[1:kx], g = th[kx + 1:kz], t = th[kx + kz + 1], ls = th[kx + kz + 2])

loglik <- function(th) {
  p <- unpack(th); rho <- tanh(p$t); sig <- exp(p$ls); r <- sqrt(1 - rho^2)
  zg <- drop(Z %*% p$g)
  u <- (y - drop(X %*% p$b)) / sig
  a <- (zg[s] + rho * u) / r
  sum(pnorm(-zg[!s], log.p = TRUE)) +
    sum(pnorm(a, log.p = TRUE) + dnorm(u, log = TRUE) - p$ls)
}

mills <- function(x) exp(dnorm(x, log = TRUE) - pnorm(x, log.p = TRUE))

grad <- function(th) {
  p <- unpack(th); rho <- tanh(p$t); sig <- exp(p$ls); r <- sqrt(1 - rho^2)
  zg <- drop(Z %*% p$g)
  u <- (y - drop(X %*% p$b)) / sig
  a <- (zg[s] + rho * u) / r
  m <- mills(a)
  m0 <- mills(-zg[!s])
  du <- m * rho / r - u                  # d l_i / d u_i for selected rows
  gb <- -colSums(du * X) / sig
  gg <- colSums(m / r * Z[s, , drop = FALSE]) - colSums(m0 * Z[!s, , drop = FALSE])
  gt <- sum(m * (u + rho * zg[s]) / r)
  gs <- sum(-du * u - 1)
  c(gb, gg, gt, gs)
}

pr <- glm(sel_formula, family = binomial(link = "probit"), data = mroz)
ols <- lm(out_formula, data = mroz[s, ])
start <- c(coef(ols), coef(pr), 0, log(sqrt(mean(resid(ols)^2))))
opt <- optim(start, loglik, grad, method = "BFGS",
             control = list(fnscale = -1, reltol = 1e-15, maxit = 10000))
th <- opt$par
for (i in 1:20) {                         # Newton polish on the analytic gradient
  H <- optimHess(th, loglik, grad, control = list(ndeps = rep(1e-6, length(th))))
  step <- solve(H, grad(th))
  th <- th - step
  if (max(abs(step)) < 1e-13) break
}
H <- optimHess(th, loglik, grad, control = list(ndeps = rep(1e-6, length(th))))
V <- solve(-H)
se <- sqrt(diag(V))
names(th) <- names(se) <- c(paste0("outcome:", colnames(X)), paste0("selection:", colnames(Z)),
                            "athrho", "lnsigma")
llf <- loglik(th)
rho <- tanh(th[["athrho"]]); sigma <- exp(th[["lnsigma"]])
# delta method for rho, sigma, lambda = rho * sigma
idx <- c(kx + kz + 1, kx + kz + 2)
Vts <- V[idx, idx]
J <- rbind(c(1 - rho^2, 0), c(0, sigma), c((1 - rho^2) * sigma, rho * sigma))
Vd <- J %*% Vts %*% t(J)
# LR test of rho = 0: probit logL + normal-regression logL on the selected
llf0 <- as.numeric(logLik(glm(sel_formula, family = binomial(link = "probit"), data = mroz,
                             control = glm.control(epsilon = 1e-14, maxit = 100)))) +
  sum(dnorm(resid(ols), sd = sqrt(mean(resid(ols)^2)), log = TRUE))

out <- list(
  software = paste(R.version.string, "; base stats optim/optimHess; jsonlite", packageVersion("jsonlite")),
  llf = llf, max_abs_gradient = max(abs(grad(th))),
  params = as.list(th), bse = as.list(se),
  rho = rho, sigma = sigma, lambda = rho * sigma,
  rho_se = sqrt(Vd[1, 1]), sigma_se = sqrt(Vd[2, 2]), lambda_se = sqrt(Vd[3, 3]),
  lr_stat = 2 * (llf - llf0), llf_independent = llf0,
  nobs = nrow(mroz), nselected = sum(s)
)
writeLines(toJSON(out, digits = NA, auto_unbox = TRUE, pretty = TRUE),
           "tests/reference/selection/mroz_heckman_ml/expected.json")
