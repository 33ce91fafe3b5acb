# D3: Stanford heart transplant, transplant as a time-varying treatment.
# Run from this directory:  Rscript generate.R
source("../cox_common.R")
heart <- read.csv("../../../../evaltools/datasets/heart/heart.csv")
f <- Surv(start, stop, event) ~ age + year + surgery + transplant
efron <- coxph(f, data = heart, ties = "efron")
breslow <- coxph(f, data = heart, ties = "breslow")
clus <- coxph(f, data = heart, ties = "efron", cluster = id)
clus_b <- coxph(f, data = heart, ties = "breslow", cluster = id)
st <- coxph(Surv(start, stop, event) ~ age + year + transplant + strata(surgery), data = heart)
sch <- residuals(efron, type = "schoenfeld")
new <- data.frame(age = c(0, -10), year = c(3, 1), surgery = c(1, 0), transplant = c(0, 1))
sf <- survfit(efron, newdata = new)
times <- c(5, 50, 200, 1000)
ss <- summary(sf, times = times)
out <- list(
  versions = versions(),
  efron = c(fit_summary(efron), list(zph = zph_summary(efron))),
  breslow = c(fit_summary(breslow), list(zph = zph_summary(breslow))),
  efron_cluster_id = fit_summary(clus),
  breslow_cluster_id = fit_summary(clus_b),
  strata_surgery = fit_summary(st),
  schoenfeld = list(time = as.numeric(rownames(sch)), values = unname(split(sch, col(sch)))),
  survfit = list(newdata = as.list(new), times = times, surv = unname(split(ss$surv, col(ss$surv)))))
write_expected(out)
print(summary(efron)); print(cox.zph(efron, terms = FALSE)); print(ss)
