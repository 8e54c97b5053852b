'use strict';
/*
 * strata's Node.js worker: one Lambda execution environment for the nodejs18.x/20.x/22.x runtimes.
 *
 * Started by the pool (strata.local.runtime.process.WorkerProcess) as
 *     node [memory flags] worker.js <read fd>,<write fd>
 * with the function's environment (NODE_PATH mapped to the local code and layer folders), its code folder as the
 * working directory, and stdout+stderr on the pipe the pool reads (the function log). It speaks the Python worker's
 * protocol (strata/local/runtime/protocol.py) over the same two pipes: a GO byte, then length-prefixed frames whose
 * body is Python `marshal` (format 4) of a tuple of str/bytes/int/None. Requests:
 *     (request_id, payload, timeout_ms, invoked_arn, client_context_or_None)
 * replies: ("ready",) ("init_error", payload) ("ok", payload, max_rss_kb) ("error", payload, max_rss_kb).
 *
 * What it does follows Lambda's Node.js runtime interface client (github.com/aws/aws-lambda-nodejs-runtime-interface-
 * client, src/: UserFunction.js for loading handlers, CallbackContext.js and Runtime.js for callbacks, async handlers
 * and callbackWaitsForEmptyEventLoop, InvokeContext.js for `context`, Errors.js for error payloads, LogPatch.js for
 * console lines). Written here, not copied: behaviour, names and messages are Lambda's.
 *
 * Between invocations the worker blocks in a read of the request pipe: like Lambda's frozen sandbox, timers a handler
 * left behind run only once the next invocation arrives.
 */

const fs = require('fs');
const path = require('path');
const util = require('util');

// ---- marshal (format 4), as far as the protocol uses it ---------------------------------------------------------

const FLAG_REF = 0x80;

function unmarshal(buf, start, end) {
  let pos = start;
  const refs = [];
  function int32() {
    const v = buf.readInt32LE(pos);
    pos += 4;
    return v;
  }
  function read() {
    if (pos >= end) throw new Error('marshal: truncated frame');
    const code = buf[pos++];
    const flag = code & FLAG_REF;
    const type = String.fromCharCode(code & ~FLAG_REF);
    let value;
    let n;
    switch (type) {
      case 'N': value = null; break;
      case 'T': value = true; break;
      case 'F': value = false; break;
      case 'i': value = int32(); break;
      case 'g': value = buf.readDoubleLE(pos); pos += 8; break;
      case 'l': {
        n = int32();
        const digits = Math.abs(n);
        let v = 0;
        for (let i = 0; i < digits; i++) v += buf.readUInt16LE(pos + 2 * i) * Math.pow(2, 15 * i);
        pos += 2 * digits;
        value = n < 0 ? -v : v;
        break;
      }
      case 's': n = int32(); value = buf.subarray(pos, pos + n); pos += n; break;
      case 'u': case 't': case 'a': case 'A':
        n = int32(); value = buf.toString(type === 'u' || type === 't' ? 'utf8' : 'latin1', pos, pos + n); pos += n;
        break;
      case 'z': case 'Z': n = buf[pos++]; value = buf.toString('latin1', pos, pos + n); pos += n; break;
      case 'r': return refs[int32()];
      case '(': case ')': {
        n = type === ')' ? buf[pos++] : int32();
        value = new Array(n);
        if (flag) refs.push(value);
        for (let i = 0; i < n; i++) value[i] = read();
        return value;
      }
      default: throw new Error(`marshal: unsupported type ${JSON.stringify(type)}`);
    }
    if (flag) refs.push(value);
    return value;
  }
  return read();
}

// Replies are tuples of str, Buffer, int (32-bit) and null: the simplest codes marshal.loads reads.
function frame(items) {
  const parts = [];
  let size = 2;
  for (const item of items) {
    if (item === null || item === undefined) {
      parts.push(Buffer.from('N'));
      size += 1;
    } else if (typeof item === 'number') {
      const b = Buffer.allocUnsafe(5);
      b[0] = 0x69; // 'i'
      b.writeInt32LE(Math.max(-0x80000000, Math.min(0x7fffffff, Math.trunc(item))), 1);
      parts.push(b);
      size += 5;
    } else {
      const data = typeof item === 'string' ? Buffer.from(item, 'utf8') : item;
      const head = Buffer.allocUnsafe(5);
      head[0] = typeof item === 'string' ? 0x75 : 0x73; // 'u' or 's'
      head.writeInt32LE(data.length, 1);
      parts.push(head, data);
      size += 5 + data.length;
    }
  }
  const out = Buffer.allocUnsafe(4 + size);
  out.writeUInt32LE(size, 0);
  out[4] = 0x29; // ')' small tuple
  out[5] = items.length;
  let at = 6;
  for (const part of parts) {
    part.copy(out, at);
    at += part.length;
  }
  return out;
}

