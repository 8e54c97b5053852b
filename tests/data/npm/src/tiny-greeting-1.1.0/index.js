"use strict";
// Greets someone, warmly (tiny-greeting 1.1.0, written for strata's tests).
exports.greet = (name) => `Hello there, ${name}!`;
exports.version = "1.1.0";
