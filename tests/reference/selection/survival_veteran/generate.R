# survival_veteran: IPW-weighted Kaplan-Meier curves, RMST and survival differences (stteffects-ipw analogue).
# Run from this directory:  Rscript generate.R > generate.log
suppressPackageStartupMessages({library(survival); library(jsonlite)})
if (!file.exists("veteran.csv")) write.csv(survival::veteran, "veteran.csv", row.names = FALSE)
d <- read.csv("veteran.csv", stringsAsFactors = FALSE)
d$arm <- as.integer(d$trt == 2)           # 1 = test chemotherapy, 0 = standard
d$prior10 <- as.integer(d$prior == 10)    # prior therapy
covs <- c("karno", "age", "diagtime", "prior10")
ps_fit <- glm(arm ~ karno + age + diagtime + prior10, family = binomial(), data = d,
              control = glm.control(epsilon = 1e-14, maxit = 100))
p <- unname(fitted(ps_fit))
taus <- c(200, 400)
times <- c(30, 90, 180, 365)
rmst_manual <- function(time, surv, tau) {
  # area under the right-continuous step function S on [0, tau]; S = 1 before the first time
  t <- c(0, time[time < tau]); s <- c(1, surv[time < tau])
  sum(s * diff(c(t, tau)))
}
one <- function(w) {
  d$w <- w
  fit <- survfit(Surv(time, status) ~ arm, data = d, weights = w, ctype = 1, conf.type = "log-log")
  s <- summary(fit, censored = TRUE)
  strata <- sub("^arm=", "", as.character(s$strata))
  out <- list(weights = w, time = s$time, strata = strata, n_risk = s$n.risk, n_event = s$n.event,
              surv = s$surv)
  for (tau in taus) {
    key <- paste0("tau_", tau)
    r <- sapply(c("0", "1"), function(g) rmst_manual(s$time[strata == g], s$surv[strata == g], tau))
    rm <- unname(summary(fit, rmean = tau)$table[, "rmean"])   # survival's own restricted mean
    out[[key]] <- list(rmst_control = unname(r["0"]), rmst_treated = unname(r["1"]),
                       rmst_diff = unname(r["1"] - r["0"]), survfit_rmean = rm)
  }
  sa <- summary(fit, times = times, extend = TRUE)
  sat <- sub("^arm=", "", as.character(sa$strata))
  out$times <- times
  out$surv_control_at <- sa$surv[sat == "0"]
  out$surv_treated_at <- sa$surv[sat == "1"]
  out
}
t <- d$arm
w_ate <- ifelse(t == 1, 1 / p, 1 / (1 - p))
w_att <- ifelse(t == 1, 1, p / (1 - p))
out <- list(
  versions = list(R = R.version.string, survival = as.character(packageVersion("survival")),
                  jsonlite = as.character(packageVersion("jsonlite")), date = as.character(Sys.Date())),
  covariates = covs,
  ps_coef = as.list(coef(ps_fit)),
  pscore = p,
  ATE = one(w_ate),
  ATT = one(w_att),
  unweighted = one(rep(1, nrow(d)))
)
# full precision: jsonlite prints at most 15 significant digits, so doubles are written verbatim with %.17g
fp <- function(x) {
  if (is.list(x)) return(lapply(x, fp))
  if (is.double(x)) {
    v <- sprintf("%.17g", x)
    return(structure(if (length(x) == 1) v else paste0("[", paste(v, collapse = ", "), "]"), class = "json"))
  }
  x
}
write_json(fp(out), "expected.json", auto_unbox = TRUE, pretty = TRUE, json_verbatim = TRUE)
print(summary(ps_fit))
for (k in c("ATE", "ATT", "unweighted")) {
  cat("\n==", k, "==\n")
  print(out[[k]][["tau_200"]]); print(out[[k]][["tau_400"]])
  cat("S(t) control:", out[[k]]$surv_control_at, "\nS(t) treated:", out[[k]]$surv_treated_at, "\n")
}