// ---- the pipes ----------------------------------------------------------------------------------------------------

const [readText, writeText] = (process.argv[2] || '').split(',');
const RFD = parseInt(readText, 10);
const WFD = writeText ? parseInt(writeText, 10) : RFD;
process.argv.splice(2); // the handler sees argv as [node, worker]

let inbuf = Buffer.allocUnsafe(1 << 16);
let have = 0;

function readMore(min) {
  if (inbuf.length < min) {
    const bigger = Buffer.allocUnsafe(Math.max(min, inbuf.length * 2));
    inbuf.copy(bigger, 0, 0, have);
    inbuf = bigger;
  }
  let n;
  for (;;) {
    try {
      n = fs.readSync(RFD, inbuf, have, inbuf.length - have, null);
      break;
    } catch (err) {
      if (err.code !== 'EAGAIN' && err.code !== 'EINTR') throw err;
    }
  }
  have += n;
  return n;
}

/** The next request (blocking), or null at end of file (the pool closed its end). */
function readRequest() {
  while (have < 4) if (readMore(4) === 0) return null;
  const total = 4 + inbuf.readUInt32LE(0);
  while (have < total) if (readMore(total) === 0) return null;
  const message = unmarshal(inbuf, 4, total);
  // the payload is a view of the buffer: copy what a later read would overwrite
  if (message[1] instanceof Buffer) message[1] = Buffer.from(message[1]);
  inbuf.copy(inbuf, 0, total, have);
  have -= total;
  return message;
}

function send(items) {
  const data = frame(items);
  let off = 0;
  while (off < data.length) {
    try {
      off += fs.writeSync(WFD, data, off, data.length - off);
    } catch (err) {
      if (err.code === 'EAGAIN') continue;
      process.exit(0); // the pool is gone
    }
  }
}

function maxRssKb() {
  try {
    return process.resourceUsage().maxRSS;
  } catch (_err) {
    return 0;
  }
}

// ---- logs (LogPatch.js) -------------------------------------------------------------------------------------------

const REQUEST_ID = Symbol.for('aws.lambda.runtime.requestId');
const LEVELS = {
  TRACE: { name: 'TRACE', priority: 1 },
  DEBUG: { name: 'DEBUG', priority: 2 },
  INFO: { name: 'INFO', priority: 3 },
  WARN: { name: 'WARN', priority: 4 },
  ERROR: { name: 'ERROR', priority: 5 },
  FATAL: { name: 'FATAL', priority: 6 },
};
const JSON_FORMAT = (process.env.AWS_LAMBDA_LOG_FORMAT || '').toUpperCase() === 'JSON';

function jsonErrorReplacer(_key, value) {
  if (value instanceof Error) {
    return Object.assign({
      errorType: (value.constructor && value.constructor.name) || 'UnknownError',
      errorMessage: value.message,
      stackTrace: typeof value.stack === 'string' ? value.stack.split('\n') : value.stack,
    }, value);
  }
  return value;
}

function jsonLine(level, params) {
  const entry = { timestamp: new Date().toISOString(), level: level.name, requestId: global[REQUEST_ID] };
  if (params.length === 1) {
    entry.message = params[0];
    try {
      return JSON.stringify(entry, jsonErrorReplacer);
    } catch (_err) {
      entry.message = util.format(entry.message);
      return JSON.stringify(entry);
    }
  }
  entry.message = util.format(...params);
  for (const param of params) {
    if (param instanceof Error) {
      entry.errorType = (param.constructor && param.constructor.name) || 'UnknownError';
      entry.errorMessage = param.message;
      entry.stackTrace = typeof param.stack === 'string' ? param.stack.split('\n') : [];
      break;
    }
  }
  return JSON.stringify(entry);
}

