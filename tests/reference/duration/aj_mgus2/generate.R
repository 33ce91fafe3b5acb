# aj_mgus2: Aalen-Johansen cumulative incidence of progression (PCM) vs death (competing),
# survival::mgus2, by sex; R survfit multi-state (infinitesimal-jackknife standard errors).
# States in R's order: (s0) = event-free, pcm, death.
# Run from this directory:  Rscript generate.R > generate.log
suppressPackageStartupMessages({library(survival); library(jsonlite)})
if (!file.exists("mgus2.csv")) write.csv(survival::mgus2, "mgus2.csv", row.names = FALSE)
d <- read.csv("mgus2.csv", stringsAsFactors = FALSE)
d$etime <- ifelse(d$pstat == 0, d$futime, d$ptime)
d$cause <- ifelse(d$pstat == 0, 2 * d$death, 1)   # 0 censored, 1 PCM, 2 death
d$ev <- factor(d$cause, 0:2, labels = c("censor", "pcm", "death"))
tab <- function(fit) {
  s <- summary(fit, censored = TRUE)
  out <- list(time = s$time, n_risk = unname(s$n.risk[, 1]),
              n_event_pcm = unname(s$n.event[, 2]), n_event_death = unname(s$n.event[, 3]),
              n_censor = unname(if (is.null(dim(s$n.censor))) s$n.censor else s$n.censor[, 1]),
              surv = unname(s$pstate[, 1]), cif_pcm = unname(s$pstate[, 2]), cif_death = unname(s$pstate[, 3]),
              se_surv = unname(s$std.err[, 1]), se_pcm = unname(s$std.err[, 2]),
              se_death = unname(s$std.err[, 3]),
              lower_pcm = unname(s$lower[, 2]), upper_pcm = unname(s$upper[, 2]))
  if (!is.null(s$strata)) out$strata <- sub("^sex=", "", as.character(s$strata))
  out
}
out <- list(versions = list(R = R.version.string, survival = as.character(packageVersion("survival")),
                            jsonlite = as.character(packageVersion("jsonlite")), date = as.character(Sys.Date())),
            states = c("pcm", "death"))
fit <- survfit(Surv(etime, ev) ~ sex, data = d, id = id)
out$by_sex <- tab(fit)
fit1 <- survfit(Surv(etime, ev) ~ 1, data = d, id = id)
out$pooled <- tab(fit1)
write_json(out, "expected.json", digits = NA, auto_unbox = TRUE, pretty = TRUE)
print(fit)
print(summary(fit1, times = c(60, 120, 240)))
