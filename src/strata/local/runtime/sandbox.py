"""What an execution environment looks like from inside: folders, ``sys.path``, environment variables.

Lambda's Python runtime gives a function ``/var/task`` (code, the working directory), ``/opt`` (layers merged in
order), a writable ``/tmp`` and a fixed set of variables (reference sections 8.4, 10.5). Here the same roles are
played by real folders under the strata home: the unpacked code folder, the merged layer folder, a private temp
folder per environment (``TMPDIR``). Nothing is written to the real ``/opt`` or ``/var/task``.
"""
from __future__ import annotations

import os
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from strata.local.runtime import interpreter as interpreters
from strata.local.runtime import node_sdk, sdk
from strata.local.runtime.api import FunctionSnapshot
from strata.local.runtime.layers import Unpacked, check_total, merged_opt, unpack
from strata.model.lambda_defaults import log_group as default_log_group
from strata.paths import runtime_dir

# Dummy credentials, for a worker with no local server to reach (a library caller that provides none): boto3 inside
# a handler finds credentials, and goes where the function's own endpoint variables say. Otherwise the handler gets
# the home's real pair and the endpoints of the server serving the home (``server_environment``): the running
# ``strata serve``, or the one its command starts on demand; the server refuses any request not signed with them.
DUMMY_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "ASIASTRATALOCAL00000",
    "AWS_SECRET_ACCESS_KEY": "strataLocalSecretAccessKey0000000000000000",
    "AWS_SESSION_TOKEN": "strata-local-session-token",
}
RESERVED = frozenset({
    "_HANDLER", "_X_AMZN_TRACE_ID", "AWS_REGION", "AWS_DEFAULT_REGION", "AWS_EXECUTION_ENV",
    "AWS_LAMBDA_FUNCTION_NAME", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "AWS_LAMBDA_FUNCTION_VERSION",
    "AWS_LAMBDA_INITIALIZATION_TYPE", "AWS_LAMBDA_LOG_GROUP_NAME", "AWS_LAMBDA_LOG_STREAM_NAME", "AWS_ACCESS_KEY",
    "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_LAMBDA_RUNTIME_API", "LAMBDA_TASK_ROOT",
    "LAMBDA_RUNTIME_DIR", "TZ",
})
# the services a local server answers (Lambda's API; CodeDeploy's hook status): boto3 >= 1.28.57 reads these
ENDPOINT_VARIABLES = ("AWS_ENDPOINT_URL_LAMBDA", "AWS_ENDPOINT_URL_CODEDEPLOY")


@dataclass(frozen=True)
class Prepared:
    """The on-disk part of a snapshot's environments, shared by all of them."""

    code_dir: Path
    opt_dir: Path | None
    interpreter: interpreters.Interpreter
    python_paths: tuple[str, ...]       # put in front of the interpreter's own sys.path, in this order
    command: tuple[str, ...]            # interpreter + flags + bootstrap; the worker adds fd and paths
    sources: tuple[tuple[str, str], ...] = ()   # (zip path, sha256) of the code, then of each layer in order
    home: Path | None = None            # the state home (unpacked trees; its server's endpoint and credentials)
    runtime_sdk: sdk.Installed | None = None    # the boto3 Lambda bundles with the runtime (last of python_paths)
    runtime_folder: Path | None = None  # LAMBDA_RUNTIME_DIR: the worker's own modules (sdk.bootstrap_folder)
    family: str = "python"              # the worker family (``runtimes.RUNNABLE``): "python" or "node"
    variables: tuple[tuple[str, str], ...] = ()     # the family's own variables (Node: NODE_PATH, log format)
    node_sdk: node_sdk.Installed | None = None      # Node: the AWS SDK v3 folder standing for /var/runtime/node_modules


def ensure_intact(prepared: Prepared) -> None:
    """Before every cold start: the shared code and layer folders are still what was unpacked (a handler of any
    function sharing them may have edited or deleted them); any that is not is unpacked again from its zip."""
    if prepared.home is None or not prepared.sources:
        return
    root = runtime_dir(prepared.home)
    trees = [unpack(zip_path, sha256, root) for zip_path, sha256 in prepared.sources]
    if prepared.opt_dir is not None:
        merged_opt(trees[1:], tuple(sha256 for _zip, sha256 in prepared.sources[1:]), root)


