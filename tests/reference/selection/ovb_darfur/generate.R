# Reference values for evaltools.selection.ovb_sensitivity (Cinelli & Hazlett 2020 omitted-variable bias).
# sensemakr is not installed here: the closed-form formulas are written out from the paper
# (Cinelli, C. and Hazlett, C. (2020), "Making sense of sensitivity: extending omitted variable bias",
# JRSS-B 82(1), 39-67), independently of the Python code, and applied to lm() fits of base R.
# Run from the repository root:
#   Rscript tests/reference/selection/ovb_darfur/generate.R > tests/reference/selection/ovb_darfur/generate.log
library(jsonlite)
here <- "tests/reference/selection/ovb_darfur"
d <- read.csv(file.path(here, "darfur.csv"))
d$village <- factor(d$village)

outcome_model <- lm(peacefactor ~ directlyharmed + age + farmer_dar + herder_dar + pastvoted +
                      hhsize_darfur + female + village, data = d)
treatment_model <- lm(directlyharmed ~ age + farmer_dar + herder_dar + pastvoted +
                        hhsize_darfur + female + village, data = d)
co <- summary(outcome_model)$coefficients
ct <- summary(treatment_model)$coefficients
est <- co["directlyharmed", "Estimate"]
se <- co["directlyharmed", "Std. Error"]
tval <- co["directlyharmed", "t value"]
dof <- outcome_model$df.residual

# partial R2 and Cohen's f2 from the t-statistic (Section 4.1 of the paper)
partial_r2 <- function(t, dof) t^2 / (t^2 + dof)
# group partial R2 from the Wald / F statistic of a block of coefficients
group_r2 <- function(model, terms) {
  b <- coef(model)[terms]
  V <- vcov(model)[terms, terms, drop = FALSE]
  fp <- as.numeric(t(b) %*% solve(V) %*% b)  # = F * p
  fp / (fp + model$df.residual)
}
# robustness value (eq. 17-18; with alpha: the t-test at dof - 1 residual degrees of freedom, and the
# case fq > 1 / f_crit in which the constraint R2_dz <= 1 binds and RV = (fq^2 - fcrit^2) / (1 + fq^2))
rv <- function(t, dof, q = 1, alpha = NULL) {
  fq <- q * abs(t) / sqrt(dof)
  fcrit <- if (is.null(alpha)) 0 else abs(qt(alpha / 2, df = dof - 1)) / sqrt(dof - 1)
  fqa <- fq - fcrit
  if (fqa <= 0) return(0)
  if (!is.null(alpha) && fq > 1 / fcrit) return((fq^2 - fcrit^2) / (1 + fq^2))
  0.5 * (sqrt(fqa^4 + 4 * fqa^2) - fqa^2)
}
# bias, adjusted estimate, SE and t (eq. 11-12 and Section 4.4)
bias <- function(se, dof, r2dz, r2yz) sqrt(r2yz * r2dz / (1 - r2dz)) * se * sqrt(dof)
adj_est <- function(est, se, dof, r2dz, r2yz, reduce = TRUE)
  sign(est) * (abs(est) + (if (reduce) -1 else 1) * bias(se, dof, r2dz, r2yz))
adj_se <- function(se, dof, r2dz, r2yz) sqrt((1 - r2yz) / (1 - r2dz)) * se * sqrt(dof / (dof - 1))
# bounds from a benchmark covariate X_j (Section 6.1, eq. 19-20 and footnote 10)
bound <- function(r2dxj, r2yxj, kd, ky) {
  r2dz <- kd * r2dxj / (1 - r2dxj)
  r2zxj <- kd * r2dxj^2 / ((1 - kd * r2dxj) * (1 - r2dxj))
  r2yz <- ((sqrt(ky) + sqrt(r2zxj)) / sqrt(1 - r2zxj))^2 * (r2yxj / (1 - r2yxj))
  c(r2dz = r2dz, r2yz = min(r2yz, 1))
}
alpha <- 0.05
tcrit <- qt(1 - alpha / 2, df = dof - 1)

bench <- list(female = "female", `female+pastvoted` = c("female", "pastvoted"))
rows <- list()
for (nm in names(bench)) {
  terms <- bench[[nm]]
  r2dxj <- group_r2(treatment_model, terms)
  r2yxj <- group_r2(outcome_model, terms)
  ks <- if (nm == "female") list(c(1, 1), c(2, 2), c(3, 3), c(2, 1)) else list(c(1, 1))
  for (k in ks) {
    b <- bound(r2dxj, r2yxj, k[1], k[2])
    ae <- adj_est(est, se, dof, b[["r2dz"]], b[["r2yz"]])
    as <- adj_se(se, dof, b[["r2dz"]], b[["r2yz"]])
    rows[[length(rows) + 1]] <- list(
      benchmark = nm, kd = k[1], ky = k[2], r2dxj_x = r2dxj, r2yxj_dx = r2yxj,
      r2dz_x = b[["r2dz"]], r2yz_dx = b[["r2yz"]], adjusted_estimate = ae, adjusted_se = as,
      adjusted_t = ae / as, adjusted_lower = ae - tcrit * as, adjusted_upper = ae + tcrit * as)
  }
}
grid <- expand.grid(r2dz = c(0.01, 0.05, 0.2), r2yz = c(0.02, 0.1, 0.4))
grid$estimate_reduce <- mapply(function(a, b) adj_est(est, se, dof, a, b, TRUE), grid$r2dz, grid$r2yz)
grid$estimate_increase <- mapply(function(a, b) adj_est(est, se, dof, a, b, FALSE), grid$r2dz, grid$r2yz)
grid$se <- mapply(function(a, b) adj_se(se, dof, a, b), grid$r2dz, grid$r2yz)
# numeric cases: RV with q = 1/2, and one in which the R2_dz <= 1 constraint binds
numeric <- list(
  list(t = tval, dof = dof, q = 0.5, alpha = 0.05, rv_q = rv(tval, dof, 0.5), rv_qa = rv(tval, dof, 0.5, 0.05)),
  list(t = 60, dof = 100, q = 1, alpha = 0.05, rv_q = rv(60, 100, 1), rv_qa = rv(60, 100, 1, 0.05)),
  list(t = 1.5, dof = 50, q = 1, alpha = 0.05, rv_q = rv(1.5, 50, 1), rv_qa = rv(1.5, 50, 1, 0.05)))
out <- list(
  nobs = nrow(d), estimate = est, se = se, t_statistic = tval, dof = dof,
  r2yd_x = partial_r2(tval, dof), f2yd_x = tval^2 / dof,
  rv_q = rv(tval, dof, 1), rv_qa = rv(tval, dof, 1, alpha), alpha = alpha,
  r2yd_x_group_directlyharmed_female = group_r2(outcome_model, c("directlyharmed", "female")),
  bounds = rows, grid = grid, numeric = numeric,
  meta = list(R = R.version.string, date = as.character(Sys.Date()),
              input_sha256 = "see PROVENANCE.md"))
print(co["directlyharmed", ], digits = 15)
str(out[c("estimate", "se", "dof", "r2yd_x", "rv_q", "rv_qa")], digits.d = 15)
print(do.call(rbind, lapply(rows, as.data.frame)), digits = 12)
writeLines(toJSON(out, digits = NA, auto_unbox = TRUE, pretty = TRUE), file.path(here, "expected.json"))
