#!/usr/bin/env Rscript
# Peer-tool reference for the theophylline population fit: R nlme (Debian
# r-cran-nlme), one-compartment first-order absorption model SSfol with
# log-parameters lKe, lKa, lCl (as in Pinheiro and Bates 2000, section 8.2),
# random effects on all three (diagonal covariance), fitted to
# ../shared/clinical/pk/theoph.csv. Writes the fixed effects with standard
# errors, random-effect and residual SDs, and the per-subject estimates.
#   Rscript scripts/validation/theoph_nlme.R CSV OUT.json
suppressPackageStartupMessages(library(nlme))
args <- commandArgs(trailingOnly = TRUE)
if (length(args) != 2) stop("usage: theoph_nlme.R THEOPH.csv OUT.json")
d <- read.csv(args[1])
d <- d[order(d$Subject, d$Time), ]
g <- groupedData(conc ~ Time | Subject, data = d)
fit <- nlme(conc ~ SSfol(Dose, Time, lKe, lKa, lCl), data = g,
            fixed = lKe + lKa + lCl ~ 1, random = pdDiag(lKe + lKa + lCl ~ 1),
            start = c(lKe = -2.5, lKa = 0.5, lCl = -3))
tt <- summary(fit)$tTable
re <- as.numeric(VarCorr(fit)[1:3, "StdDev"])
co <- coef(fit)
num <- function(x) formatC(x, digits = 10, format = "g")
lines <- c("{",
  sprintf('  "tool": "R %s, nlme %s", "method": "nlme ML/REML default (REML=%s), SSfol, pdDiag",',
          paste(R.version$major, R.version$minor, sep = "."), packageVersion("nlme"), "FALSE"),
  sprintf('  "generated": "%s",', format(Sys.time(), "%Y-%m-%d", tz = "UTC")),
  sprintf('  "fixed": {"lKe": %s, "lKa": %s, "lCl": %s},', num(tt["lKe", 1]), num(tt["lKa", 1]), num(tt["lCl", 1])),
  sprintf('  "fixed_se": {"lKe": %s, "lKa": %s, "lCl": %s},', num(tt["lKe", 2]), num(tt["lKa", 2]), num(tt["lCl", 2])),
  sprintf('  "random_sd": {"lKe": %s, "lKa": %s, "lCl": %s},', num(re[1]), num(re[2]), num(re[3])),
  sprintf('  "residual_sd": %s,', num(fit$sigma)),
  sprintf('  "loglik": %s,', num(as.numeric(logLik(fit)))),
  '  "subjects": {')
ids <- rownames(co)
for (i in seq_along(ids)) {
  sep <- if (i < length(ids)) "," else ""
  lines <- c(lines, sprintf('    "%s": {"lKe": %s, "lKa": %s, "lCl": %s}%s', ids[i],
                            num(co[i, "lKe"]), num(co[i, "lKa"]), num(co[i, "lCl"]), sep))
}
lines <- c(lines, "  }", "}")
writeLines(lines, args[2])
