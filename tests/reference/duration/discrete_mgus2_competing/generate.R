# discrete_mgus2_competing: multinomial-logit discrete-time competing risks with R nnet::multinom.
# Run from this directory:  Rscript generate.R > generate.log
# nnet optimises by BFGS (no exact Newton), so agreement is limited by its convergence (reltol).
suppressPackageStartupMessages({library(jsonlite); library(nnet)})
d <- read.csv("mgus2_py.csv")
d$band <- cut(d$year, c(0, 2, 5, 10, Inf), labels = c("1-2", "3-5", "6-10", "11+"))
d$exit <- factor(d$exit, levels = 0:2)
f <- multinom(exit ~ 0 + band + male + age10 + hgb, data = d, reltol = 1e-16, maxit = 5000, trace = FALSE,
              Hess = TRUE)
cf <- coef(f)
se <- sqrt(diag(solve(f$Hessian)))
out <- list(versions = list(R = R.version.string, nnet = as.character(packageVersion("nnet")),
                            jsonlite = as.character(packageVersion("jsonlite")), date = as.character(Sys.Date())),
            names = colnames(cf), params = list(unname(cf[1, ]), unname(cf[2, ])),
            bse = list(unname(se[1:ncol(cf)]), unname(se[(ncol(cf) + 1):(2 * ncol(cf))])),
            llf = as.numeric(logLik(f)), convergence = f$convergence)
write_json(out, "expected.json", digits = NA, auto_unbox = TRUE, pretty = TRUE)
print(summary(f))
print(logLik(f))
