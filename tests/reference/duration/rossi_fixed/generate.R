# D2: Rossi, time-fixed Cox model (Fox & Weisberg appendix), Efron and Breslow.
# Run from this directory:  Rscript generate.R
source("../cox_common.R")
rossi <- read.csv("../../../../evaltools/datasets/rossi/rossi.csv", stringsAsFactors = TRUE)
f <- Surv(week, arrest) ~ fin + age + race + wexp + mar + paro + prio
efron <- coxph(f, data = rossi, ties = "efron")
breslow <- coxph(f, data = rossi, ties = "breslow")
rob <- coxph(f, data = rossi, ties = "efron", robust = TRUE)
out <- list(
  versions = versions(),
  efron = c(fit_summary(efron), list(zph = zph_summary(efron))),
  breslow = fit_summary(breslow),
  efron_robust = fit_summary(rob))
write_expected(out)
print(summary(efron)); print(cox.zph(efron, terms = FALSE))
