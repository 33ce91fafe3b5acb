# finegray_rossi: Fine-Gray regression with a weekly time-varying covariate (employed) on the Rossi
# recidivism data, unfolded into person-weeks as in ../rossi_tvc (Fox & Weisberg's appendix), with
# deterministic rules that create a competing exit and early censoring (documented in PROVENANCE.md):
#   * an arrest of a person with id %% 3 == 0 is the competing exit "other", other arrests are "arrest";
#   * persons never arrested with id %% 4 == 1 are censored at week 10 + id %% 37;
#   * (delayed-entry case) persons with id %% 5 == 2 enter at week 2 + id %% 6 (earlier weeks dropped);
#   * (weights case) w = 1 + id %% 3.
# R survival::finegray + weighted coxph; cmprsk::crr on the one-row-per-person data (fixed covariates).
# Run from this directory:  Rscript generate.R > generate.log
suppressPackageStartupMessages({library(survival); library(cmprsk); library(jsonlite)})
rossi <- read.csv("../../../../evaltools/datasets/rossi/rossi.csv", stringsAsFactors = TRUE)
stopifnot(all(levels(rossi$emp1) == c("no", "yes")))
fixed <- c("fin", "age", "race", "wexp", "mar", "paro", "prio")
unfold <- function(d) {
  rows <- vector("list", nrow(d))
  for (i in seq_len(nrow(d))) {
    t <- 1:d$week[i]
    emp <- as.integer(vapply(d[i, paste0("emp", t)], as.character, "") == "yes")
    rows[[i]] <- data.frame(id = i, start = t - 1, stop = t, employed = emp,
                            arrested = as.integer(t == d$week[i] & d$arrest[i] == 1),
                            d[rep(i, length(t)), fixed], row.names = NULL)
  }
  do.call(rbind, rows)
}
long <- unfold(rossi)
long$cause <- ifelse(long$arrested == 1, ifelse(long$id %% 3 == 0, 2L, 1L), 0L)
pid <- seq_len(nrow(rossi))
cens_at <- ifelse(rossi$arrest == 0 & pid %% 4 == 1, 10 + pid %% 37, Inf)
long <- long[long$stop <= cens_at[long$id], ]
rownames(long) <- NULL
long$ev <- factor(long$cause, 0:2, labels = c("censor", "arrest", "other"))
long$row <- seq_len(nrow(long))
long$w <- 1 + long$id %% 3
long$wexp2 <- long$wexp
entry <- ifelse(pid %% 5 == 2, 2 + pid %% 6, 0)
late <- long[long$start >= entry[long$id], ]

ctl <- coxph.control(eps = 1e-13, toler.chol = 1e-15, iter.max = 100)
rhs <- "fin + age + race + wexp + mar + paro + prio + employed"
fy <- as.formula(paste("Surv(fgstart, fgstop, fgstatus) ~", rhs))
fgf <- as.formula(paste("Surv(start, stop, ev) ~", rhs, "+ id + row"))
times <- c(5, 13, 26, 39, 52)
newdata <- data.frame(fin = factor(c("no", "yes"), levels(rossi$fin)), age = c(20, 30),
                      race = factor(c("black", "other"), levels(rossi$race)),
                      wexp = factor(c("no", "yes"), levels(rossi$wexp)),
                      mar = factor(c("not married", "married"), levels(rossi$mar)),
                      paro = factor(c("yes", "no"), levels(rossi$paro)), prio = c(3, 0), employed = c(0L, 1L),
                      wexp2 = factor(c("no", "yes"), levels(rossi$wexp)))

