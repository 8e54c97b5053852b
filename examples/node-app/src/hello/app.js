"use strict";
// tiny-pad comes from this function's package.json (npm ci --omit=dev); tiny-greeting from SharedLayer
// (/opt/nodejs/node_modules, on Lambda's NODE_PATH).
const pad = require("tiny-pad");
const { greet } = require("tiny-greeting");

exports.handler = async (event) => {
  const name = (event && event.name) || "world";
  return { message: greet(name), padded: pad(name, 10), pad: pad.version };
};
