# ms_mgus2: multi-state Aalen-Johansen (illness-death: entry -> PCM -> death, entry -> death) on
# survival::mgus2 (../aj_mgus2/mgus2.csv), built with tmerge as in the survival vignette "compete"
# (section "Multi-state models"); R survfit(Surv(tstart, tstop, event) ~ 1, id = id) with the
# infinitesimal-jackknife standard errors (R's default), overall and by sex.
# Run from this directory:  Rscript generate.R > generate.log
suppressPackageStartupMessages({library(survival); library(jsonlite)})
mgus2 <- read.csv("../aj_mgus2/mgus2.csv", stringsAsFactors = FALSE)
ptemp <- with(mgus2, ifelse(ptime == futime & pstat == 1, ptime - .1, ptime))
data3 <- tmerge(mgus2[, c("id", "age", "sex")], mgus2, id = id, death = event(futime, death),
                pcm = event(ptemp, pstat))
temp <- with(data3, ifelse(death == 1, 2, pcm))
data3$event <- factor(temp, 0:2, labels = c("censor", "pcm", "death"))
write.csv(data3[, c("id", "sex", "tstart", "tstop", "event")], "mgus2_ms.csv", row.names = FALSE)
tab <- function(fit) {
  s <- summary(fit, censored = TRUE)
  out <- list(time = s$time, states = fit$states, n_risk = unname(s$n.risk), n_event = unname(s$n.event),
              pstate = unname(s$pstate), std_err = unname(s$std.err), lower = unname(s$lower),
              upper = unname(s$upper))
  if (!is.null(s$strata)) out$strata <- sub("^sex=", "", as.character(s$strata))
  out
}
fit <- survfit(Surv(tstart, tstop, event) ~ 1, data = data3, id = id)
fits <- survfit(Surv(tstart, tstop, event) ~ sex, data = data3, id = id)
out <- list(versions = list(R = R.version.string, survival = as.character(packageVersion("survival")),
                            jsonlite = as.character(packageVersion("jsonlite")), date = as.character(Sys.Date())),
            data = list(nrow = nrow(data3), nperson = length(unique(data3$id)),
                        transitions = unname(as.list(table(data3$event)))),
            pooled = tab(fit), by_sex = tab(fits))
write_json(out, "expected.json", digits = NA, auto_unbox = TRUE, pretty = TRUE)
print(fit); print(summary(fit, times = c(60, 120, 240)))
