# Reference values for evaltools.selection.evalue / evalue_from_results (E-values, VanderWeele & Ding 2017).
# The R EValue package is not installed here; the closed forms are written out from the papers:
#   VanderWeele, T. J. and Ding, P. (2017), Annals of Internal Medicine 167(4), 268-274 (E = RR + sqrt(RR (RR-1)),
#   RR < 1 inverted; CI: the limit closer to the null, 1 if the interval contains it; OR and HR conversions and
#   exp(0.91 d) for standardised differences, Table 2), and VanderWeele (2020), Biometrics 76(3), 746-752
#   (common-outcome HR: RR = (1 - 0.5^sqrt(HR)) / (1 - 0.5^sqrt(1/HR))).
# Run from the repository root:
#   Rscript tests/reference/selection/evalue_vanderweele_ding/generate.R > \
#     tests/reference/selection/evalue_vanderweele_ding/generate.log
suppressPackageStartupMessages(library(survival))
library(jsonlite)
here <- "tests/reference/selection/evalue_vanderweele_ding"
thr <- function(rr) { rr <- ifelse(rr < 1, 1 / rr, rr); rr + sqrt(rr * (rr - 1)) }
to_rr <- function(x, measure, rare) {
  if (measure == "RR" || (measure %in% c("OR", "HR") && rare)) return(x)
  if (measure == "OR") return(sqrt(x))
  if (measure == "HR") return((1 - 0.5^sqrt(x)) / (1 - 0.5^sqrt(1 / x)))
  stop("measure")
}
ev <- function(est, lo, hi, measure, rare, true = 1) {
  r <- to_rr(est, measure, rare); l <- to_rr(lo, measure, rare); h <- to_rr(hi, measure, rare)
  t0 <- to_rr(true, measure, rare)
  e_point <- if (r == t0) 1 else thr(r / t0)
  e_ci <- if (r > t0) { if (l <= t0) 1 else thr(l / t0) } else if (r < t0) { if (h >= t0) 1 else thr(h / t0) } else 1
  list(estimate = est, lower = lo, upper = hi, measure = measure, rare = rare, true = true,
       rr = r, rr_lower = l, rr_upper = h, evalue = e_point, evalue_ci = e_ci)
}
cases <- list(
  ev(3.9, 1.8, 8.7, "RR", FALSE),          # VanderWeele & Ding (2017): breastfeeding, E = 7.26, CI 3.00
  ev(0.8, 0.71, 0.91, "RR", FALSE),
  ev(1.3, 0.9, 1.8, "RR", FALSE),           # interval contains 1
  ev(2.0, 1.5, 2.6, "RR", FALSE, true = 1.2),
  ev(2.5, 1.6, 3.9, "OR", TRUE),
  ev(2.5, 1.6, 3.9, "OR", FALSE),
  ev(0.6, 0.45, 0.8, "HR", TRUE),
  ev(0.6, 0.45, 0.8, "HR", FALSE),
  ev(1.8, 1.2, 2.7, "HR", FALSE))
# standardised mean difference d with se: RR = exp(0.91 d), interval exp(0.91 d -/+ 1.78 se)
smd <- function(d, se) {
  r <- exp(0.91 * d); l <- exp(0.91 * d - 1.78 * se); h <- exp(0.91 * d + 1.78 * se)
  e_ci <- if (r > 1) { if (l <= 1) 1 else thr(l) } else { if (h >= 1) 1 else thr(h) }
  list(estimate = d, se = se, rr = r, rr_lower = l, rr_upper = h, evalue = thr(r), evalue_ci = e_ci)
}
smd_cases <- list(smd(0.5, 0.1), smd(-0.3, 0.1), smd(0.1, 0.2))
# Cox model on the Rossi data (Efron ties), hazard ratios with 95% Wald intervals, E-values (common and rare)
ro <- read.csv("evaltools/datasets/rossi/rossi.csv")
ro$fin <- as.integer(ro$fin == "yes")
fit <- coxph(Surv(week, arrest) ~ fin + age + prio, data = ro, ties = "efron")
b <- coef(fit); s <- sqrt(diag(vcov(fit))); z <- qnorm(0.975)
cox <- lapply(names(b), function(nm) {
  x <- lapply(c(FALSE, TRUE), function(rare) ev(exp(b[[nm]]), exp(b[[nm]] - z * s[[nm]]), exp(b[[nm]] + z * s[[nm]]),
                                                 "HR", rare))
  list(term = nm, coef = b[[nm]], se = s[[nm]], common = x[[1]], rare = x[[2]])
})
out <- list(cases = cases, smd = smd_cases, cox_rossi = cox,
            meta = list(R = R.version.string, survival = as.character(packageVersion("survival")),
                        date = as.character(Sys.Date())))
str(cases[[1]])
print(do.call(rbind, lapply(cox, function(x) c(x$coef, x$common$evalue, x$common$evalue_ci, x$rare$evalue))))
writeLines(toJSON(out, digits = NA, auto_unbox = TRUE, pretty = TRUE), file.path(here, "expected.json"))
