# Reference values for evaltools.duration.mph.TimingOfEvents with one mass point.
# Independent implementation: R expands the spell table to person-weeks itself and fits
#  (a) interval timing, exit hazard only, post-treatment bands as time-varying covariates:
#      binomial GLM with cloglog link on person-weeks; SEs from the observed information
#      (optimHess of the analytic cloglog log-likelihood at the glm estimate);
#  (b) exact timing, timing-of-events model (exit + treatment hazards): the likelihood
#      separates into two Poisson GLMs (log link, canonical: observed = expected information)
#      on person-weeks (exposure 1 week each), exit on all weeks, treatment on untreated weeks;
#  (c) as (b) with a treated x x1 interaction in the exit hazard (exit GLM only).
# Run: Rscript generate.R   (in this directory)
sp <- read.csv("spells.csv")
n <- nrow(sp)
first <- sp$entry + 1
len <- sp$duration - sp$entry
i <- rep(seq_len(n), len)
week <- first[i] + sequence(len) - 1
tw <- sp$treatment_week[i]
effective <- !is.na(tw) & !(sp$exit[i] == 1 & tw == sp$duration[i])
pw <- data.frame(
  id = sp$id[i], week = week, x1 = sp$x1[i],
  exit_event = as.integer(week == sp$duration[i] & sp$exit[i] == 1),
  treat_event = as.integer(effective & week == tw),
  treated = effective & week > tw
)
pw$since <- ifelse(pw$treated, week - tw, NA)
pw$band <- factor(cut(pw$week, c(0, 13, 26, Inf), labels = c("1-13", "14-26", "27+")))
pw$post13 <- as.numeric(pw$treated & pw$since <= 13)
pw$post14 <- as.numeric(pw$treated & pw$since > 13)
cat("person-weeks:", nrow(pw), " exits:", sum(pw$exit_event), " treatments:", sum(pw$treat_event), "\n")

ctl <- glm.control(epsilon = 1e-14, maxit = 100)
# (a) interval timing = cloglog on person-weeks
fa <- glm(exit_event ~ band + x1 + post13 + post14, family = binomial("cloglog"), data = pw, control = ctl)
X <- model.matrix(fa)
y <- pw$exit_event
nll <- function(b) {
  eta <- drop(X %*% b)
  -sum(y * log(-expm1(-exp(eta))) - (1 - y) * exp(eta))
}
ngr <- function(b) {
  eta <- drop(X %*% b); h <- exp(eta)
  -drop(crossprod(X, y * h * exp(-h) / (-expm1(-h)) - (1 - y) * h))
}
Ha <- optimHess(coef(fa), nll, ngr, control = list(ndeps = rep(1e-5, length(coef(fa)))))
se_a <- sqrt(diag(solve(Ha)))
ll_a <- -nll(coef(fa))

# (b) exact timing, ToE with one mass point: two Poisson GLMs
pw$effband <- factor(ifelse(pw$treated, ifelse(pw$since <= 13, "1-13", "14+"), "none"),
                     levels = c("none", "1-13", "14+"))
fe <- glm(exit_event ~ band + x1 + post13 + post14, family = poisson, data = pw, control = ctl)
pt <- subset(pw, !treated)
fp <- glm(treat_event ~ band + x1, family = poisson, data = pt, control = ctl)
# (c) as (b) with the effect varying with x1 (treated x x1 interaction in the exit hazard)
pw$tx1 <- as.numeric(pw$treated) * pw$x1
fe2 <- glm(exit_event ~ band + x1 + post13 + post14 + tx1, family = poisson, data = pw, control = ctl)
ll_c <- sum(pw$exit_event * log(fitted(fe2)) - fitted(fe2))
ll_b <- sum(pw$exit_event * log(fitted(fe)) - fitted(fe)) + sum(pt$treat_event * log(fitted(fp)) - fitted(fp))

rename <- function(nm, haz) {
  nm <- sub("^\\(Intercept\\)$", "v1", nm)
  nm <- sub("^band(.*)$", "band[\\1]", nm)
  nm <- sub("^post13$", "effect[1-13]", nm)
  nm <- sub("^post14$", "effect[14+]", nm)
  paste0(haz, ":", nm)
}
interval_names <- sub("exit:effect\\[1-13\\]", "exit:post13", sub("exit:effect\\[14\\+\\]", "exit:post14",
                      rename(names(coef(fa)), "exit")))
fmt <- function(x) sprintf("%.17g", x)
obj <- function(names, est, se) paste0("{", paste0('"', names, '": [', fmt(est), ", ", fmt(se), "]",
                                                   collapse = ", "), "}")
se_e <- sqrt(diag(vcov(fe))); se_p <- sqrt(diag(vcov(fp)))
json <- paste0('{\n "interval_exit_only": {"loglike": ', fmt(ll_a), ', "params": ',
               obj(interval_names, coef(fa), se_a), '},\n',
               ' "exact_toe": {"loglike": ', fmt(ll_b), ', "params": ',
               obj(c(rename(names(coef(fe)), "exit"), rename(names(coef(fp)), "treatment")),
                   c(coef(fe), coef(fp)), c(se_e, se_p)), '},\n',
               ' "exact_exit_effect_by_x1": {"loglike_exit_part": ', fmt(ll_c), ', "params": ',
               obj(sub("exit:tx1", "exit:effect*x1", rename(names(coef(fe2)), "exit")), coef(fe2),
                   sqrt(diag(vcov(fe2)))), '},\n',
               ' "n_person_weeks": ', nrow(pw), ',\n "R_version": "', R.version.string, '"\n}\n')
writeLines(json, "expected.json")
cat(json)
