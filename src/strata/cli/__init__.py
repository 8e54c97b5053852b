"""Command-line interface: one thin module per verb, loaded lazily so ``strata --help`` stays fast."""
