# km_aml: Kaplan-Meier and Nelson-Aalen with tied times, by group, three CI types.
# Run from this directory:  Rscript generate.R > generate.log
suppressPackageStartupMessages({library(survival); library(jsonlite)})
if (!file.exists("aml.csv")) write.csv(survival::aml, "aml.csv", row.names = FALSE)
d <- read.csv("aml.csv", stringsAsFactors = FALSE)
tab <- function(fit) {
  s <- summary(fit, censored = TRUE)
  out <- list(time = s$time, n_risk = s$n.risk, n_event = s$n.event, n_censor = s$n.censor,
              surv = s$surv, lower = s$lower, upper = s$upper, cumhaz = s$cumhaz, std_chaz = s$std.chaz)
  if (!is.null(s$strata)) out$strata <- sub("^x=", "", as.character(s$strata))
  out$std_err_surv <- s$std.err
  tb <- summary(fit)$table; out$median <- unname(tb[, "median"]); out$median_lcl <- unname(tb[, "0.95LCL"]); out$median_ucl <- unname(tb[, "0.95UCL"])
  out
}
out <- list(versions = list(R = R.version.string, survival = as.character(packageVersion("survival")),
                            jsonlite = as.character(packageVersion("jsonlite")), date = as.character(Sys.Date())))
for (ct in c("log", "log-log", "plain")) {
  fit <- survfit(Surv(time, status) ~ x, data = d, conf.type = ct, ctype = 1)
  out[[ct]] <- tab(fit)
}
fit1 <- survfit(Surv(time, status) ~ 1, data = d, conf.type = "log-log")
s1 <- summary(fit1, censored = TRUE)
out$pooled <- list(time = s1$time, n_risk = s1$n.risk, n_event = s1$n.event, surv = s1$surv,
                   std_err_surv = s1$std.err, lower = s1$lower, upper = s1$upper,
                   cumhaz = s1$cumhaz, std_chaz = s1$std.chaz,
                   median = unname(summary(fit1)$table["median"]),
                   surv_at = summary(fit1, times = c(0, 10, 30, 100), extend = TRUE)$surv)
# case weights 1, 2, 3, 1, 2, 3, ... (weighted counts, Greenwood with weighted d and Y)
d$w <- rep_len(1:3, nrow(d))
fw <- survfit(Surv(time, status) ~ x, data = d, weights = w, conf.type = "log-log", ctype = 1)
sw <- summary(fw, censored = TRUE)
out$weighted <- list(time = sw$time, strata = sub("^x=", "", as.character(sw$strata)), n_risk = sw$n.risk,
                     n_event = sw$n.event, surv = sw$surv, std_err_surv = sw$std.err, lower = sw$lower,
                     upper = sw$upper, cumhaz = sw$cumhaz, std_chaz = sw$std.chaz)
# censoring before the first event: S = 1 with zero standard error (degenerate vs NA limits)
tiny <- data.frame(t = c(1, 2, 3, 4, 5), e = c(0, 1, 0, 1, 0))
out$censored_first <- list()
for (ct in c("log", "log-log", "plain")) {
  st <- summary(survfit(Surv(t, e) ~ 1, data = tiny, conf.type = ct), censored = TRUE)
  out$censored_first[[ct]] <- list(time = st$time, surv = st$surv, lower = st$lower, upper = st$upper)
}
write_json(out, "expected.json", digits = NA, auto_unbox = TRUE, pretty = TRUE)
print(summary(survfit(Surv(time, status) ~ x, data = d, conf.type = "log-log")))
print(fit1)
