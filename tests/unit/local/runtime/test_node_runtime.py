"""The Node.js runtime: handlers as Lambda's Node.js runtime loads and calls them (CommonJS, ES modules, async and
callback handlers), ``context``, error payloads, timeouts, the memory watchdog, logs, NODE_PATH with layers."""
from __future__ import annotations

import base64
import json
import re
import shutil

import pytest
from runtime_lab import body

pytestmark = pytest.mark.skipif(shutil.which("node") is None, reason="no node on PATH")

NODE = "nodejs20.x"


def fn(lab, files, handler="app.handler", **config):
    config.setdefault("runtime", NODE)
    return lab.function(files, handler, **config)


def error_of(result):
    assert result.function_error == "Unhandled", result.payload
    return json.loads(result.payload)


# ---- loading handlers -------------------------------------------------------------------------------------------

@pytest.mark.parametrize("files", [
    {"app.js": "exports.handler = async (e) => ({kind: 'cjs', got: e.n});\n"},
    {"app.mjs": "export const handler = async (e) => ({kind: 'esm', got: e.n});\n"},
    {"app.cjs": "module.exports.handler = async (e) => ({kind: 'cjs', got: e.n});\n"},
    {"app.js": "export const handler = async (e) => ({kind: 'esm', got: e.n});\n",
     "package.json": '{"type": "module"}'},
    {"app.js": "exports.handler = async (e) => ({kind: 'cjs', got: e.n});\n", "package.json": '{"name": "x"}'},
], ids=["js", "mjs", "cjs", "js-type-module", "js-package-json"])
def test_commonjs_and_es_module_handlers(lab, files):
    result = lab.invoke(fn(lab, files), {"n": 7})
    assert result.function_error is None, result.payload
    assert body(result)["got"] == 7
    assert body(result)["kind"] == ("esm" if "export const" in next(iter(files.values())) else "cjs")


def test_handler_in_a_folder_and_a_nested_property(lab):
    snapshot = fn(lab, {"src/lib/app.js": "exports.api = {v1: {handler: async () => 'nested'}};\n"},
                  "src/lib/app.api.v1.handler")
    assert body(lab.invoke(snapshot)) == "nested"


def test_module_state_lives_as_long_as_the_environment(lab):
    snapshot = fn(lab, {"app.js": "let n = 0;\nexports.handler = async () => ++n;\n"})
    assert [body(lab.invoke(snapshot)) for _ in range(3)] == [1, 2, 3]


def test_large_and_non_ascii_payloads_cross_whole(lab):
    snapshot = fn(lab, {"app.js": "exports.handler = async (e) => ({echo: e.text, size: e.text.length});\n"})
    text = "héllo ☃ " * 200_000
    assert body(lab.invoke(snapshot, {"text": text})) == {"echo": text, "size": len(text)}


# ---- async and callback handlers --------------------------------------------------------------------------------

def test_callback_waits_for_the_event_loop_by_default(lab):
    snapshot = fn(lab, {"app.js": "exports.handler = (e, c, cb) => {\n"
                                  "  setTimeout(() => console.log('timer ran'), 30);\n"
                                  "  cb(null, 'done');\n};\n"})
    result = lab.invoke(snapshot, log_type="Tail")
    assert body(result) == "done"
    assert "timer ran" in base64.b64decode(result.log_result).decode()


def test_callback_without_waiting_replies_at_once(lab):
    snapshot = fn(lab, {"app.js": "exports.handler = (e, c, cb) => {\n"
                                  "  c.callbackWaitsForEmptyEventLoop = false;\n"
                                  "  if (e.first) setTimeout(() => console.log('left behind'), 30);\n"
                                  "  cb(null, c.callbackWaitsForEmptyEventLoop);\n};\n"})
    first = lab.invoke(snapshot, {"first": True}, log_type="Tail")
    assert body(first) is False
    assert "left behind" not in base64.b64decode(first.log_result).decode()   # the sandbox is frozen meanwhile


