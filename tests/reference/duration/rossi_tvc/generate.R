# D1: Rossi recidivism, Cox with weekly time-varying `employed` (Fox & Weisberg appendix model).
# Run from this directory:  Rscript generate.R
source("../cox_common.R")
rossi <- read.csv("../../../../evaltools/datasets/rossi/rossi.csv", stringsAsFactors = TRUE)

# Independent R unfold (as in Fox & Weisberg's appendix): one row per person-week (t-1, t].
unfold_rossi <- function(d, lag = 0) {
  rows <- list()
  for (i in seq_len(nrow(d))) {
    if (d$week[i] <= lag) next
    t <- (lag + 1):d$week[i]
    emp <- as.integer(vapply(d[i, paste0("emp", t - lag)], as.character, "") == "yes")
    rows[[length(rows) + 1]] <- data.frame(
      id = i, start = t - 1, stop = t,
      event = as.integer(t == d$week[i] & d$arrest[i] == 1), employed = emp,
      d[rep(i, length(t)), c("fin", "age", "race", "wexp", "mar", "paro", "prio", "educ")],
      row.names = NULL)
  }
  do.call(rbind, rows)
}
stopifnot(all(levels(rossi$emp1) == c("no", "yes")))
long <- unfold_rossi(rossi, lag = 0)
# case weights for the strata/weights model (deterministic, integer-valued)
long$w <- 1 + (long$id %% 3)

f <- Surv(start, stop, event) ~ fin + age + race + wexp + mar + paro + prio + employed
efron <- coxph(f, data = long, ties = "efron")
breslow <- coxph(f, data = long, ties = "breslow")
clus <- coxph(f, data = long, ties = "efron", cluster = id)
clus_b <- coxph(f, data = long, ties = "breslow", cluster = id)
long$row <- seq_len(nrow(long))
rob_rows <- coxph(f, data = long, ties = "efron", cluster = row)   # per-row sandwich
sw <- coxph(Surv(start, stop, event) ~ fin + age + race + mar + paro + prio + employed + strata(wexp),
            data = long, ties = "efron", weights = w)
sw_clus <- coxph(Surv(start, stop, event) ~ fin + age + race + mar + paro + prio + employed + strata(wexp),
                 data = long, ties = "efron", weights = w, cluster = id)

out <- list(
  versions = versions(),
  data = list(nrow = nrow(long), nevent = sum(long$event), sum_employed = sum(long$employed),
              nperson = length(unique(long$id))),
  efron = c(fit_summary(efron), list(zph = zph_summary(efron))),
  breslow = c(fit_summary(breslow), list(zph = zph_summary(breslow))),
  efron_cluster_id = fit_summary(clus),
  breslow_cluster_id = fit_summary(clus_b),
  efron_robust_rows = fit_summary(rob_rows),
  strata_weights = c(fit_summary(sw), list(zph = zph_summary(sw))),
  strata_weights_cluster_id = fit_summary(sw_clus))
write_expected(out)
print(summary(efron)); print(cox.zph(efron, terms = FALSE))
