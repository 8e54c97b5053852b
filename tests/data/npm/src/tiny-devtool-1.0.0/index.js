"use strict";
// A development-only dependency (tiny-devtool 1.0.0, written for strata's tests): never in a built zip.
module.exports = () => "dev only";
