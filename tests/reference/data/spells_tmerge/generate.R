# Reference spells and counting-process rows for evaltools.data (independent implementation in R).
#
# Run from this directory:  Rscript generate.R > generate.log 2>&1
#
# Spells ("any_week" rule): run-length encoding (base::rle) of each person's dense weekly benefit
# group, public-support groups only.  Exit = group of the week after the spell, "self_support" if
# that week has no code, "censored" if the spell reaches obs_end or is followed by a censoring code.
# Counting process: survival::tmerge on spell time (weeks since spell start; week k = (k-1, k]),
# event = exit is not "censored"; tdc "treated_<name>" switches on at k_t = t - start_week + 1
# for the first event of that table starting within the spell (treated from the week after);
# tdc "in_activation" changes where the weekly activation flag changes.
suppressPackageStartupMessages({library(survival); library(jsonlite)})
codes <- read.csv("codes.csv", colClasses = "character")
states <- read.csv("states.csv", colClasses = c("integer", "integer", "character"))
persons <- read.csv("persons.csv")
treat <- list(mentor = read.csv("mentor.csv"), activation = read.csv("activation.csv"))
grp <- setNames(codes$benefit, codes$code)
ps <- setNames(codes$public_support == "True", codes$code)
cens <- setNames(codes$censoring == "True", codes$code)
act <- setNames(codes$activation != "none", codes$code)

spells <- list()
for (i in seq_len(nrow(persons))) {
  p <- persons$person_id[i]
  weeks <- persons$obs_start[i]:persons$obs_end[i]
  st <- states[states$person_id == p, ]
  code <- rep(NA_character_, length(weeks))
  code[match(st$week, weeks)] <- st$state
  g <- ifelse(is.na(code), "<none>", ifelse(ps[code], grp[code], paste0("<other:", code, ">")))
  r <- rle(g)
  ends <- cumsum(r$lengths)
  starts <- ends - r$lengths + 1
  for (j in seq_along(r$values)) {
    if (startsWith(r$values[j], "<")) next
    e <- ends[j]
    if (e == length(weeks)) {
      ex <- "censored"
    } else if (is.na(code[e + 1])) {
      ex <- "self_support"
    } else if (cens[code[e + 1]]) {
      ex <- "censored"
    } else {
      ex <- unname(grp[code[e + 1]])
    }
    spells[[length(spells) + 1]] <- data.frame(
      person_id = p, benefit = r$values[j], start_week = weeks[starts[j]], end_week = weeks[e],
      exit = ex, act = I(list(unname(act[code[starts[j]:e]]))))
  }
}
sp <- do.call(rbind, spells)
sp <- sp[order(sp$person_id, sp$start_week), ]
sp$spell_id <- seq_len(nrow(sp)) - 1L
sp$duration <- sp$end_week - sp$start_week + 1L
sp$status <- as.integer(sp$exit != "censored")

base <- data.frame(spell_id = sp$spell_id, duration = sp$duration, status = sp$status)
cp <- tmerge(base, base, id = spell_id, event = event(duration, status))
for (name in names(treat)) {
  ev <- treat[[name]]
  tt <- data.frame(spell_id = integer(0), time = numeric(0))
  for (k in seq_len(nrow(sp))) {
    w <- ev$week[ev$person_id == sp$person_id[k] & ev$week >= sp$start_week[k] & ev$week <= sp$end_week[k]]
    if (length(w)) tt <- rbind(tt, data.frame(spell_id = sp$spell_id[k], time = min(w) - sp$start_week[k] + 1))
  }
  cp <- do.call(tmerge, c(list(cp, tt, id = quote(spell_id)),
                         setNames(list(call("tdc", quote(time))), paste0("treated_", name))))
}
# activation changes: value at time k-1 applies to week k
ch <- data.frame(spell_id = integer(0), time = numeric(0), value = integer(0))
for (k in seq_len(nrow(sp))) {
  a <- as.integer(sp$act[[k]])
  at <- which(c(TRUE, diff(a) != 0))
  ch <- rbind(ch, data.frame(spell_id = sp$spell_id[k], time = at - 1, value = a[at]))
}
cp <- tmerge(cp, ch, id = spell_id, in_activation = tdc(time, value))
for (name in names(treat)) {
  col <- paste0("treated_", name)
  cp[[col]][is.na(cp[[col]])] <- 0L
}
cp <- cp[order(cp$spell_id, cp$tstart), ]

out <- list(
  software = sprintf("R %s.%s, survival %s, jsonlite %s", R.version$major, R.version$minor,
                     packageVersion("survival"), packageVersion("jsonlite")),
  spells = sp[, c("spell_id", "person_id", "benefit", "start_week", "end_week", "duration", "exit")],
  counting = data.frame(spell_id = cp$spell_id, start = cp$tstart, stop = cp$tstop, event = cp$event,
                        treated_mentor = cp$treated_mentor, treated_activation = cp$treated_activation,
                        in_activation = cp$in_activation))
writeLines(toJSON(out, digits = NA, auto_unbox = TRUE, dataframe = "columns"), "expected.json")
cat("spells:", nrow(sp), " counting rows:", nrow(cp), " events:", sum(cp$event), "\n")
cat("treated_mentor rows:", sum(cp$treated_mentor), " treated_activation rows:", sum(cp$treated_activation),
    " in_activation rows:", sum(cp$in_activation), "\n")