def prepare(snapshot: FunctionSnapshot, home: Path) -> Prepared:
    """Unpack code and layers (once per digest), merge the layers, pick the interpreter, and find (installing on first
    use) the runtime's SDK and the worker's own modules."""
    root = runtime_dir(home)
    code = unpack(snapshot.code_zip, snapshot.code_sha256, root)
    layers: list[Unpacked] = [unpack(layer.zip_path, layer.sha256, root) for layer in snapshot.layers]
    check_total([code, *layers])
    opt = merged_opt(layers, tuple(layer.sha256 for layer in snapshot.layers), root) if layers else None
    chosen = interpreters.resolve(snapshot.runtime, home)
    if snapshot.runtime.startswith("nodejs"):
        return _prepare_node(snapshot, home, code, opt, chosen)
    python = snapshot.runtime.removeprefix("python") if snapshot.runtime.startswith("python") else \
        "%d.%d" % chosen.version
    bundled = sdk.ensure(f"python{python}", chosen.path, chosen.version)
    paths = worker_sys_path(code.path, opt, python, bundled.folder if bundled else None)
    from strata.local.runtime.worker import BOOTSTRAP
    bootstrap = sdk.bootstrap_folder()
    command = (chosen.path, "-I", "-S", "-c", BOOTSTRAP.format(folder=str(bootstrap)))
    sources = ((str(snapshot.code_zip), snapshot.code_sha256),
               *((str(layer.zip_path), layer.sha256) for layer in snapshot.layers))
    return Prepared(code.path, opt, chosen, tuple(paths), command, sources, home, bundled, bootstrap)


def _prepare_node(snapshot: FunctionSnapshot, home: Path, code: Unpacked, opt: Path | None,
                  chosen: interpreters.Interpreter) -> Prepared:
    """A ``nodejsN.x`` snapshot: the same folders, ``node`` running ``node/worker.js``, Lambda's ``NODE_PATH``."""
    from strata.local.runtime import nodejs

    major = nodejs.runtime_major(snapshot.runtime) or chosen.version[0]
    bundled = node_sdk.ensure()
    variables = (("NODE_PATH", nodejs.node_path(major, code.path, opt, bundled.folder if bundled else None)),
                 ("AWS_LAMBDA_LOG_FORMAT", "JSON" if snapshot.log_format == "JSON" else "Text"))
    sources = ((str(snapshot.code_zip), snapshot.code_sha256),
               *((str(layer.zip_path), layer.sha256) for layer in snapshot.layers))
    return Prepared(code.path, opt, chosen, (), nodejs.command(chosen.path, snapshot.memory_size), sources, home,
                    None, nodejs.RUNTIME_DIR, "node", variables, bundled)


def worker_sys_path(code_dir: Path, opt_dir: Path | None, python: str, sdk_dir: Path | None) -> list[str]:
    """A worker's ``sys.path`` entries, in Lambda's order, put in front of its interpreter's standard library: the
    function's code (``/var/task``), its merged layers (``/opt/python/lib/pythonX.Y/site-packages``, then
    ``/opt/python``), then the SDK Lambda bundles with the runtime (boto3 and its dependencies). So the function's own
    copy of a package wins over a layer's, and a layer's over the bundled boto3. Nothing else: the worker runs with
    ``-I -S`` (no site-packages, no ``.pth`` files, no ``PYTHONPATH``). A debugger's folder, for one debug worker, is
    appended to this list by the caller."""
    paths = [str(code_dir)]
    if opt_dir is not None:
        paths += [str(opt_dir / "python" / "lib" / f"python{python}" / "site-packages"), str(opt_dir / "python")]
    if sdk_dir is not None:
        paths.append(str(sdk_dir))
    return paths


def log_stream_name(version: str) -> str:
    """``YYYY/MM/DD/[<version>]<32 hex>``, one per environment, as Lambda names them."""
    return f"{datetime.now(UTC):%Y/%m/%d}/[{version}]{uuid.uuid4().hex}"


