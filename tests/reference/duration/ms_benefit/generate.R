# ms_benefit: multi-state Aalen-Johansen on simulated weekly benefit histories with transitions in
# both directions (benefit <-> job, benefit -> education -> benefit), persons starting on benefit or
# in a job (istate), delayed entry, tied weekly times, person weights and two groups.
# R survfit(Surv(start, stop, to) ~ [group], id = id, istate = state, weights = w) with the
# infinitesimal-jackknife standard errors.  The data are simulated here (set.seed) and stored.
# Run from this directory:  Rscript generate.R > generate.log
suppressPackageStartupMessages({library(survival); library(jsonlite)})
set.seed(20261202)
n <- 400
rows <- vector("list", n)
states <- c("benefit", "job", "education")
leave <- c(benefit = 0.10, job = 0.04, education = 0.08)      # weekly exit probability per state
for (i in seq_len(n)) {
  s <- if (runif(1) < 0.7) "benefit" else "job"
  t <- if (runif(1) < 0.75) 0 else sample(1:10, 1)                # delayed entry
  cens <- t + sample(20:60, 1)
  out <- NULL
  while (t < cens) {
    d <- rgeom(1, leave[[s]]) + 1
    if (t + d >= cens) { out <- rbind(out, data.frame(start = t, stop = cens, state = s, to = "censor")); break }
    nxt <- switch(s, benefit = if (runif(1) < 0.7) "job" else "education", job = "benefit",
                  education = "benefit")
    out <- rbind(out, data.frame(start = t, stop = t + d, state = s, to = nxt))
    t <- t + d; s <- nxt
  }
  out$id <- i
  rows[[i]] <- out
}
d <- do.call(rbind, rows)
d$w <- 1 + (d$id %% 3) / 2
d$group <- ifelse(d$id %% 2 == 0, "a", "b")
# split every tenth person's rows at week 15 (no transition at the split) to exercise continuation rows
sp <- d$id %% 10 == 0 & d$start < 15 & d$stop > 15
if (any(sp)) {
  a <- d[sp, ]; b <- d[sp, ]
  a$stop <- 15; a$to <- "censor"; b$start <- 15
  d <- rbind(d[!sp, ], a, b)
}
d <- d[order(d$id, d$start), c("id", "start", "stop", "state", "to", "w", "group")]
write.csv(d, "benefit_ms.csv", row.names = FALSE)
d$to <- factor(d$to, c("censor", states))
d$state <- factor(d$state, states)
tab <- function(fit) {
  s <- summary(fit, censored = TRUE)
  out <- list(time = s$time, states = fit$states, n_risk = unname(s$n.risk), n_event = unname(s$n.event),
              pstate = unname(s$pstate), std_err = unname(s$std.err), p0 = unname(fit$p0))
  if (!is.null(s$strata)) out$strata <- sub("^group=", "", as.character(s$strata))
  out
}
# R's std.err includes the sampling variability of the starting distribution p0 only when
# influence = TRUE (survival 3.5-3, docurve2); both versions are stored.
f1 <- survfit(Surv(start, stop, to) ~ 1, data = d, id = id, istate = state)
f1i <- survfit(Surv(start, stop, to) ~ 1, data = d, id = id, istate = state, influence = TRUE)
f2 <- survfit(Surv(start, stop, to) ~ 1, data = d, id = id, istate = state, weights = w)
f2i <- survfit(Surv(start, stop, to) ~ 1, data = d, id = id, istate = state, weights = w, influence = TRUE)
f3 <- survfit(Surv(start, stop, to) ~ group, data = d, id = id, istate = state, weights = w)
f3i <- survfit(Surv(start, stop, to) ~ group, data = d, id = id, istate = state, weights = w, influence = TRUE)
out <- list(versions = list(R = R.version.string, survival = as.character(packageVersion("survival")),
                            jsonlite = as.character(packageVersion("jsonlite")), date = as.character(Sys.Date())),
            data = list(nrow = nrow(d), nperson = length(unique(d$id)), transitions = as.list(table(d$state, d$to))),
            unweighted = tab(f1), weighted = tab(f2), weighted_by_group = tab(f3),
            unweighted_influence = tab(f1i), weighted_influence = tab(f2i), weighted_by_group_influence = tab(f3i))
write_json(out, "expected.json", digits = NA, auto_unbox = TRUE, pretty = TRUE)
print(f1$transitions); print(summary(f2, times = c(10, 20, 40)))