function textLine(level, params) {
  return `${new Date().toISOString()}\t${global[REQUEST_ID]}\t${level.name}\t${util.format(...params)}`;
}

const formatLine = JSON_FORMAT ? jsonLine : textLine;

function log(level, params) {
  process.stdout.write(formatLine(level, params).replace(/\n/g, '\r') + '\n');
}

function patchConsole() {
  const threshold = LEVELS[(process.env.AWS_LAMBDA_LOG_LEVEL || '').toUpperCase()] || LEVELS.TRACE;
  const nothing = () => {};
  const at = (level) => (level.priority >= threshold.priority ? (...params) => log(level, params) : nothing);
  console.trace = at(LEVELS.TRACE);
  console.debug = at(LEVELS.DEBUG);
  console.info = at(LEVELS.INFO);
  console.log = console.info;
  console.warn = at(LEVELS.WARN);
  console.error = at(LEVELS.ERROR);
  console.fatal = (...params) => log(LEVELS.FATAL, params);
}

// ---- errors (Errors.js) -------------------------------------------------------------------------------------------

function runtimeError(name) {
  const cls = class extends Error {};
  Object.defineProperty(cls, 'name', { value: name });
  cls.prototype.name = `Runtime.${name}`;
  return cls;
}
const ImportModuleError = runtimeError('ImportModuleError');
const HandlerNotFound = runtimeError('HandlerNotFound');
const MalformedHandlerName = runtimeError('MalformedHandlerName');
const UserCodeSyntaxError = runtimeError('UserCodeSyntaxError');
const NodeJsExit = runtimeError('NodeJsExit');
const UnhandledPromiseRejection = runtimeError('UnhandledPromiseRejection');
const NODE_JS_EXIT_MESSAGE = 'The Lambda runtime client detected an unexpected Node.js exit code. This is most ' +
  'commonly caused by a Promise that was never settled. For more information, see ' +
  'https://nodejs.org/docs/latest/api/process.html#exit-codes';

function isErrorLike(obj) {
  return obj && typeof obj.name === 'string' && typeof obj.message === 'string' && typeof obj.stack === 'string' &&
    obj.name && obj.message && obj.stack;
}

/** Lambda's error payload: {errorType, errorMessage, trace}. */
function errorPayload(error) {
  try {
    if (util.types.isNativeError(error) || isErrorLike(error)) {
      return {
        errorType: String(error.name).replace(/\x7F/g, '%7F'),
        errorMessage: String(error.message).replace(/\x7F/g, '%7F'),
        trace: String(error.stack).replace(/\x7F/g, '%7F').split('\n'),
      };
    }
    return { errorType: typeof error, errorMessage: String(error), trace: [] };
  } catch (_err) {
    return {
      errorType: 'handled',
      errorMessage: 'callback called with Error argument, but there was a problem while retrieving one or more of ' +
        'its message, name, and stack',
    };
  }
}

function withEnumerableProperties(_key, value) {
  if (value instanceof Error) {
    const out = Object.assign({ errorType: value.name, errorMessage: value.message, code: value.code }, value);
    if (typeof value.stack === 'string') out.stack = value.stack.split('\n');
    return out;
  }
  return value;
}

function intoError(err) {
  return err instanceof Error ? err : new Error(err);
}

/** What the runtime logs for an error: `Invoke Error`, `Uncaught Exception`, ... (text and JSON formats). */
function logError(label, err) {
  const error = intoError(err);
  if (JSON_FORMAT) {
    console.error(error);
    return;
  }
  let formatted;
  try {
    formatted = '\t' + JSON.stringify(error, withEnumerableProperties);
  } catch (_err) {
    formatted = '\t' + JSON.stringify(errorPayload(error));
  }
  console.error(label, formatted);
}

// ---- loading the handler (UserFunction.js) ------------------------------------------------------------------------

function tryRequire(file) {
  return fs.existsSync(file) ? require(file) : undefined;
}

async function tryImport(file) {
  return fs.existsSync(file) ? await import(require('url').pathToFileURL(file).href) : undefined;
}

