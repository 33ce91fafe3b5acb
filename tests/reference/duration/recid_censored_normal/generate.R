# recid_censored_normal (anchor D4): censored-normal regression of log duration, Wooldridge Example 17.4.
# log(durat) is used rather than the stored column ldurat, which is rounded (single precision in RECID.DTA).
# Run from this directory:  Rscript generate.R > generate.log
suppressPackageStartupMessages({library(survival); library(jsonlite)})
d <- read.csv("../../../../evaltools/datasets/recid/recid.csv")
f <- survreg(Surv(log(durat), 1 - cens) ~ workprg + priors + tserved + felon + alcohol + drugs + black + married +
               educ + age, data = d, dist = "gaussian", control = survreg.control(rel.tolerance = 1e-13, maxiter = 100))
# same model on the duration scale (log-normal AFT); its log-likelihood adds -sum(log t) over exits
g <- survreg(Surv(durat, 1 - cens) ~ workprg + priors + tserved + felon + alcohol + drugs + black + married +
               educ + age, data = d, dist = "lognormal", control = survreg.control(rel.tolerance = 1e-13, maxiter = 100))
v <- vcov(f)
out <- list(versions = list(R = R.version.string, survival = as.character(packageVersion("survival")),
                            jsonlite = as.character(packageVersion("jsonlite")), date = as.character(Sys.Date())),
            names = names(coef(f)), params = unname(coef(f)), bse = unname(sqrt(diag(v))[seq_along(coef(f))]),
            log_scale = log(f$scale), log_scale_se = unname(sqrt(v["Log(scale)", "Log(scale)"])),
            scale = f$scale, loglik = f$loglik[2], loglik_null = f$loglik[1], iter = f$iter,
            lognormal_params = unname(coef(g)), lognormal_loglik = g$loglik[2],
            n = nrow(d), n_event = sum(1 - d$cens))
write_json(out, "expected.json", digits = NA, auto_unbox = TRUE, pretty = TRUE)
print(summary(f))
