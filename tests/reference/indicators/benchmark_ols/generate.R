# Reference values for evaltools.indicators.benchmark (OLS and WLS prediction intervals).
# Run from this directory: Rscript generate.R
d <- read.csv("input.csv")
out <- list()
for (m in c("ols", "wls")) {
  fit <- if (m == "ols") lm(share_public_support ~ unemployment + non_western, data = d)
         else lm(share_public_support ~ unemployment + non_western, data = d, weights = population)
  pr <- if (m == "ols") predict(fit, newdata = d, interval = "prediction", level = 0.95)
        else predict(fit, newdata = d, interval = "prediction", level = 0.95, weights = d$population)
  out[[m]] <- list(
    coef = unname(coef(fit)),
    se = unname(sqrt(diag(vcov(fit)))),
    fit = unname(pr[, "fit"]),
    lwr = unname(pr[, "lwr"]),
    upr = unname(pr[, "upr"])
  )
}
fmt <- function(x) paste0("[", paste(sprintf("%.17g", x), collapse = ", "), "]")
lines <- c("{")
ms <- names(out)
for (i in seq_along(ms)) {
  o <- out[[ms[i]]]
  ks <- names(o)
  body <- paste0('    "', ks, '": ', sapply(o, fmt), collapse = ",\n")
  lines <- c(lines, paste0('  "', ms[i], '": {\n', body, "\n  }", if (i < length(ms)) "," else ""))
}
lines <- c(lines, "}")
writeLines(lines, "expected.json")
