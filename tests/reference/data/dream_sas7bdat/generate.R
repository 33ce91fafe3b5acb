# Write dream.sas7bdat from dream.csv with haven (a standard SAS7BDAT writer).
library(haven)
d <- read.csv("dream.csv", colClasses = "character", na.strings = character(0), check.names = FALSE)
d$PNR <- as.numeric(d$PNR)
write_sas(d, "dream.sas7bdat")
cat("haven", as.character(packageVersion("haven")), "\n")
cat(R.version.string, "\n")
cat("rows", nrow(d), "columns", ncol(d), "\n")
