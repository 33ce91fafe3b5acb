# discrete_rossi: discrete-time hazard (binomial GLM on person-weeks) with R glm.
# Run from this directory:  Rscript generate.R > generate.log
suppressPackageStartupMessages({library(jsonlite); library(sandwich)})
d <- read.csv("rossi_pw.csv")
d$band <- cut(d$week, c(0, 4, 8, 13, 26, 39, Inf), labels = c("1-4", "5-8", "9-13", "14-26", "27-39", "40+"))
ctl <- glm.control(epsilon = 1e-15, maxit = 200)
fits <- list(
  logit_bands = glm(event ~ 0 + band + fin + age + prio + employed + mar, family = binomial("logit"),
                    data = d, control = ctl),
  cloglog_bands = glm(event ~ 0 + band + fin + age + prio + employed + mar, family = binomial("cloglog"),
                      data = d, control = ctl),
  cloglog_discrete = glm(event ~ 0 + band + fin + mar + employed, family = binomial("cloglog"),
                         data = d, control = ctl))
out <- list(versions = list(R = R.version.string, jsonlite = as.character(packageVersion("jsonlite")),
                            sandwich = as.character(packageVersion("sandwich")),
                            date = as.character(Sys.Date())))
for (nm in names(fits)) {
  f <- fits[[nm]]
  out[[nm]] <- list(names = names(coef(f)), params = unname(coef(f)), bse = unname(sqrt(diag(vcov(f)))),
                    llf = as.numeric(logLik(f)), iter = f$iter, converged = f$converged,
                    # person-clustered sandwich, expected-information bread, G/(G-1) adjustment only
                    bse_cluster = unname(sqrt(diag(vcovCL(f, cluster = ~id, type = "HC0", cadjust = TRUE)))))
}
write_json(out, "expected.json", digits = NA, auto_unbox = TRUE, pretty = TRUE)
for (f in fits) print(summary(f)$coefficients)