fit_summary <- function(fit, fg) {
  out <- list(coef = as.list(coef(fit)), se = as.list(sqrt(diag(vcov(fit)))),
              naive_se = as.list(sqrt(diag(fit$naive.var))),
              loglik = fit$loglik[2], loglik_null = fit$loglik[1], n = fit$n, nevent = fit$nevent,
              iter = fit$iter, n_expanded = nrow(fg), sum_fgwt = sum(fg$fgwt))
  names(out$se) <- names(out$naive_se) <- names(coef(fit))
  out
}
cif_at <- function(fit, nd) {
  sf <- survfit(fit, newdata = nd)
  s <- summary(sf, times = times, extend = TRUE)
  m <- function(x) unname(matrix(x, nrow = length(times)))
  se_h <- sapply(seq_len(nrow(nd)), function(j) {
    sj <- sf[j]; k <- findInterval(times, sj$time); ifelse(k > 0, sj$std.err[pmax(k, 1)], 0)
  })
  list(times = times, cif = 1 - m(s$surv), se_cumhaz = unname(se_h),
       cif_lower = 1 - m(s$upper), cif_upper = 1 - m(s$lower))
}

out <- list(versions = list(R = R.version.string, survival = as.character(packageVersion("survival")),
                            cmprsk = as.character(packageVersion("cmprsk")),
                            jsonlite = as.character(packageVersion("jsonlite")), date = as.character(Sys.Date())),
            data = list(nrow = nrow(long), n_arrest = sum(long$cause == 1), n_other = sum(long$cause == 2),
                        nperson = length(unique(long$id)), sum_employed = sum(long$employed),
                        sum_stop = sum(long$stop), nrow_late = nrow(late), nperson_late = length(unique(late$id))))

fg <- finegray(fgf, data = long, id = id, etype = "arrest")
efron <- coxph(fy, data = fg, weights = fgwt, cluster = id, control = ctl)
out$efron_cluster_id <- c(fit_summary(efron, fg), list(cif = cif_at(efron, newdata)))
rob <- coxph(fy, data = fg, weights = fgwt, cluster = row, control = ctl)
out$efron_robust_rows <- fit_summary(rob, fg)
bres <- coxph(fy, data = fg, weights = fgwt, cluster = id, ties = "breslow", control = ctl)
out$breslow_cluster_id <- fit_summary(bres, fg)

rhs_s <- "fin + age + race + mar + paro + prio + employed"
# finegray(weights = w) together with strata() takes the weights of the wrong rows in survival 3.5-3
# (user.weights[split$row] indexes the full data with positions inside the stratum), so the case
# weights are multiplied into the censoring weights after the expansion instead.
fgs <- finegray(as.formula(paste("Surv(start, stop, ev) ~", rhs_s, "+ id + w + wexp2 + strata(wexp)")),
                data = long, id = id, etype = "arrest")
fgs$fgwt <- fgs$fgwt * fgs$w
sw <- coxph(as.formula(paste("Surv(fgstart, fgstop, fgstatus) ~", rhs_s, "+ strata(wexp2)")),
            data = fgs, weights = fgwt, cluster = id, control = ctl)
out$strata_weights_cluster_id <- c(fit_summary(sw, fgs), list(cif = cif_at(sw, newdata)))

fgd <- finegray(fgf, data = late, id = id, etype = "arrest")
dl <- coxph(fy, data = fgd, weights = fgwt, cluster = id, control = ctl)
out$delayed_cluster_id <- c(fit_summary(dl, fgd), list(cif = cif_at(dl, newdata)))

# one row per person (time-fixed covariates) for cmprsk::crr
last <- long[!duplicated(long$id, fromLast = TRUE), ]
X <- model.matrix(~ fin + age + race + wexp + mar + paro + prio, data = last)[, -1]
crr_summary <- function(ftime) {
  # gtol = 1e-9: the tightest criterion crr reaches here (its score stalls near 1e-7 in double precision)
  fit <- crr(ftime, last$cause, X, failcode = 1, cencode = 0, gtol = 1e-9, maxiter = 100)
  list(coef = as.list(fit$coef), se = as.list(setNames(sqrt(diag(fit$var)), names(fit$coef))),
       loglik = fit$loglik, loglik_null = fit$loglik.null, converged = fit$converged)
}
out$crr <- crr_summary(last$stop)
out$crr_exits_first <- crr_summary(last$stop - 0.2 * (last$cause != 0))

write_json(out, "expected.json", digits = NA, auto_unbox = TRUE, pretty = TRUE)
print(out$data); print(summary(efron)); print(summary(dl)$coef); print(out$crr$coef)
