# aipw_survival_gbsg: doubly robust (AIPTW, AIPCW) survival curves, survival differences/ratios and RMST of
# hormonal therapy in the German Breast Cancer Study Group data (survival::gbsg), riskRegression::ate.
# Run from this directory:  Rscript generate.R > generate.log
suppressPackageStartupMessages({library(survival); library(riskRegression); library(data.table); library(jsonlite)})
if (!file.exists("gbsg.csv")) {
  # riskRegression::ate enumerates censoring times with multiplicity and riskRegression::iidCox departs from
  # the exact (dfbeta) influence function with tied event times; tied times are therefore broken
  # deterministically: within a group of rows sharing rfstime, ordered by pid, the k-th row gets
  # rfstime + (k - 1) / 100 days (at most 3 rows share a day, so the order of distinct days is unchanged).
  g <- survival::gbsg
  o <- order(g$rfstime, g$pid)
  k <- integer(nrow(g)); k[o] <- ave(g$rfstime[o], g$rfstime[o], FUN = seq_along)
  g$time <- g$rfstime + (k - 1) / 100
  write.csv(g, "gbsg.csv", row.names = FALSE)
}
g <- read.csv("gbsg.csv")
stopifnot(!anyDuplicated(g$time))
g$hormon <- factor(g$hormon)
covs <- c("age", "meno", "size", "grade", "nodes", "pgr", "er")
rhs <- paste(covs, collapse = " + ")
by_arm <- paste(paste0(covs, ":hormon"), collapse = " + ")
times <- c(365, 730, 1095, 1825)
tau <- 1825
ctl_glm <- glm.control(epsilon = 1e-14, maxit = 100)
ctl_cox <- coxph.control(eps = 1e-13, toler.chol = 1e-15, iter.max = 100)
fit_cox <- function(f) coxph(as.formula(f), data = g, ties = "breslow", x = TRUE, y = TRUE, control = ctl_cox)
ps <- glm(as.formula(paste("hormon ~", rhs)), data = g, family = binomial(), control = ctl_glm)
specs <- list(
  cox_cox = list(event = paste("Surv(time, status) ~ hormon +", rhs),
                 censor = paste("Surv(time, status == 0) ~", rhs)),
  byarm_byarm = list(event = paste("Surv(time, status) ~ strata(hormon) +", by_arm),
                     censor = paste("Surv(time, status == 0) ~ strata(hormon) +", by_arm)),
  cox_marginal = list(event = paste("Surv(time, status) ~ hormon +", rhs),
                      censor = "Surv(time, status == 0) ~ 1")
)
run_ate <- function(ev, ce, tt, known) {
  ate(event = ev, treatment = ps, censor = ce, data = g, times = tt, cause = 1, estimator = "AIPTW,AIPCW",
      known.nuisance = known, iid = TRUE, verbose = FALSE)
}
risk_iid <- function(a, arm) a$iid$AIPTW[[arm]]   # n x times influence functions of the risk
grid <- sort(unique(g$time[g$time < tau]))       # the AIPTW curve is a step function with jumps at these times
widths <- diff(c(grid, tau))
rmst <- function(ev, ce, known) {
  # RMST_a = tau - sum_k widths_k F_a(grid_k), its influence function -sum_k widths_k IF(F_a(grid_k));
  # ate is called on chunks of 50 times to bound memory
  est <- c(`0` = tau, `1` = tau); inf <- list(`0` = 0, `1` = 0)
  for (ch in split(seq_along(grid), ceiling(seq_along(grid) / 50))) {
    a <- run_ate(ev, ce, grid[ch], known)
    for (arm in c("0", "1")) {
      r <- a$meanRisk[treatment == arm]
      est[arm] <- est[arm] - sum(widths[ch] * r$estimate)
      inf[[arm]] <- inf[[arm]] - risk_iid(a, arm) %*% widths[ch]
    }
  }
  d <- inf[["1"]] - inf[["0"]]
  list(rmst_control = unname(est["0"]), rmst_treated = unname(est["1"]), rmst_diff = unname(est["1"] - est["0"]),
       se_control = sqrt(sum(inf[["0"]]^2)), se_treated = sqrt(sum(inf[["1"]]^2)), se_diff = sqrt(sum(d^2)),
       iid_diff = as.numeric(d))
}
one <- function(s, keep_iid) {
  ev <- fit_cox(s$event); ce <- fit_cox(s$censor)
  out <- list(event_formula = s$event, censor_formula = s$censor, times = times,
              event_coef = unname(coef(ev)), censor_coef = if (length(coef(ce))) unname(coef(ce)) else list())
  for (known in c(FALSE, TRUE)) {
    a <- run_ate(ev, ce, times, known)
    mr <- a$meanRisk
    s0 <- 1 - mr[treatment == "0"]$estimate; s1 <- 1 - mr[treatment == "1"]$estimate
    i0 <- -risk_iid(a, "0"); i1 <- -risk_iid(a, "1")      # influence functions of the survival probabilities
    ratio <- s1 / s0
    iratio <- (i1 - sweep(i0, 2, ratio, "*")) %*% diag(1 / s0, length(times))
    res <- list(
      risk_control = mr[treatment == "0"]$estimate, risk_treated = mr[treatment == "1"]$estimate,
      se_control = mr[treatment == "0"]$se, se_treated = mr[treatment == "1"]$se,
      risk_diff = a$diffRisk$estimate, se_risk_diff = a$diffRisk$se,        # treated minus control
      risk_ratio = a$ratioRisk$estimate, se_risk_ratio = a$ratioRisk$se,    # treated over control
      surv_ratio = ratio, se_surv_ratio = sqrt(colSums(iratio^2)),
      rmst = rmst(ev, ce, known))
    if (keep_iid && !known) {
      res$iid_risk_control <- unname(risk_iid(a, "0")); res$iid_risk_treated <- unname(risk_iid(a, "1"))
    } else {
      res$rmst$iid_diff <- NULL
    }
    out[[if (known) "known_nuisance" else "estimated_nuisance"]] <- res
  }
  out
}
out <- list(
  versions = list(R = R.version.string, survival = as.character(packageVersion("survival")),
                  riskRegression = as.character(packageVersion("riskRegression")),
                  jsonlite = as.character(packageVersion("jsonlite")), date = as.character(Sys.Date())),
  covariates = covs, tau = tau, n_grid = length(grid),
  n_tie_broken = sum(g$time != g$rfstime),
  ps_coef = unname(coef(ps)), pscore = unname(fitted(ps))
)
for (nm in names(specs)) out[[nm]] <- one(specs[[nm]], keep_iid = nm == "cox_cox")

