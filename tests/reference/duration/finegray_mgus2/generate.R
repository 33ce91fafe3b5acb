# finegray_mgus2: Fine-Gray regression of progression (PCM) with death as the competing exit,
# survival::mgus2 (the data shipped in ../aj_mgus2/mgus2.csv).  R survival::finegray + weighted coxph,
# and cmprsk::crr (with and without the exits moved 0.2 months earlier, which is finegray's tie rule).
# Run from this directory:  Rscript generate.R > generate.log
suppressPackageStartupMessages({library(survival); library(cmprsk); library(jsonlite)})
d <- read.csv("../aj_mgus2/mgus2.csv", stringsAsFactors = FALSE)
d$etime <- ifelse(d$pstat == 0, d$futime, d$ptime)
d$cause <- ifelse(d$pstat == 0, 2 * d$death, 1)          # 0 censored, 1 PCM, 2 death
d$ev <- factor(d$cause, 0:2, labels = c("censor", "pcm", "death"))
d$male <- as.integer(d$sex == "M")
d$w <- 1 + d$id %% 3                                        # deterministic case weights
d$sex2 <- d$sex                                             # finegray() drops the strata variable
times <- c(12, 60, 120, 240, 360)
ctl <- coxph.control(eps = 1e-13, toler.chol = 1e-15, iter.max = 100)            # converge far beyond the default eps = 1e-9
newdata <- data.frame(age = c(60, 75), male = c(0L, 1L), sex2 = c("F", "M"))

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
  # std_err_cumhaz: survfit.coxph's standard error of the cumulative hazard (sf$std.err) at `times`
  idx <- function(tt) findInterval(times, tt)
  if (is.null(sf$strata)) {
    k <- idx(sf$time)
    se_h <- sapply(seq_len(nrow(nd)), function(j) ifelse(k > 0, matrix(sf$std.err, ncol = nrow(nd))[pmax(k, 1), j], 0))
  } else {
    se_h <- sapply(seq_len(nrow(nd)), function(j) {
      sj <- sf[j]; k <- idx(sj$time); ifelse(k > 0, sj$std.err[pmax(k, 1)], 0)
    })
  }
  list(times = times, cif = 1 - m(s$surv), se_cumhaz = unname(se_h),
       cif_lower = 1 - m(s$upper), cif_upper = 1 - m(s$lower))
}

out <- list(versions = list(R = R.version.string, survival = as.character(packageVersion("survival")),
                            cmprsk = as.character(packageVersion("cmprsk")),
                            jsonlite = as.character(packageVersion("jsonlite")), date = as.character(Sys.Date())),
            data = list(nrow = nrow(d), n_pcm = sum(d$cause == 1), n_death = sum(d$cause == 2),
                        n_censored = sum(d$cause == 0)))

fg <- finegray(Surv(etime, ev) ~ age + male + id, data = d, etype = "pcm")
fy <- Surv(fgstart, fgstop, fgstatus) ~ age + male
efron <- coxph(fy, data = fg, weights = fgwt, cluster = id, control = ctl)
breslow <- coxph(fy, data = fg, weights = fgwt, cluster = id, ties = "breslow", control = ctl)
out$efron <- c(fit_summary(efron, fg), list(cif = cif_at(efron, newdata)))
out$breslow <- c(fit_summary(breslow, fg), list(cif = cif_at(breslow, newdata)))

fgs <- finegray(Surv(etime, ev) ~ age + id + sex2 + strata(sex), data = d, etype = "pcm")
strat <- coxph(Surv(fgstart, fgstop, fgstatus) ~ age + strata(sex2), data = fgs, weights = fgwt, cluster = id,
               control = ctl)
out$strata <- c(fit_summary(strat, fgs), list(cif = cif_at(strat, newdata)))

fgw <- finegray(Surv(etime, ev) ~ age + male + id, data = d, etype = "pcm", weights = w)
wfit <- coxph(fy, data = fgw, weights = fgwt, cluster = id, control = ctl)
out$weights <- c(fit_summary(wfit, fgw), list(cif = cif_at(wfit, newdata)))

crr_summary <- function(ftime) {
  X <- cbind(age = d$age, male = d$male)
  fit <- crr(ftime, d$cause, X, failcode = 1, cencode = 0, gtol = 1e-13, maxiter = 100)
  pr <- predict(fit, cov1 = as.matrix(newdata[, c("age", "male")]))
  k <- findInterval(times, pr[, 1])
  cif <- sapply(1:2, function(j) ifelse(k > 0, pr[pmax(k, 1), j + 1], 0))
  list(coef = as.list(fit$coef), se = as.list(setNames(sqrt(diag(fit$var)), names(fit$coef))),
       loglik = fit$loglik, loglik_null = fit$loglik.null, converged = fit$converged,
       cif = list(times = times, cif = unname(cif)))
}
out$crr <- crr_summary(d$etime)
out$crr_exits_first <- crr_summary(d$etime - 0.2 * (d$cause != 0))

write_json(out, "expected.json", digits = NA, auto_unbox = TRUE, pretty = TRUE)
print(summary(efron)); print(out$crr$coef); print(out$crr$se)
print(summary(survfit(efron, newdata = newdata), times = times))