@pytest.mark.parametrize("source, expected", [
    ("exports.handler = (e, c) => { c.succeed('by succeed'); };", "by succeed"),
    ("exports.handler = (e, c) => { c.done(null, 'by done'); };", "by done"),
    ("exports.handler = (e, c, cb) => { cb(null, 'first'); cb(null, 'second'); };", "first"),
    ("exports.handler = () => Promise.resolve('a promise');", "a promise"),
    ("exports.handler = () => {};", None),
])
def test_ways_a_handler_answers(lab, source, expected):
    assert body(lab.invoke(fn(lab, {"app.js": source + "\n"}))) == expected


def test_async_handler_that_never_settles_on_an_empty_loop(lab):
    error = error_of(lab.invoke(fn(lab, {"app.js": "exports.handler = async () => new Promise(() => {});\n"})))
    assert error["errorType"] == "Runtime.NodeJsExit"
    assert "Promise that was never settled" in error["errorMessage"]


# ---- errors -----------------------------------------------------------------------------------------------------

def test_thrown_error_payload_and_log(lab):
    snapshot = fn(lab, {"app.js": "exports.handler = async () => { throw new RangeError('out of range'); };\n"})
    result = lab.invoke(snapshot, log_type="Tail")
    error = error_of(result)
    assert list(error) == ["errorType", "errorMessage", "trace"]
    assert (error["errorType"], error["errorMessage"]) == ("RangeError", "out of range")
    assert error["trace"][0] == "RangeError: out of range" and "app.js" in error["trace"][1]
    log = base64.b64decode(result.log_result).decode()
    assert re.search(r"\tERROR\tInvoke Error \t\{\"errorType\":\"RangeError\",\"errorMessage\":\"out of range\"", log)


@pytest.mark.parametrize("source, error_type, message", [
    ("exports.handler = (e, c, cb) => cb('plain text');", "string", "plain text"),
    ("exports.handler = (e, c) => c.fail();", "string", "handled"),
    ("exports.handler = async () => { Promise.reject(new Error('lost')); await new Promise(r => setTimeout(r, 50)); };",
     "Runtime.UnhandledPromiseRejection", "Error: lost"),
    ("exports.handler = (e, c, cb) => { setTimeout(() => { throw new Error('later'); }, 1); };", "Error", "later"),
])
def test_errors_that_are_not_thrown_errors(lab, source, error_type, message):
    error = error_of(lab.invoke(fn(lab, {"app.js": source + "\n"})))
    assert (error["errorType"], error["errorMessage"]) == (error_type, message)


@pytest.mark.parametrize("files, handler, error_type, message", [
    ({"app.js": "exports.other = 1;\n"}, "app.handler", "Runtime.HandlerNotFound",
     "app.handler is undefined or not exported"),
    ({"app.js": "exports.handler = 1;\n"}, "app.handler", "Runtime.HandlerNotFound", "app.handler is not a function"),
    ({"other.js": "\n"}, "app.handler", "Runtime.ImportModuleError", "Error: Cannot find module 'app'"),
    ({"app.js": "exports.handler = async () => {;\n"}, "app.handler", "Runtime.UserCodeSyntaxError", "SyntaxError: "),
    ({"app.js": "\n"}, "apphandler", "Runtime.MalformedHandlerName", "Bad handler"),
    ({"app.js": "\n"}, "../app.handler", "Runtime.MalformedHandlerName", "'../app.handler' is not a valid handler"),
    ({"app.js": "throw new Error('init failed');\n"}, "app.handler", "Error", "init failed"),
    ({"app.mjs": "import 'not-installed';\nexport const handler = 1;\n"}, "app.handler", "Error",
     "Cannot find package 'not-installed'"),
])
def test_init_errors_as_lambda_names_them(lab, files, handler, error_type, message):
    snapshot = fn(lab, files, handler)
    result = lab.invoke(snapshot)
    error = error_of(result)
    assert error["errorType"] == error_type and error["errorMessage"].startswith(message), error
    log = lab.logs(snapshot)
    assert "\tundefined\tERROR\tUncaught Exception \t{" in log      # logged before any request, as Lambda does
    assert lab.pool.environment_count(snapshot) == 0               # an init error discards the environment


def test_unserialisable_result(lab):
    error = error_of(lab.invoke(fn(lab, {"app.js": "exports.handler = async () => { const a = {}; a.a = a; "
                                                   "return a; };\n"})))
    assert error["errorMessage"] == "Unable to stringify response body"


