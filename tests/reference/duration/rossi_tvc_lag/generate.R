# D1 (lagged): Rossi, employment lagged one week (Fox & Weisberg appendix, `employed.lag1`).
# Run from this directory:  Rscript generate.R
source("../cox_common.R")
rossi <- read.csv("../../../../evaltools/datasets/rossi/rossi.csv", stringsAsFactors = TRUE)
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
long <- unfold_rossi(rossi, lag = 1)
f <- Surv(start, stop, event) ~ fin + age + race + wexp + mar + paro + prio + employed
efron <- coxph(f, data = long, ties = "efron")
clus <- coxph(f, data = long, ties = "efron", cluster = id)
out <- list(
  versions = versions(),
  data = list(nrow = nrow(long), nevent = sum(long$event), sum_employed = sum(long$employed),
              nperson = length(unique(long$id))),
  efron = fit_summary(efron),
  efron_cluster_id = fit_summary(clus))
write_expected(out)
print(summary(efron))
