# D7: a row that starts exactly at an event time is NOT in that event's risk set ((start, stop] semantics).
# Small hand-made data set; run from this directory:  Rscript generate.R
source("../cox_common.R")
d <- read.csv("data.csv")
correct <- coxph(Surv(start, stop, event) ~ x, data = d, ties = "efron")
# What the (start, stop] rule excludes: shifting entry by -1e-6 puts rows starting at an
# event time into that risk set (the `entry >= t` convention of statsmodels PHReg).
d2 <- d; d2$start <- d2$start - 1e-6
wrong <- coxph(Surv(start, stop, event) ~ x, data = d2, ties = "efron")
out <- list(versions = versions(), efron = fit_summary(correct),
            efron_breslow_ties = fit_summary(coxph(Surv(start, stop, event) ~ x, data = d, ties = "breslow")),
            entry_inclusive = list(coef = as.list(coef(wrong)), loglik = wrong$loglik[2]))
write_expected(out)
print(correct); print(wrong)