function folderIsModule(folder) {
  if (folder.endsWith('/node_modules')) return false;
  const pj = path.join(folder, 'package.json');
  if (fs.existsSync(pj)) {
    try {
      const pkg = JSON.parse(fs.readFileSync(pj));
      if (pkg) return pkg.type === 'module';
    } catch (e) {
      console.warn(`${pj} cannot be read, it will be ignored for ES module detection purposes.`, e);
      return false;
    }
  }
  if (folder === '/') return false;
  return folderIsModule(path.resolve(folder, '..'));
}

async function loadModule(appRoot, moduleRoot, name) {
  const base = path.resolve(appRoot, moduleRoot, name);
  const extensionless = tryRequire(base);
  if (extensionless) return extensionless;
  const esm = fs.existsSync(base + '.js') ? folderIsModule(path.dirname(base + '.js')) : false;
  if (!esm) {
    const loaded = tryRequire(base + '.js');
    if (loaded) return loaded;
  }
  const loaded = (esm && (await tryImport(base + '.js'))) || (await tryImport(base + '.mjs')) ||
    tryRequire(base + '.cjs');
  if (loaded) return loaded;
  return require(require.resolve(name, { paths: [appRoot, moduleRoot] }));
}

async function loadHandler(appRoot, fullHandler) {
  if (fullHandler.includes('..')) {
    throw new MalformedHandlerName(`'${fullHandler}' is not a valid handler name. Use absolute paths when ` +
      'specifying root directories in handler names.');
  }
  const handlerString = path.basename(fullHandler);
  const moduleRoot = fullHandler.substring(0, fullHandler.indexOf(handlerString));
  const match = handlerString.match(/^([^.]*)\.(.*)$/);
  if (!match || match.length !== 3) throw new MalformedHandlerName('Bad handler');
  const [, moduleName, handlerPath] = match;
  let app;
  try {
    app = await loadModule(appRoot, moduleRoot, moduleName);
  } catch (e) {
    if (e instanceof SyntaxError) throw new UserCodeSyntaxError(e);
    if (e && e.code === 'MODULE_NOT_FOUND') throw new ImportModuleError(e);
    throw e;
  }
  const fn = handlerPath.split('.').reduce((nested, key) => nested && nested[key], app);
  if (!fn) throw new HandlerNotFound(`${fullHandler} is undefined or not exported`);
  if (typeof fn !== 'function') throw new HandlerNotFound(`${fullHandler} is not a function`);
  return fn;
}

// ---- invocations (Runtime.js, CallbackContext.js, InvokeContext.js) -----------------------------------------------

const ENV = process.env;
const STATIC_CONTEXT = {
  functionVersion: ENV.AWS_LAMBDA_FUNCTION_VERSION,
  functionName: ENV.AWS_LAMBDA_FUNCTION_NAME,
  memoryLimitInMB: ENV.AWS_LAMBDA_FUNCTION_MEMORY_SIZE,
  logGroupName: ENV.AWS_LAMBDA_LOG_GROUP_NAME,
  logStreamName: ENV.AWS_LAMBDA_LOG_STREAM_NAME,
};

let handler = null;
let handlerIsAsync = false;
let beforeExit = () => {};
let current = null; // the invocation in flight: {requestId, finished}
let calling = false; // inside the handler's own call: a reply there waits for the next turn of the loop

function reply(invocation, kind, body) {
  if (invocation.finished) return false;
  invocation.finished = true;
  beforeExit = () => {};
  current = null;
  send([kind, body, maxRssKb()]);
  // The next request is read at once when the handler has returned (a promise settled, a timer, beforeExit): a
  // turn of the event loop costs a warm invoke microseconds. Inside the handler's own call (a synchronous callback)
  // it waits for the next turn, so invocations never nest on the stack.
  if (calling) setImmediate(next);
  else next();
  return true;
}

function succeed(invocation, result) {
  let body;
  try {
    body = JSON.stringify(result === undefined ? null : result);
  } catch (_err) {
    fail(invocation, new Error('Unable to stringify response body'));
    return;
  }
  reply(invocation, 'ok', Buffer.from(body === undefined ? 'null' : body, 'utf8'));
}

function fail(invocation, err, label = 'Invoke Error') {
  if (invocation.finished) return;
  logError(label, err);
  reply(invocation, 'error', Buffer.from(JSON.stringify(errorPayload(err)), 'utf8'));
}

function decodeClientContext(encoded) {
  if (!encoded) return undefined;
  try {
    return JSON.parse(Buffer.from(encoded, 'base64').toString('utf8'));
  } catch (err) {
    throw new Error(`Cannot parse ClientContext as json: ${err.toString()}`);
  }
}