def environment(snapshot: FunctionSnapshot, prepared: Prepared, tmp_dir: str, log_stream: str) -> dict[str, str]:
    """The worker's environment: Lambda's reserved variables, then the function's own (never overriding those)."""
    code = str(prepared.code_dir)
    opt = str(prepared.opt_dir) if prepared.opt_dir else None
    interpreter_bin = os.path.dirname(prepared.interpreter.path)
    path = [interpreter_bin, "/usr/local/bin", "/usr/bin", "/bin"] + ([f"{opt}/bin"] if opt else [])
    libs = [code, f"{code}/lib"] + ([f"{opt}/lib"] if opt else [])
    env = {
        "PATH": ":".join(path),
        "LD_LIBRARY_PATH": ":".join(libs),
        "LANG": "en_US.UTF-8",
        "LC_CTYPE": "C.UTF-8",
        "PWD": code,
        "TMPDIR": tmp_dir,
        "AWS_XRAY_CONTEXT_MISSING": "LOG_ERROR",
        "AWS_XRAY_DAEMON_ADDRESS": "127.0.0.1:2000",
        "AWS_LAMBDA_RUNTIME_API": "127.0.0.1:9001",
    }
    env.update(prepared.variables)     # NODE_PATH is not reserved: the function's own wins, as on Lambda
    for key, value in snapshot.environment:
        if key not in RESERVED:
            env[key] = value
    sdk = server_environment(prepared.home)
    if sdk is not None:
        for name in ENDPOINT_VARIABLES:
            env.setdefault(name, sdk.pop(name))         # the function's own endpoint wins
    env.update(sdk or DUMMY_CREDENTIALS)
    env.update({
        "_HANDLER": snapshot.handler,
        "AWS_REGION": snapshot.region,
        "AWS_DEFAULT_REGION": snapshot.region,
        "AWS_EXECUTION_ENV": f"AWS_Lambda_{snapshot.runtime}",
        "AWS_LAMBDA_FUNCTION_NAME": snapshot.function_name,
        "AWS_LAMBDA_FUNCTION_VERSION": snapshot.version,
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(snapshot.memory_size),
        "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
        "AWS_LAMBDA_LOG_GROUP_NAME": log_group(snapshot),
        "AWS_LAMBDA_LOG_STREAM_NAME": log_stream,
        "LAMBDA_TASK_ROOT": code,
        "LAMBDA_RUNTIME_DIR": str(prepared.runtime_folder or ""),
        "TZ": ":UTC",
    })
    return env


def server_environment(home: Path | None) -> dict[str, str] | None:
    """The home's server as an SDK inside the handler needs it (an endpoint for each service it answers, the key
    pair), or None. The server is the running ``strata serve``, else the one the command starts on demand
    (``strata.local.discovery.for_workers``)."""
    if home is None:
        return None
    from strata.errors import StrataError
    from strata.local.discovery import for_workers

    try:
        server = for_workers(home)
    except StrataError:         # a credentials file not to trust: the handler gets the dummy pair
        return None
    if server is None or server.credentials is None:
        return None
    return {"AWS_ACCESS_KEY_ID": server.credentials.access_key_id,
            "AWS_SECRET_ACCESS_KEY": server.credentials.secret_access_key,
            **{name: server.url for name in ENDPOINT_VARIABLES}}


def log_group(snapshot: FunctionSnapshot) -> str:
    return snapshot.log_group or default_log_group(snapshot.function_name)


def init_line(snapshot: FunctionSnapshot, prepared: Prepared) -> str:
    """The cold start's first log line: Lambda's INIT_START, plus which interpreter runs and why."""
    if prepared.family == "node":
        return (f"INIT_START Runtime Version: {snapshot.runtime}\tInterpreter: Node.js "
                f"{prepared.interpreter.version[0]} ({prepared.interpreter.note})\t{sdk_note(prepared)}\n")
    version = "%d.%d" % prepared.interpreter.version
    return (f"INIT_START Runtime Version: {snapshot.runtime}\tInterpreter: Python {version} "
            f"({prepared.interpreter.note})\t{sdk_note(prepared)}\n")


def sdk_note(prepared: Prepared) -> str:
    """Which boto3 the handler gets: the versions recorded for the runtime's SDK folder, and where that record is."""
    if prepared.family == "node":
        return node_sdk.note(prepared.node_sdk)
    if prepared.runtime_sdk is None:
        return "SDK: none (no boto3 installed with strata to copy)"
    return f"SDK: {prepared.runtime_sdk.summary()} ({prepared.runtime_sdk.manifest})"
