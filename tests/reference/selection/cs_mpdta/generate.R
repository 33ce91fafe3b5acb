# cs_mpdta: Callaway & Sant'Anna (2021) group-time ATTs and their aggregations on mpdta
# (county teen employment, 2003-2007, 500 counties), with R `did` rebuilt from source
# (see PROVENANCE.md for the exact source files).  Analytic (influence-function) standard
# errors throughout (bstrap = FALSE); one bootstrap case for the simultaneous critical values.
# Run from this directory:  Rscript generate.R > generate.log
# (with the rebuilt did/DRDID/BMisc on .libPaths(), e.g. R_LIBS=/tmp/didbuild/lib)
suppressPackageStartupMessages({library(did); library(jsonlite)})
options(warn = 1)
d <- read.csv("mpdta.csv", check.names = FALSE)
d$w <- exp(d$lpop) / mean(exp(d$lpop))          # time-invariant sampling weight for the weighted case

fit_case <- function(name, xformla = NULL, control_group = "nevertreated", est_method = "dr",
                     base_period = "varying", anticipation = 0, weightsname = NULL,
                     dyn_windows = list()) {
  out <- att_gt(yname = "lemp", tname = "year", idname = "countyreal", gname = "first.treat",
                xformla = xformla, data = d, control_group = control_group, est_method = est_method,
                base_period = base_period, anticipation = anticipation, weightsname = weightsname,
                bstrap = FALSE, cband = FALSE)
  res <- list(settings = list(xformla = if (is.null(xformla)) "~1" else deparse(xformla),
                              control_group = control_group, est_method = est_method,
                              base_period = base_period, anticipation = anticipation,
                              weights = if (is.null(weightsname)) "none" else weightsname),
              n = out$n,
              attgt = list(group = out$group, t = out$t, att = out$att, se = as.numeric(out$se)),
              wald = list(W = if (is.null(out$W)) NA else as.numeric(out$W),
                          pval = if (is.null(out$Wpval)) NA else as.numeric(out$Wpval)))
  for (tp in c("simple", "dynamic", "group", "calendar")) {
    a <- aggte(out, type = tp, bstrap = FALSE, cband = FALSE)
    res[[tp]] <- list(overall_att = a$overall.att, overall_se = a$overall.se,
                      egt = if (is.null(a$egt)) NA else a$egt,
                      att = if (is.null(a$att.egt)) NA else a$att.egt,
                      se = if (is.null(a$se.egt)) NA else a$se.egt)
  }
  for (w in dyn_windows) {
    a <- aggte(out, type = "dynamic", min_e = w$min_e, max_e = w$max_e, balance_e = w$balance_e,
               bstrap = FALSE, cband = FALSE)
    key <- paste0("dynamic_", w$label)
    res[[key]] <- list(min_e = w$min_e, max_e = w$max_e,
                       balance_e = if (is.null(w$balance_e)) NA else w$balance_e,
                       overall_att = a$overall.att, overall_se = a$overall.se,
                       egt = a$egt, att = a$att.egt, se = a$se.egt)
  }
  cat("\n==", name, "==\n")
  print(data.frame(group = out$group, t = out$t, att = out$att, se = as.numeric(out$se)), digits = 10)
  cat("dynamic overall:", format(res$dynamic$overall_att, digits = 15),
      "SE", format(res$dynamic$overall_se, digits = 15), "\n")
  res
}

windows <- list(list(label = "m2_p2", min_e = -2, max_e = 2, balance_e = NULL),
                list(label = "balanced1", min_e = -Inf, max_e = Inf, balance_e = 1))
cases <- list(
  nev_dr = fit_case("nev_dr", dyn_windows = windows),
  nyt_dr = fit_case("nyt_dr", control_group = "notyettreated", dyn_windows = windows),
  nev_dr_lpop = fit_case("nev_dr_lpop", xformla = ~lpop),
  nev_reg_lpop = fit_case("nev_reg_lpop", xformla = ~lpop, est_method = "reg"),
  nev_ipw_lpop = fit_case("nev_ipw_lpop", xformla = ~lpop, est_method = "ipw"),
  nyt_dr_lpop = fit_case("nyt_dr_lpop", xformla = ~lpop, control_group = "notyettreated"),
  nyt_ipw_lpop = fit_case("nyt_ipw_lpop", xformla = ~lpop, control_group = "notyettreated", est_method = "ipw"),
  nev_dr_universal = fit_case("nev_dr_universal", base_period = "universal"),
  nyt_dr_universal = fit_case("nyt_dr_universal", control_group = "notyettreated", base_period = "universal"),
  nev_dr_antic1 = fit_case("nev_dr_antic1", anticipation = 1),
  nyt_dr_antic1 = fit_case("nyt_dr_antic1", control_group = "notyettreated", anticipation = 1),
  nev_dr_lpop_weighted = fit_case("nev_dr_lpop_weighted", xformla = ~lpop, weightsname = "w")
)

# Multiplier bootstrap (Rademacher weights, BMisc::multiplier_bootstrap): simultaneous critical
# values and bootstrap standard errors.  These depend on R's random numbers and are compared
# at Monte Carlo precision only.
set.seed(20240917)
ob <- att_gt(yname = "lemp", tname = "year", idname = "countyreal", gname = "first.treat",
             data = d, bstrap = TRUE, cband = TRUE, biters = 20000)
eb <- aggte(ob, type = "dynamic", bstrap = TRUE, cband = TRUE, biters = 20000)
boot <- list(biters = 20000, attgt_crit = as.numeric(ob$c), attgt_se = as.numeric(ob$se),
             dynamic_crit = as.numeric(eb$crit.val.egt), dynamic_se = eb$se.egt,
             dynamic_overall_se = eb$overall.se)
cat("\n== bootstrap ==\n"); print(boot, digits = 10)

out <- list(versions = list(R = R.version.string, did = as.character(packageVersion("did")),
                            DRDID = as.character(packageVersion("DRDID")),
                            BMisc = as.character(packageVersion("BMisc")),
                            jsonlite = as.character(packageVersion("jsonlite")),
                            date = as.character(Sys.Date())),
            cases = cases, bootstrap = boot)
write_json(out, "expected.json", digits = NA, auto_unbox = TRUE, pretty = TRUE)
