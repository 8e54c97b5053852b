"use strict";
// Pads a value on the left to a width (tiny-pad 1.0.0, written for strata's tests).
module.exports = function pad(value, width) {
  return String(value).padStart(width, " ");
};
module.exports.version = "1.0.0";
