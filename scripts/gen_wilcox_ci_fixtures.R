# Writes tests/fixtures/stats/wilcox_ci.json: R's wilcox.test(canary, baseline, conf.int = TRUE)
# estimates and 95% intervals, the reference for ccp's Hodges-Lehmann interval.
# R is needed only to regenerate the file: Rscript scripts/gen_wilcox_ci_fixtures.R
set.seed(20261207)
num <- function(v) paste0("[", paste(sprintf("%.17g", v), collapse = ","), "]")
cases <- list(
  list(name = "exact_textbook_9x9",
       canary = c(1.83, 0.50, 1.62, 2.48, 1.68, 1.88, 1.55, 3.06, 1.30),
       baseline = c(0.878, 0.647, 0.598, 2.05, 1.06, 1.29, 1.07, 3.14, 1.28)),
  list(name = "exact_tiny_3x3_rank_floor", canary = c(4.1, 5.3, 6.2), baseline = c(1.5, 2.25, 3.75)),
  list(name = "exact_5x12_normal", canary = round(rnorm(5, 110, 10), 4), baseline = round(rnorm(12, 100, 10), 4)),
  list(name = "exact_49x49_shift_down", canary = round(rnorm(49, 95, 8), 5), baseline = round(rnorm(49, 100, 8), 5)),
  list(name = "ties_20x20_integers", canary = round(rnorm(20, 103, 4)), baseline = round(rnorm(20, 100, 4))),
  list(name = "asymptotic_200x300_lognormal", canary = round(rlnorm(200, 4.65, 0.3), 3), baseline = round(rlnorm(300, 4.6, 0.3), 3)),
  list(name = "ties_500x400_latency_ms", canary = round(rlnorm(500, 4.62, 0.35)), baseline = round(rlnorm(400, 4.6, 0.35))),
  list(name = "error_rates_mostly_zero_600x600", canary = round(pmax(0, rnorm(600, 0.002, 0.01)), 3), baseline = round(pmax(0, rnorm(600, 0, 0.01)), 3)),
  list(name = "asymptotic_10000x12000_lognormal", canary = round(rlnorm(10000, 4.61, 0.3), 3), baseline = round(rlnorm(12000, 4.6, 0.3), 3))
)
out <- c()
for (k in cases) {
  w <- suppressWarnings(wilcox.test(k$canary, k$baseline, conf.int = TRUE, conf.level = 0.95))
  exact <- length(k$canary) < 50 && length(k$baseline) < 50 &&
    length(unique(c(k$canary, k$baseline))) == length(c(k$canary, k$baseline))
  # The two middle differences: with ties R's asymptotic estimate may land anywhere between.
  d <- sort(outer(k$canary, k$baseline, `-`))
  n <- length(d)
  mid <- if (n %% 2 == 1) c(d[(n + 1) / 2], d[(n + 1) / 2]) else c(d[n / 2], d[n / 2 + 1])
  out <- c(out, sprintf(
    '{"name":"%s","exact":%s,"estimate":%.17g,"conf_int":[%.17g,%.17g],"middle_differences":[%.17g,%.17g],"baseline":%s,"canary":%s}',
    k$name, if (exact) "true" else "false", unname(w$estimate), w$conf.int[1], w$conf.int[2], mid[1], mid[2],
    num(k$baseline), num(k$canary)))
}
writeLines(c(sprintf('{"generator":"%s","r_version":"%s","cases":[', "scripts/gen_wilcox_ci_fixtures.R", R.version.string),
             paste(out, collapse = ",\n"), "]}"), "tests/fixtures/stats/wilcox_ci.json")
