"use strict";
// A native addon's loader (tiny-native 1.0.0, written for strata's tests: it is never built).
module.exports = require("./build/Release/tiny_native.node");
