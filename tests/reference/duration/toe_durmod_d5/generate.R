# Reference values for evaltools.duration.mph.TimingOfEvents with one mass point on the durmod D5 data.
# With one mass point and exact timing the timing-of-events likelihood separates into two Poisson GLMs
# with log(duration) offsets: the exit hazard on all rows (covariates x1, x2 and the treatment state
# alpha), the treatment hazard on the untreated rows (alpha == 0; covariates x1, x2).
# ToE log-likelihood = sum of the two Poisson log-likelihoods - sum over transition rows of log(duration)
# (the Poisson term y log(mu) contains y log(t); lgamma(y + 1) = 0 for y in {0, 1}).
# Run: Rscript generate.R   (in this directory; needs jsonlite)
d <- read.csv(gzfile("d5.csv.gz"))
ctl <- glm.control(epsilon = 1e-14, maxit = 100)
d$y_exit <- as.integer(d$d == "exit")
d$y_treat <- as.integer(d$d == "treatment")
fe <- glm(y_exit ~ x1 + x2 + alpha + offset(log(duration)), family = poisson(), data = d, control = ctl)
u <- d[d$alpha == 0, ]
ft <- glm(y_treat ~ x1 + x2 + offset(log(duration)), family = poisson(), data = u, control = ctl)
ll <- as.numeric(logLik(fe) + logLik(ft)) - sum(d$y_exit * log(d$duration)) - sum(u$y_treat * log(u$duration))
ce <- summary(fe)$coefficients
ct <- summary(ft)$coefficients
params <- list(
  "exit:x1" = ce["x1", 1:2], "exit:x2" = ce["x2", 1:2], "exit:effect" = ce["alpha", 1:2],
  "exit:v1" = ce["(Intercept)", 1:2],
  "treatment:x1" = ct["x1", 1:2], "treatment:x2" = ct["x2", 1:2], "treatment:v1" = ct["(Intercept)", 1:2]
)
params <- lapply(params, function(v) unname(as.numeric(v)))
out <- list(
  n_rows = nrow(d), n_persons = length(unique(d$id)),
  n_exit = sum(d$y_exit), n_treatment = sum(d$y_treat),
  one_point_exact = list(loglike = ll, params = params),
  r_version = R.version.string
)
writeLines(jsonlite::toJSON(out, digits = NA, auto_unbox = TRUE, pretty = TRUE), "expected_glm.json")
