# Shared helpers for the Cox reference cases (sourced by */generate.R).
# Extracts full-precision results from survival::coxph fits into lists that
# jsonlite::write_json(digits = NA) stores without rounding.
suppressPackageStartupMessages({library(survival); library(jsonlite)})

versions <- function() list(
  R = R.version.string,
  survival = as.character(packageVersion("survival")),
  jsonlite = as.character(packageVersion("jsonlite")),
  date = as.character(Sys.Date()))

fit_summary <- function(fit) {
  out <- list(
    coef = as.list(coef(fit)),
    se = as.list(sqrt(diag(vcov(fit)))),
    loglik = fit$loglik[2],
    loglik_null = fit$loglik[1],
    score_test = unname(fit$score),
    wald_test = unname(fit$wald.test),
    n = fit$n, nevent = fit$nevent, iter = fit$iter, method = fit$method)
  names(out$se) <- names(coef(fit))
  if (!is.null(fit$naive.var)) {
    out$naive_se <- as.list(sqrt(diag(fit$naive.var)))
    names(out$naive_se) <- names(coef(fit))
    out$robust_se <- out$se
  }
  bh <- basehaz(fit, centered = FALSE)
  out$basehaz <- list(time = bh$time, hazard = bh$hazard)
  if (!is.null(bh$strata)) out$basehaz$strata <- as.character(bh$strata)
  out
}

zph_summary <- function(fit) {
  res <- list()
  for (tr in c("km", "identity")) {
    z <- cox.zph(fit, transform = tr, terms = FALSE)
    tab <- z$table
    res[[tr]] <- list(terms = rownames(tab), chisq = unname(tab[, "chisq"]),
                      df = unname(tab[, "df"]), p = unname(tab[, "p"]))
  }
  res
}

write_expected <- function(x, path = "expected.json") {
  write_json(x, path, digits = NA, auto_unbox = TRUE, pretty = TRUE)
}
