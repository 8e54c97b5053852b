"use strict";
// Pads a value on the left to a width, with a fill character (tiny-pad 1.1.0, written for strata's tests).
module.exports = function pad(value, width, fill) {
  return String(value).padStart(width, fill === undefined ? " " : fill);
};
module.exports.version = "1.1.0";