function next() {
  const message = readRequest();
  if (message === null) process.exit(0);
  const [requestId, payload, timeoutMs, invokedArn, clientContext] = message;
  const deadline = Date.now() + timeoutMs;
  const invocation = { requestId, finished: false };
  current = invocation;
  global[REQUEST_ID] = requestId;

  let waitForEmptyEventLoop = true;
  let done = false; // only the first of callback/succeed/fail/done counts
  const complete = (err, result) => {
    if (err !== undefined && err !== null) fail(invocation, err);
    else succeed(invocation, result);
  };
  const once = (fn) => (...args) => {
    if (done) return;
    done = true;
    fn(...args);
  };
  const callback = once((err, result) => {
    beforeExit = () => {};
    if (err !== undefined && err !== null) fail(invocation, err);
    else if (!waitForEmptyEventLoop) succeed(invocation, result);
    else beforeExit = () => setImmediate(() => succeed(invocation, result));
  });
  const context = {
    get callbackWaitsForEmptyEventLoop() {
      return waitForEmptyEventLoop;
    },
    set callbackWaitsForEmptyEventLoop(value) {
      waitForEmptyEventLoop = value;
    },
    succeed: once((result) => complete(null, result)),
    fail: once((err) => complete(err === undefined || err === null ? 'handled' : err, null)),
    done: once(complete),
    ...STATIC_CONTEXT,
    clientContext: undefined,
    identity: undefined,
    invokedFunctionArn: invokedArn,
    awsRequestId: requestId,
    getRemainingTimeInMillis: () => deadline - Date.now(),
  };
  // the handler never settles and the event loop empties: Lambda's default ending
  beforeExit = handlerIsAsync
    ? () => {
      done = true;
      fail(invocation, new NodeJsExit(NODE_JS_EXIT_MESSAGE));
    }
    : () => {
      done = true;
      reply(invocation, 'ok', Buffer.from('null'));
    };
  try {
    context.clientContext = decodeClientContext(clientContext);
    const event = JSON.parse(payload && payload.length ? payload.toString('utf8') : '{}');
    calling = true;
    let result;
    try {
      result = handler(event, context, callback);
    } finally {
      calling = false;
    }
    if (result && typeof result.then === 'function') {
      result.then(context.succeed, context.fail).catch(context.fail);
    }
  } catch (err) {
    callback(err);
  }
}

let ready = false; // "ready" was sent: from then on the parent reads only replies to its requests

function initFailed(err) {
  logError('Uncaught Exception', err);
  send(['init_error', Buffer.from(JSON.stringify(errorPayload(err)), 'utf8')]);
  process.exit(129);
}

// An error thrown between invocations (something an answered invocation scheduled): Lambda's runtime interface
// client logs it and exits 129, and the next invoke starts a new environment. Nothing is sent: no request is waiting
// for an answer, and a frame now would be read as the answer to the next one.
function failedBetweenInvocations(err, label) {
  logError(label, err);
  process.exit(129);
}

async function main() {
  const go = Buffer.alloc(1);
  if (fs.readSync(RFD, go, 0, 1, null) !== 1 || go[0] !== 1) process.exit(0); // caged first (containment)
  patchConsole();
  process.on('uncaughtException', (error) => {
    if (current === null) {
      if (ready) failedBetweenInvocations(error, 'Uncaught Exception');
      else initFailed(error);
      return;
    }
    fail(current, error, 'Uncaught Exception');
  });
  process.on('unhandledRejection', (reason, promise) => {
    const error = new UnhandledPromiseRejection(reason);
    error.promise = promise;
    if (current === null) {
      if (ready) failedBetweenInvocations(error, 'Unhandled Promise Rejection');
      else initFailed(error);
      return;
    }
    fail(current, error, 'Unhandled Promise Rejection');
  });
  process.on('beforeExit', () => beforeExit());
  try {
    handler = await loadHandler(process.cwd(), ENV._HANDLER || '');
  } catch (err) {
    initFailed(err);
    return;
  }
  handlerIsAsync = handler.constructor && handler.constructor.name === 'AsyncFunction';
  send(['ready']);
  ready = true;
  setImmediate(next);
}

main();
