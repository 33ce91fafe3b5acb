# aipw_survival_veteran: doubly robust (AIPTW, AIPCW) survival of the test chemotherapy in the Veterans'
# Administration lung cancer trial (survival::veteran), riskRegression::ate, on the original data: event
# times are tied (no censoring times are), so point estimates and the known-nuisance influence function are
# exact references while riskRegression's nuisance part (iidCox) departs slightly from the exact one.
# Run from this directory:  Rscript generate.R > generate.log
suppressPackageStartupMessages({library(survival); library(riskRegression); library(data.table); library(jsonlite)})
src <- "../survival_veteran/veteran.csv"   # written from survival::veteran by ../survival_veteran/generate.R
d <- read.csv(src, stringsAsFactors = FALSE)
d$arm <- factor(as.integer(d$trt == 2))     # 1 = test chemotherapy
d$prior10 <- as.integer(d$prior == 10)
covs <- c("karno", "age", "diagtime", "prior10")
rhs <- paste(covs, collapse = " + ")
times <- c(30, 90, 180, 365)
tau <- 365
ctl_cox <- coxph.control(eps = 1e-13, toler.chol = 1e-15, iter.max = 100)
fit_cox <- function(f) coxph(as.formula(f), data = d, ties = "breslow", x = TRUE, y = TRUE, control = ctl_cox)
ps <- glm(as.formula(paste("arm ~", rhs)), data = d, family = binomial(),
          control = glm.control(epsilon = 1e-14, maxit = 100))
specs <- list(
  cox_cox = list(event = paste("Surv(time, status) ~ arm +", rhs), censor = paste("Surv(time, status == 0) ~", rhs)),
  byarm_marginal = list(event = paste("Surv(time, status) ~ strata(arm) +", paste(paste0(covs, ":arm"), collapse = " + ")),
                        censor = "Surv(time, status == 0) ~ 1")
)
grid <- sort(unique(d$time[d$time < tau])); widths <- diff(c(grid, tau))
one <- function(s) {
  ev <- fit_cox(s$event); ce <- fit_cox(s$censor)
  out <- list(event_formula = s$event, censor_formula = s$censor, times = times,
              # riskRegression's Cox influence function vs the exact one (dfbeta) with tied event times
              max_abs_iidCox_minus_dfbeta = max(abs(iidCox(ev, return.object = FALSE)$IFbeta -
                                                    residuals(ev, type = "dfbeta"))))
  for (known in c(FALSE, TRUE)) {
    a <- ate(event = ev, treatment = ps, censor = ce, data = d, times = times, cause = 1,
             estimator = "AIPTW,AIPCW", known.nuisance = known, iid = TRUE, verbose = FALSE)
    b <- ate(event = ev, treatment = ps, censor = ce, data = d, times = grid, cause = 1,
             estimator = "AIPTW,AIPCW", known.nuisance = known, iid = TRUE, verbose = FALSE)
    mr <- a$meanRisk; br <- b$meanRisk
    rm <- sapply(c("0", "1"), function(arm) tau - sum(widths * br[treatment == arm]$estimate))
    ri <- lapply(c("0", "1"), function(arm) -b$iid$AIPTW[[arm]] %*% widths)
    res <- list(risk_control = mr[treatment == "0"]$estimate, risk_treated = mr[treatment == "1"]$estimate,
                se_control = mr[treatment == "0"]$se, se_treated = mr[treatment == "1"]$se,
                risk_diff = a$diffRisk$estimate, se_risk_diff = a$diffRisk$se,
                rmst_control = unname(rm["0"]), rmst_treated = unname(rm["1"]), rmst_diff = unname(rm["1"] - rm["0"]),
                se_rmst_control = sqrt(sum(ri[[1]]^2)), se_rmst_treated = sqrt(sum(ri[[2]]^2)),
                se_rmst_diff = sqrt(sum((ri[[2]] - ri[[1]])^2)))
    if (known) res$iid_risk_control <- unname(a$iid$AIPTW[["0"]])
    out[[if (known) "known_nuisance" else "estimated_nuisance"]] <- res
  }
  out
}
out <- list(
  versions = list(R = R.version.string, survival = as.character(packageVersion("survival")),
                  riskRegression = as.character(packageVersion("riskRegression")),
                  jsonlite = as.character(packageVersion("jsonlite")), date = as.character(Sys.Date())),
  covariates = covs, tau = tau, n_grid = length(grid),
  tied_event_times = sum(duplicated(d$time[d$status == 1])), tied_censoring_times = sum(duplicated(d$time[d$status == 0])),
  pscore = unname(fitted(ps))
)
for (nm in names(specs)) out[[nm]] <- one(specs[[nm]])
write_json(out, "expected.json", digits = NA, auto_unbox = TRUE, pretty = TRUE)
cat("veteran:", nrow(d), "rows;", sum(d$status), "events;", sum(d$arm == "1"), "treated; tied event times",
    out$tied_event_times, "; tied censoring times", out$tied_censoring_times, "\n")
for (nm in names(specs)) {
  cat("\n==", nm, "==\n", specs[[nm]]$event, "\n", specs[[nm]]$censor, "\n")
  for (k in c("estimated_nuisance", "known_nuisance")) {
    e <- out[[nm]][[k]]
    cat(k, "\n")
    print(data.frame(time = times, surv_treated = 1 - e$risk_treated, surv_control = 1 - e$risk_control,
                     se_treated = e$se_treated, se_control = e$se_control, se_diff = e$se_risk_diff))
    print(unlist(e[c("rmst_treated", "rmst_control", "rmst_diff", "se_rmst_treated", "se_rmst_control", "se_rmst_diff")]))
  }
  cat("max |iidCox IFbeta - dfbeta| (outcome model):", out[[nm]]$max_abs_iidCox_minus_dfbeta, "\n")
}
