"use strict";
// Greets someone (tiny-greeting 1.0.0, written for strata's tests).
exports.greet = (name) => `Hello, ${name}!`;
exports.version = "1.0.0";
