/* never compiled by the tests: strata refuses the package before any build */
