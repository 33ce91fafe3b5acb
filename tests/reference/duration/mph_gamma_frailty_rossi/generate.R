# Reference for evaltools.duration.frailty.GammaFrailtyHazard on Rossi et al. (1980) (carData::Rossi).
# Independent implementation: person-weeks are built here from the wide carData::Rossi table
# (weeks 1..week, employed = emp<k> of that week), the grouped-time (cloglog) hazard with a
# person gamma frailty (mean 1, variance s2) is written as the marginal probability
#   P(survive weeks 1..T) = (1 + s2 * sum_t exp(eta_t))^(-1/s2),
#   P(exit in week T)     = P(survive 1..T-1) - P(survive 1..T),
# and maximised with optim(BFGS) from the cloglog glm, then refined with optim(Nelder-Mead)
# and BFGS again; SEs from optimHess (numerical Hessian of the numerical gradient).
# Run: Rscript generate.R   (in this directory)
library(carData)
data(Rossi)
r <- Rossi
r$id <- seq_len(nrow(r))
i <- rep(seq_len(nrow(r)), r$week)
week <- sequence(r$week)
emp <- as.matrix(r[, paste0("emp", 1:52)])
pw <- data.frame(id = r$id[i], week = week, event = as.integer(week == r$week[i] & r$arrest[i] == 1),
                 fin1 = as.numeric(r$fin[i] == "yes"), age = r$age[i], prio = r$prio[i],
                 employed = as.numeric(emp[cbind(i, week)] == "yes"))
pw$band <- cut(pw$week, c(0, 13, 26, 39, 52), labels = c("1-13", "14-26", "27-39", "40-52"))
X <- model.matrix(~ band + fin1 + age + prio + employed, pw)
g0 <- glm(event ~ band + fin1 + age + prio + employed, family = binomial("cloglog"), data = pw,
          control = glm.control(epsilon = 1e-14, maxit = 100))
last <- !duplicated(pw$id, fromLast = TRUE)
d <- pw$event[last]
negll <- function(th) {
  b <- th[-length(th)]; s <- exp(th[length(th)])
  e <- exp(drop(X %*% b))
  cum <- ave(e, pw$id, FUN = cumsum)            # integrated hazard through each week
  AT <- cum[last]; AT1 <- AT - e[last]           # through T and through T-1
  lS <- function(a) -log1p(s * a) / s
  ll <- ifelse(d == 1, log(exp(lS(AT1)) - exp(lS(AT))), lS(AT))
  -sum(ll)
}
th <- c(coef(g0), log(0.5))
for (k in 1:3) {
  o <- optim(th, negll, method = "BFGS", control = list(maxit = 10000, reltol = 1e-16))
  o <- optim(o$par, negll, method = "Nelder-Mead", control = list(maxit = 20000, reltol = 1e-16))
  th <- o$par
}
o <- optim(th, negll, method = "BFGS", control = list(maxit = 10000, reltol = 1e-16))
H <- optimHess(o$par, negll)
se <- sqrt(diag(solve(H)))
nm <- c("const", "band[14-26]", "band[27-39]", "band[40-52]", "fin1", "age", "prio", "employed",
        "log_frailty_var")
fmt <- function(x) sprintf("%.17g", x)
json <- paste0('{\n "loglike": ', fmt(-o$value), ',\n "loglike_no_frailty": ', fmt(as.numeric(logLik(g0))),
               ',\n "params": {', paste0('"', nm, '": [', fmt(o$par), ", ", fmt(se), "]", collapse = ", "),
               '},\n "n_person_weeks": ', nrow(pw), ',\n "R_version": "', R.version.string,
               '",\n "carData_version": "', as.character(packageVersion("carData")), '"\n}\n')
writeLines(json, "expected.json")
cat(json)