# The original data (48 tied censoring times): riskRegression's point estimates, and the same AIPTW/AIPCW
# point estimate written out from its definition, once with the censoring times enumerated with
# multiplicity (as ate does; must reproduce ate) and once with the distinct censoring times.
o <- survival::gbsg; o$hormon <- factor(o$hormon); o$time <- o$rfstime
ps_o <- glm(as.formula(paste("hormon ~", rhs)), data = o, family = binomial(), control = ctl_glm)
ev_o <- coxph(as.formula(specs$cox_cox$event), data = o, ties = "breslow", x = TRUE, y = TRUE, control = ctl_cox)
ce_o <- coxph(as.formula(specs$cox_cox$censor), data = o, ties = "breslow", x = TRUE, y = TRUE, control = ctl_cox)
a_o <- ate(event = ev_o, treatment = ps_o, censor = ce_o, data = o, times = times, cause = 1,
           estimator = "AIPTW,AIPCW", verbose = FALSE, se = FALSE)
by_definition <- function(tau, arm, distinct) {
  n <- nrow(o); T <- o$time; D <- o$status
  p1 <- fitted(ps_o); W <- (o$hormon == arm) / (if (arm == "1") p1 else 1 - p1)
  oc <- o; oc$hormon <- factor(arm, levels = c("0", "1"))
  Fa <- 1 - predictCox(ev_o, newdata = oc, times = tau)$survival[, 1]
  u <- sort(T[D == 0]); if (distinct) u <- unique(u); u <- u[u <= tau]
  G <- predictCox(ce_o, newdata = o, times = c(0, u)[seq_along(u)])$survival  # G(u-): at the previous time
  S <- predictCox(ev_o, newdata = o, times = u - 1e-12)$survival               # S(u-)
  Fu <- 1 - predictCox(ev_o, newdata = o, times = u)$survival
  dM <- (outer(T, u, "==") * (D == 0) - predictCox(ce_o, newdata = o, times = u, type = "hazard")$hazard) *
    outer(T, u, ">=")
  GT <- cbind(1, predictCox(ce_o, newdata = o, times = u)$survival)[cbind(1:n, sapply(pmin(T, tau), function(x) sum(u < x)) + 1)]
  mean(Fa + W * ((T <= tau) * (D == 1) / GT - Fa + Fa * rowSums(dM / (G * S)) - rowSums(Fu * dM / (G * S))))
}
grid_o <- expand.grid(time = times, arm = c("0", "1"), stringsAsFactors = FALSE)
mult <- mapply(by_definition, grid_o$time, grid_o$arm, FALSE)
stopifnot(isTRUE(all.equal(mult, a_o$meanRisk[order(treatment, time)]$estimate, tolerance = 1e-10)))
out$original_data <- list(
  tied_censoring_times = sum(duplicated(o$time[o$status == 0])), tied_event_times = sum(duplicated(o$time[o$status == 1])),
  times = grid_o$time, arm = grid_o$arm, risk_ate = a_o$meanRisk[order(treatment, time)]$estimate,
  risk_distinct_censoring_times = mapply(by_definition, grid_o$time, grid_o$arm, TRUE))
write_json(out, "expected.json", digits = NA, auto_unbox = TRUE, pretty = TRUE)
cat("gbsg:", nrow(g), "rows;", sum(g$status), "events;", sum(g$hormon == "1"), "treated;",
    out$n_tie_broken, "times shifted to break ties;", length(grid), "distinct times below tau\n")
for (nm in names(specs)) {
  cat("\n==", nm, "==\n", specs[[nm]]$event, "\n", specs[[nm]]$censor, "\n")
  e <- out[[nm]]$estimated_nuisance
  print(data.frame(time = times, surv_treated = 1 - e$risk_treated, surv_control = 1 - e$risk_control,
                   se_treated = e$se_treated, se_control = e$se_control, surv_diff = -e$risk_diff,
                   se_diff = e$se_risk_diff, surv_ratio = e$surv_ratio, se_ratio = e$se_surv_ratio))
  print(unlist(e$rmst[c("rmst_treated", "rmst_control", "rmst_diff", "se_treated", "se_control", "se_diff")]))
  k <- out[[nm]]$known_nuisance
  cat("known nuisance SE (treated, control):", k$se_treated, "|", k$se_control, "\n")
}
cat("\nOriginal gbsg (tied censoring times", out$original_data$tied_censoring_times, "; tied event times",
    out$original_data$tied_event_times, "): risk from ate (censoring times with multiplicity, reproduced from the",
    "definition to 1e-10) and from the distinct censoring times\n")
print(as.data.frame(out$original_data[c("times", "arm", "risk_ate", "risk_distinct_censoring_times")]))
