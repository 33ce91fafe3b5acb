# km_heart_entry: Kaplan-Meier / Nelson-Aalen with delayed entry (left truncation),
# counting-process rows (start, stop] of the Stanford heart transplant data, by transplant status.
# Run from this directory:  Rscript generate.R > generate.log
suppressPackageStartupMessages({library(survival); library(jsonlite)})
if (!file.exists("heart.csv")) write.csv(survival::heart, "heart.csv", row.names = FALSE)
d <- read.csv("heart.csv", stringsAsFactors = FALSE)
tab <- function(fit) {
  s <- summary(fit, censored = TRUE)
  out <- list(time = s$time, n_risk = s$n.risk, n_event = s$n.event, n_censor = s$n.censor,
              surv = s$surv, std_err_surv = s$std.err, lower = s$lower, upper = s$upper,
              cumhaz = s$cumhaz, std_chaz = s$std.chaz)
  if (!is.null(s$strata)) out$strata <- sub("^transplant=", "", as.character(s$strata))
  tb <- summary(fit)$table
  if (is.null(dim(tb))) tb <- t(tb)
  out$median <- unname(tb[, "median"]); out$median_lcl <- unname(tb[, "0.95LCL"]); out$median_ucl <- unname(tb[, "0.95UCL"])
  out
}
out <- list(versions = list(R = R.version.string, survival = as.character(packageVersion("survival")),
                            jsonlite = as.character(packageVersion("jsonlite")), date = as.character(Sys.Date())))
out$by_transplant <- tab(survfit(Surv(start, stop, event) ~ transplant, data = d, conf.type = "log-log", ctype = 1))
out$pooled <- tab(survfit(Surv(start, stop, event) ~ 1, data = d, conf.type = "log", ctype = 1))
write_json(out, "expected.json", digits = NA, auto_unbox = TRUE, pretty = TRUE)
print(survfit(Surv(start, stop, event) ~ transplant, data = d, conf.type = "log-log"))
