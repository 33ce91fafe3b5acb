# Independent reference for Rosenbaum bounds on the lead-in-blood matched pairs
# (Morton et al. 1982; Rosenbaum 2002, Observational Studies, sec. 4.3; the
# example of R package rbounds::psens / hlsens).  rbounds is not packaged for
# Debian and CRAN is unreachable, so the published formulas are computed here
# in base R:
#  * Wilcoxon signed rank, normal approximation, average ranks, zeros dropped
#    (Rosenbaum 2002 sec. 4.3.3; the rbounds::psens formula without rounding);
#  * sign test, exact binomial tails (rbounds::binarysens);
#  * Hodges-Lehmann bounds: tau solving T(d - tau) = E_Gamma, found by scanning
#    the sorted unique Walsh averages and taking the mid-point of
#    sup{tau: T > E} and inf{tau: T < E} (Rosenbaum 2002 sec. 4.3.5).
# Run from the repository root:
#   Rscript tests/reference/selection/rosenbaum_lead/generate.R
library(jsonlite)
trt <- c(38, 23, 41, 18, 37, 36, 23, 62, 31, 34, 24, 14, 21, 17, 16, 20, 15, 10, 45, 39, 22, 35, 49, 48,
         44, 35, 43, 39, 34, 13, 73, 25, 27)
ctrl <- c(16, 18, 18, 24, 19, 11, 10, 15, 16, 18, 18, 13, 19, 10, 16, 16, 24, 13, 9, 14, 21, 19, 7, 18,
          19, 12, 11, 22, 25, 16, 13, 11, 13)
gammas <- c(1, 1.5, 2, 2.5, 3, 4, 4.25, 5, 6)
d0 <- trt - ctrl
d <- d0[d0 != 0]
S <- length(d)
q <- rank(abs(d), ties.method = "average")
T <- sum(q[d > 0])
wil <- lapply(gammas, function(G) {
  pp <- G / (1 + G); pm <- 1 / (1 + G)
  V <- function(p) sum(q^2) * p * (1 - p)
  c(lower = 1 - pnorm((T - pm * sum(q)) / sqrt(V(pm))), upper = 1 - pnorm((T - pp * sum(q)) / sqrt(V(pp))))
})
Tsign <- sum(d > 0)
sgn <- lapply(gammas, function(G) {
  c(lower = pbinom(Tsign - 1, S, 1 / (1 + G), lower.tail = FALSE),
    upper = pbinom(Tsign - 1, S, G / (1 + G), lower.tail = FALSE))
})
W <- outer(d, d, "+") / 2
W <- W[upper.tri(W, diag = TRUE)]
M <- length(W)
cand <- sort(unique(W))
Tcount <- function(tau) sum(W > tau)
hl <- function(E) {
  # T(tau) is non-increasing and right-continuous; T > E on tau < sup, T < E on tau >= inf
  above <- sapply(cand, function(w) Tcount(w - 1e-9) > E)   # T just left of w
  below <- sapply(cand, function(w) Tcount(w) < E)
  sup <- max(cand[above]); inf <- min(cand[below])
  (sup + inf) / 2
}
# a larger expected count E means a smaller solution tau: E+ = M G/(1+G) gives the lower bound
hls <- lapply(gammas, function(G) c(lower = hl(M * G / (1 + G)), upper = hl(M / (1 + G))))
out <- list(
  software = paste(R.version.string, "; base stats; jsonlite", packageVersion("jsonlite")),
  treated = trt, control = ctrl, gammas = gammas, n_pairs = S, n_zero = sum(d0 == 0),
  wilcoxon_T = T, sign_T = Tsign,
  wilcoxon_lower = sapply(wil, `[`, "lower"), wilcoxon_upper = sapply(wil, `[`, "upper"),
  sign_lower = sapply(sgn, `[`, "lower"), sign_upper = sapply(sgn, `[`, "upper"),
  hl_lower = sapply(hls, `[`, "lower"), hl_upper = sapply(hls, `[`, "upper")
)
writeLines(toJSON(out, digits = NA, auto_unbox = TRUE, pretty = TRUE),
           "tests/reference/selection/rosenbaum_lead/expected.json")