# ---- context and environment ------------------------------------------------------------------------------------

def test_context(lab):
    snapshot = fn(lab, {"app.js": """
        exports.handler = async (event, context) => ({
          functionName: context.functionName, functionVersion: context.functionVersion,
          invokedFunctionArn: context.invokedFunctionArn, memoryLimitInMB: context.memoryLimitInMB,
          awsRequestId: context.awsRequestId, logGroupName: context.logGroupName,
          logStreamName: context.logStreamName, remaining: context.getRemainingTimeInMillis(),
          waits: context.callbackWaitsForEmptyEventLoop, clientContext: context.clientContext,
          identity: context.identity === undefined, env: process.env.AWS_EXECUTION_ENV,
          taskRoot: process.env.LAMBDA_TASK_ROOT === process.cwd(), region: process.env.AWS_REGION,
        });
    """}, memory_size=256, timeout=7, name="ctx")
    client_context = base64.b64encode(json.dumps({"custom": {"k": "v"}}).encode()).decode()
    seen = body(lab.invoke(snapshot, request_id="rid-1", invoked_arn=snapshot.function_arn + ":live",
                           client_context=client_context))
    assert seen["functionName"] == "ctx" and seen["functionVersion"] == "$LATEST"
    assert seen["invokedFunctionArn"] == snapshot.function_arn + ":live"
    assert seen["memoryLimitInMB"] == "256" and seen["awsRequestId"] == "rid-1"
    assert seen["logGroupName"] == "/aws/lambda/ctx" and re.match(r"\d{4}/\d\d/\d\d/\[\$LATEST\]\w{32}$",
                                                                  seen["logStreamName"])
    assert 0 < seen["remaining"] <= 7000
    assert seen["waits"] is True and seen["clientContext"] == {"custom": {"k": "v"}} and seen["identity"]
    assert seen["env"] == "AWS_Lambda_nodejs20.x" and seen["taskRoot"] and seen["region"] == "us-east-1"


def test_node_path_maps_layers_runtime_and_task(lab):
    shared = lab.layer({"nodejs/node_modules/shared/index.js": "module.exports = 'nodejs/node_modules';\n",
                        "nodejs/node20/node_modules/pinned/index.js": "module.exports = 'node20';\n",
                        "nodejs/node_modules/pinned/index.js": "module.exports = 'generic';\n",
                        "nodejs/node_modules/mine/index.js": "module.exports = 'layer';\n"})
    snapshot = fn(lab, {"app.js": "exports.handler = async () => ({shared: require('shared'), "
                                  "pinned: require('pinned'), mine: require('mine'), path: process.env.NODE_PATH});\n",
                        "node_modules/mine/index.js": "module.exports = 'function';\n"}, layers=(shared,))
    seen = body(lab.invoke(snapshot))
    assert (seen["shared"], seen["pinned"], seen["mine"]) == ("nodejs/node_modules", "node20", "function")
    parts = seen["path"].split(":")
    assert parts[0].endswith("/nodejs/node20/node_modules") and parts[1].endswith("/nodejs/node_modules")
    assert parts[-2].endswith("/runtime/node") and parts[-1] == str(lab.pool.prepare(snapshot).code_dir)


def test_the_functions_own_node_path_wins(lab):
    snapshot = fn(lab, {"app.js": "exports.handler = async () => process.env.NODE_PATH;\n"},
                  environment=(("NODE_PATH", "/mine"),))
    assert body(lab.invoke(snapshot)) == "/mine"


def test_another_major_runs_only_as_a_said_substitution(lab, monkeypatch):
    monkeypatch.setenv("STRATA_ALLOW_NODE_SUBSTITUTE", "22=20")
    snapshot = fn(lab, {"app.js": "exports.handler = async () => process.versions.node;\n"}, runtime="nodejs22.x")
    result = lab.invoke(snapshot)
    assert body(result).startswith("20.")
    assert "INIT_START Runtime Version: nodejs22.x\tInterpreter: Node.js 20 (Node.js 20 substituted for nodejs22.x, " \
           "allowed by STRATA_ALLOW_NODE_SUBSTITUTE 22=20" in lab.logs(snapshot)


# ---- limits -----------------------------------------------------------------------------------------------------

def test_timeout_kills_the_worker_and_the_next_call_starts_afresh(lab):
    snapshot = fn(lab, {"app.js": "let calls = 0;\nexports.handler = async (e) => { calls++; "
                                  "if (e.hang) await new Promise(r => setTimeout(r, 60000)); return calls; };\n"},
                  timeout=1)
    assert body(lab.invoke(snapshot)) == 1
    error = error_of(lab.invoke(snapshot, {"hang": True}))
    assert error["errorType"] == "Sandbox.Timedout"
    assert body(lab.invoke(snapshot)) == 1                          # a new worker: module state starts again


def test_an_error_thrown_after_the_answer_ends_the_environment(lab):
    """Thrown by something an answered invocation left scheduled: as on Lambda, the runtime logs it and exits 129
    when the sandbox runs again, so the next invoke fails with Runtime.ExitError; the one after starts afresh. The
    worker sends nothing for it (a stray frame would be read as the answer to the next request)."""
    snapshot = fn(lab, {"app.js": "let calls = 0;\nexports.handler = (e, c, cb) => { calls++;\n"
                                  "  c.callbackWaitsForEmptyEventLoop = false;\n"
                                  "  if (e.late) setImmediate(() => { throw new Error('late trouble'); });\n"
                                  "  cb(null, calls);\n};\n"})
    assert body(lab.invoke(snapshot, {"late": True})) == 1
    error = error_of(lab.invoke(snapshot))
    assert error["errorType"] == "Runtime.ExitError" and "exit status 129" in error["errorMessage"], error
    assert "late trouble" in lab.logs(snapshot)
    assert body(lab.invoke(snapshot)) == 1                          # a new environment: module state afresh


def test_memory_watchdog(lab):
    snapshot = fn(lab, {"app.js": "exports.handler = async () => { const b = Buffer.alloc(400 * 1024 * 1024, 1); "
                                  "await new Promise(r => setTimeout(r, 2000)); return b.length; };\n"},
                  memory_size=128, timeout=10)
    error = error_of(lab.invoke(snapshot))
    assert error["errorType"] in ("Runtime.OutOfMemory", "Runtime.ExitError"), error


# ---- logs -------------------------------------------------------------------------------------------------------

def test_console_lines_as_lambda_writes_them(lab):
    snapshot = fn(lab, {"app.js": "exports.handler = async () => { console.log('a %s', 'b'); console.info('i');"
                                  " console.warn('w'); console.error('e'); console.debug('d');"
                                  " console.log('two\\nlines'); return 1; };\n"})
    lab.invoke(snapshot, request_id="rid-log")
    log = lab.logs(snapshot)
    stamp = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z"
    for level, text in (("INFO", "a b"), ("INFO", "i"), ("WARN", "w"), ("ERROR", "e"), ("DEBUG", "d"),
                        ("INFO", "two\rlines")):
        assert re.search(f"^{stamp}\trid-log\t{level}\t{re.escape(text)}$", log, re.M), (level, log)
    assert "START RequestId: rid-log Version: $LATEST" in log and "END RequestId: rid-log" in log
    assert re.search(r"REPORT RequestId: rid-log\tDuration: [\d.]+ ms\t.*Init Duration", log)


def test_json_log_format(lab):
    snapshot = fn(lab, {"app.js": "exports.handler = async () => { console.log('hello', 1); "
                                  "console.warn({k: 'v'}); throw new Error('bad'); };\n"}, log_format="JSON")
    lab.invoke(snapshot, request_id="rid-json")
    lines = [json.loads(line) for line in lab.logs(snapshot).splitlines() if line.startswith("{")]
    assert lines[0]["level"] == "INFO" and lines[0]["message"] == "hello 1" and lines[0]["requestId"] == "rid-json"
    assert lines[1]["level"] == "WARN" and lines[1]["message"] == {"k": "v"}
    assert lines[2]["level"] == "ERROR" and lines[2]["message"]["errorType"] == "Error"
    assert lines[2]["message"]["errorMessage"] == "bad" and "timestamp" in lines[0]
