"""Public SAM apps, kept unchanged under tests/data/sam_apps/ (each with its SOURCE.md and licence), run through the
real ``strata`` executable as a new user would: validate, deploy, invoke, one code or layer edit, deploy (exact
version numbers: the edited function alone changes), verify, and a tag-only edit that publishes nothing.

Offline by construction: a ``requirements.txt`` is never handed to pip here; its install is seeded into the test's
own dependency cache from the distributions this interpreter already has (what pip would have put there), and an
app whose requirements are not installed here is not in the corpus. No invocation reaches a real AWS endpoint: the
local target serves Lambda only, and a function that calls DynamoDB or S3 would go to the public endpoint, so each
app is invoked on a code path that needs no other AWS service (the table below says which, and what it shows).
An app that needs a part of issue 20 not landed yet is a strict xfail naming that part.
"""
from __future__ import annotations

import importlib.metadata
import io
import json
import re
import shutil
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from deploy_helpers import service_snapshot, strata

from strata.local.runtime import sdk

APPS = Path(__file__).resolve().parents[1] / "data" / "sam_apps"
EVENTS = Path(__file__).resolve().parent / "sam_app_events"
TAG = ("corpus-edit", "tag-only")
POWERTOOLS_ARN = "arn:aws:lambda:us-east-1:017000801446:layer:AWSLambdaPowertoolsPythonV3-python312-x86_64:3"
POWERTOOLS_ZIP = APPS.parent / "sam_layers" / "powertools-python-3.2.1a1" / "layer.zip"
POWERTOOLS_LAYER = "{powertools layer}"        # in deploy_args: the published layer built from POWERTOOLS_ZIP


@dataclass(frozen=True)
class Call:
    """One invocation: ``returns`` is a substring of the payload of a successful call, ``error`` of a function
    error's message, ``log`` of the log tail."""

    function: str
    event: str | None = None      # "app:<path in the app>" or "corpus:<file in sam_app_events/>"; None is {}
    returns: str | None = None
    error: str | None = None
    log: str | None = None
    alias: str | None = None


@dataclass(frozen=True)
class Edit:
    """A code or layer edit: ``old`` -> ``new`` in ``path`` (``member`` inside it when ``path`` is a zip)."""

    path: str
    old: str
    new: str
    after: Call
    member: str | None = None


@dataclass(frozen=True)
class App:
    name: str
    calls: tuple[Call, ...]
    edit: Edit
    changed: tuple[str, ...]                              # functions whose code or configuration the edit changes
    aliases: dict[str, str] = field(default_factory=dict)  # function -> AutoPublishAlias
    layers: dict[str, tuple[list[int], list[int]]] = field(default_factory=dict)  # name -> versions before, after
    tagged: str = ""                                        # the function the tag-only edit tags (first call's)
    workdir: str = ""                                       # where the template is, inside the app
    deploy_args: tuple[str, ...] = ()                       # e.g. --layer-source for a public layer, offline
    needs: str | None = None                                # an unlanded issue-20 part: strict xfail


CORPUS = [
    App("sqs-lambda-python-sam",
        calls=(Call("ProcessorFunction", "app:events/test-event.json", returns='"batchItemFailures": []',
                    log="Processed message: Test message-1"),),
        edit=Edit("src/app.py", 'print(f"Processed message: ', 'print(f"Processed message (edited): ',
                  Call("ProcessorFunction", "app:events/test-event.json", log="Processed message (edited): Test")),
        changed=("ProcessorFunction",)),
    App("sns-lambda-python-sam",
        calls=(Call("ProcessorFunction", "app:events/test-event.json", returns="null",
                    log="Processed message Hello from SNS!"),),
        edit=Edit("src/app.py", 'print("done")', 'print("done, edited")',
                  Call("ProcessorFunction", "app:events/test-event.json", log="done, edited")),
        changed=("ProcessorFunction",)),
    App("eventbridge-scheduled-lambda",
        calls=(Call("ScheduledFunction", "corpus:scheduled-event.json", returns="true", log="Hello World"),),
        edit=Edit("src/app.py", 'print("Hello World")', 'print("Hello corpus")',
                  Call("ScheduledFunction", "corpus:scheduled-event.json", returns="true", log="Hello corpus")),
        changed=("ScheduledFunction",)),
    # the pattern's point: the function with the layer imports pymysql, the one without fails to
    App("lambda-layer",
        calls=(Call("PyMySQLLayerLambdaFunction", returns="true"),
               Call("PyMySQLNoLayerLambdaFunction", error="No module named 'pymysql'")),
        edit=Edit("dependencies/python/pymysql/__init__.py", "VERSION = ", "EDITED = True\nVERSION = ",
                  Call("PyMySQLLayerLambdaFunction", returns="true")),
        changed=("PyMySQLLayerLambdaFunction",), layers={"pymysql-layer": ([1], [1, 2])}),  # SAM retains layers
    App("api-sqs-lambda-python",          # CodeUri is a zip file; the HTTP API's body is an AWS::Include
        calls=(Call("SQSLambdaFunction", "corpus:sqs-event.json", returns='"batchItemFailures": []',
                    log="corpus message"),),
        edit=Edit("src/index.zip", "print(record)", 'print("edited", record)', member="index.py",
                  after=Call("SQSLambdaFunction", "corpus:sqs-event.json", log="edited {")),
        changed=("SQSLambdaFunction",)),
    App("lambda-version-alias",           # InlineCode, AutoPublishAlias and VersionDescription
        calls=(Call("lambdaFunctionAlias", alias="dev", returns="Hello from Lambda! version 1"),),
        edit=Edit("template.yaml", "Hello from Lambda! version 1", "Hello from Lambda! version 2",
                  Call("lambdaFunctionAlias", alias="dev", returns="Hello from Lambda! version 2")),
        changed=("lambdaFunctionAlias",), aliases={"lambdaFunctionAlias": "dev"}),
    App("sam-init-hello",                 # `sam init` quick start; requirements.txt (requests) seeded offline
        calls=(Call("HelloWorldFunction", "app:events/event.json", returns="hello world"),),
        edit=Edit("hello_world/app.py", '"message": "hello world"', '"message": "hello corpus"',
                  Call("HelloWorldFunction", "app:events/event.json", returns="hello corpus")),
        changed=("HelloWorldFunction",)),
    App("sam-init-step-func",             # state machine with a local DefinitionUri and DefinitionSubstitutions
        calls=(Call("StockCheckerFunction", returns='"stock_price":'),
               Call("StockBuyerFunction", '{"stock_price": 42}', returns='"price": "42"')),
        edit=Edit("functions/stock_checker/app.py", 'return {"stock_price": stock_price}',
                  'return {"stock_price": stock_price, "edited": True}',
                  Call("StockCheckerFunction", returns='"edited": true')),
        changed=("StockCheckerFunction",)),
    App("sam-init-step-func-conn",        # the same with Serverless Connectors
        calls=(Call("StockCheckerFunction", returns='"stock_price":'),
               Call("StockSellerFunction", '{"stock_price": 7}', returns='"price": "7"')),
        edit=Edit("functions/stock_seller/app.py", '"type": "sell",', '"type": "sell", "edited": True,',
                  Call("StockSellerFunction", '{"stock_price": 7}', returns='"edited": true')),
        changed=("StockSellerFunction",)),
    # `sam init` web quick start: no CodeUri (the template's folder), connectors to a SimpleTable; each handler
    # refuses a wrong HTTP method before any DynamoDB call (the sample's own message has a bug the edit fixes)
    App("sam-init-web-conn",
        calls=(Call("putItemFunction", "app:events/event-get-by-id.json", error="has no attribute 'httpMethod'"),),
        edit=Edit("src/handlers/put_item.py", "you tried: {event.httpMethod}", "you tried: {event['httpMethod']}",
                  Call("putItemFunction", "app:events/event-get-by-id.json",
                       error="putItemHandler only accept POST method, you tried: GET")),
        changed=("putItemFunction", "getAllItemsFunction", "getByIdFunction")),  # one CodeUri for the three
    App("stepfunctions-eventbridge-schedule-sam-python",
        calls=(Call("ScheduleTargetFunction", "corpus:scheduled-event.json", returns="null",
                    log="'detail-type': 'Scheduled Event'"),),
        edit=Edit("src/lambda/app.py", "print(event)", 'print("edited", event)',
                  Call("ScheduleTargetFunction", "corpus:scheduled-event.json", log="edited {")),
        changed=("ScheduleTargetFunction",)),
    App("eventbridge-pipes-ddb-stream-lambda-sfn-enrich",
        calls=(Call("Target", "corpus:pipe-enrichment-event.json", returns="Hello from Lambda!"),),
        edit=Edit("src/lambda_function.py", "'Hello from Lambda!'", "'Hello from the corpus!'",
                  Call("Target", "corpus:pipe-enrichment-event.json", returns="Hello from the corpus!")),
        changed=("Target",)),
    # Powertools' own doc example: the public Powertools layer (mapped offline to the real package, zipped), the code
    # folder outside the template's (CodeUri: ../src); its Handler names a function the module does not define, so
    # the invocation shows the module and Powertools imported, then Lambda's HandlerNotFound (as on AWS)
    App("powertools-tracer", workdir="sam", deploy_args=("--layer-source", f"{POWERTOOLS_ARN}={POWERTOOLS_LAYER}"),
        calls=(Call("CaptureLambdaHandlerExample", '{"charge_id": "c-1"}',
                    error="Handler 'handler' missing on module 'capture_lambda_handler'"),),
        edit=Edit("src/capture_lambda_handler.py", 'f"dummy payment collected', 'f"payment collected',
                  Call("CaptureLambdaHandlerExample", '{"charge_id": "c-1"}',
                       error="Handler 'handler' missing on module 'capture_lambda_handler'")),
        changed=("CaptureLambdaHandlerExample",)),
]


def _params() -> list:
    out = []
    for app in CORPUS:
        marks = [pytest.mark.xfail(strict=True, reason=f"needs {app.needs} (issue 20 part)")] if app.needs else []
        out.append(pytest.param(app, id=app.name, marks=marks))
    return out


# --- the app's copy, its offline dependencies ------------------------------------------------------------------------

def _template(app_dir: Path) -> str:
    return next(name for name in ("template.yaml", "template.yml", "template.json") if (app_dir / name).is_file())


def _distribution_files(name: str, seen: set[str]) -> list[tuple[Path, str]]:
    """(installed file, its path relative to site-packages) for ``name`` and what it requires, as pip installs them."""
    key = re.sub(r"[-_.]+", "-", name).lower()
    if key in seen:
        return []
    seen.add(key)
    dist = importlib.metadata.distribution(name)
    found = []
    for entry in dist.files or []:
        rel = str(entry)
        if rel.startswith("..") or "__pycache__" in rel:
            continue
        found.append((Path(str(dist.locate_file(entry))), rel))
    for requirement in dist.requires or []:
        if ";" in requirement:      # extras and markers: not part of a plain install
            continue
        found += _distribution_files(re.split(r"[\s<>=!~\[(]", requirement, maxsplit=1)[0], seen)
    return found


def seed_requirements(app_dir: Path, home: Path) -> None:
    """Fill the dependency cache of ``home`` for every requirements.txt in the app, so the build never runs pip."""
    from strata.artifacts.deps import deps_dir, deps_key
    from strata.artifacts.digest import hash_file

    runtimes = set(re.findall(r"python3\.\d+", (app_dir / _template(app_dir)).read_text()))
    for requirements in app_dir.rglob("requirements.txt"):
        if requirements.parent.name == "python":    # inside a layer's python/ folder: shipped as is, never pip's
            continue
        names = [line.split("#")[0].strip() for line in requirements.read_text().splitlines()]
        files: list[tuple[Path, str]] = []
        seen: set[str] = set()
        for name in filter(None, names):
            files += _distribution_files(name, seen)
        for runtime in runtimes:
            for arch in ("x86_64", "arm64"):    # the key names the target; these distributions are pure Python
                target = deps_dir(home, deps_key(hash_file(str(requirements)), runtime, arch))
                for source, rel in files:
                    (target / rel).parent.mkdir(parents=True, exist_ok=True)
                    shutil.copyfile(source, target / rel)
                target.mkdir(parents=True, exist_ok=True)


def copy_app(app: App, tmp_path: Path) -> tuple[Path, Path, Path]:
    """The app under tmp_path/<name>, the folder of its template (whose name is the stack name), a fresh
    STRATA_HOME."""
    app_dir, home = tmp_path / app.name, tmp_path / "home"
    shutil.copytree(APPS / app.name, app_dir)
    workdir = app_dir / app.workdir
    seed_requirements(workdir, home)
    return app_dir, workdir, home


# --- edits -----------------------------------------------------------------------------------------------------------

def apply_edit(app_dir: Path, edit: Edit) -> None:
    path = app_dir / edit.path
    if edit.member is None:
        text = path.read_text()
        assert text.count(edit.old) == 1, edit
        path.write_text(text.replace(edit.old, edit.new))
        return
    with zipfile.ZipFile(path) as zf:
        members = [(info, zf.read(info)) for info in zf.infolist()]
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as out:
        for info, data in members:
            if info.filename == edit.member:
                text = data.decode()
                assert text.count(edit.old) == 1, edit
                data = text.replace(edit.old, edit.new).encode()
            out.writestr(info, data)
    path.write_bytes(buf.getvalue())


def add_tag(app_dir: Path, function: str) -> None:
    """Add one tag to ``function`` in the template text (the rest of the file stays byte for byte)."""
    path = app_dir / _template(app_dir)
    lines = path.read_text().splitlines(keepends=True)
    start = next(i for i, line in enumerate(lines)
                 if re.match(rf"^\s+{function}:\s*(#.*)?$", line) and _is_function(lines, i))
    indent = len(lines[start]) - len(lines[start].lstrip())
    props = next(i for i in range(start + 1, len(lines)) if lines[i].strip().startswith("Properties:"))
    child = next(lines[i] for i in range(props + 1, len(lines)) if lines[i].strip())
    pad = " " * (len(child) - len(child.lstrip()))
    end = next((i for i in range(props + 1, len(lines)) if lines[i].strip()
                and len(lines[i]) - len(lines[i].lstrip()) <= indent), len(lines))
    tags = next((i for i in range(props + 1, end) if lines[i].startswith(pad + "Tags:")), None)
    if tags is None:
        lines.insert(props + 1, f"{pad}Tags:\n{pad}  {TAG[0]}: {TAG[1]}\n")
    else:
        lines.insert(tags + 1, f"{pad}  {TAG[0]}: {TAG[1]}\n")
    path.write_text("".join(lines))


def _is_function(lines: list[str], at: int) -> bool:
    following = [line for line in lines[at + 1:at + 4] if line.strip() and not line.strip().startswith("#")]
    return bool(following) and "AWS::Serverless::Function" in following[0]


# --- running ---------------------------------------------------------------------------------------------------------

def invoke(app_dir: Path, home: Path, call: Call) -> None:
    target = call.function + (f":{call.alias}" if call.alias else "")
    args = ["invoke", "--stack-name", app_dir.name, target, "--log-type", "Tail"]
    if call.event is not None:
        args += ["--event", _event_file(app_dir, call.event)]
    proc = strata(app_dir, home, *args, check=False)
    where = f"{target}: exit {proc.returncode}\n{proc.stdout}\n{proc.stderr}"
    if call.error is not None:
        assert proc.returncode == 1 and call.error in proc.stdout, where
    else:
        assert proc.returncode == 0, where
        if call.returns is not None:
            assert call.returns in proc.stdout, where
    if call.log is not None:
        assert call.log in proc.stderr, where


def _event_file(app_dir: Path, event: str) -> str:
    if event.startswith("app:"):
        return str(app_dir / event[4:])
    if event.startswith("corpus:"):
        return str(EVENTS / event[7:])
    path = app_dir.parent / "event.json"
    path.write_text(event)
    return str(path)


def versions(app_dir: Path, home: Path) -> dict[str, dict]:
    """Per function (logical id): its versions and each alias's version, as the Lambda service holds them."""
    from strata.local.engine.describe import describe

    info = json.loads(json.dumps(describe(home, app_dir.name), default=str))
    service = service_snapshot(home)["functions"]
    out = {}
    for logical_id, fn in info["Functions"].items():
        held = service[fn["FunctionName"]]
        out[logical_id] = {"versions": sorted(held["versions"]),
                           "aliases": {name: target[0] for name, target in held["aliases"].items()},
                           "latest": {k: held["versions"]["$LATEST"].get(k) for k in ("CodeSha256", "Layers")},
                           "tags": held["tags"]}
    return out


def layer_versions(home: Path) -> dict[str, list[int]]:
    return service_snapshot(home)["layers"]


def powertools_layer(folder: Path) -> Path:
    """The public Powertools layer as published (``aws-lambda-powertools[all]`` less what Lambda's runtime bundles):
    the stored package plus typing_extensions and, for the tracer, aws-xray-sdk and wrapt, from this interpreter's
    installed distributions. A handler sees only its code, its layers and the runtime's boto3 (as on Lambda), so the
    package alone cannot be imported."""
    out = folder / "powertools-layer.zip"
    if not out.exists():
        bundled = {re.sub(r"[-_.]+", "-", name).lower() for name in sdk.DISTRIBUTIONS}
        with zipfile.ZipFile(POWERTOOLS_ZIP) as package, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as layer:
            for info in package.infolist():
                layer.writestr(info, package.read(info))
            for name in ("typing_extensions", "aws-xray-sdk"):
                for source, rel in _distribution_files(name, bundled):
                    layer.write(source, f"python/{rel}")
    return out


def deploy_args(home: Path, app: App) -> tuple[str, ...]:
    return tuple(arg.replace(POWERTOOLS_LAYER, str(powertools_layer(home.parent))) for arg in app.deploy_args)


def deploy(workdir: Path, home: Path, app: App) -> dict:
    out = json.loads(strata(workdir, home, "deploy", "--output", "json", *deploy_args(home, app)).stdout)
    assert out["Status"] == "complete", out
    return out


@pytest.mark.parametrize("app", _params())
def test_public_sam_app_unchanged(app: App, tmp_path: Path) -> None:
    app_dir, workdir, home = copy_app(app, tmp_path)
    assert "is valid" in strata(workdir, home, "validate").stdout
    deploy(workdir, home, app)

    first = versions(workdir, home)
    for name, held in first.items():
        assert held["versions"] == (["$LATEST", "1"] if name in app.aliases else ["$LATEST"]), (name, held)
        assert held["aliases"] == ({app.aliases[name]: "1"} if name in app.aliases else {}), (name, held)
    assert {k: v for k, v in layer_versions(home).items() if k in app.layers} == \
        {k: v[0] for k, v in app.layers.items()}
    for call in app.calls:
        invoke(workdir, home, call)

    apply_edit(app_dir, app.edit)
    plan = deploy(workdir, home, app)["Plan"]["Changes"]
    second = versions(workdir, home)
    for name, held in second.items():
        before = first[name]
        if name not in app.changed:
            assert held == before, name
            continue
        assert held["latest"] != before["latest"], name
        if name in app.aliases:
            assert held["versions"] == ["$LATEST", "1", "2"] and held["aliases"] == {app.aliases[name]: "2"}, name
        else:
            assert held["versions"] == ["$LATEST"] and held["aliases"] == {}, name
    published = sorted(c["LogicalResourceId"] for c in plan
                       if c["ResourceType"] == "AWS::Lambda::Version" and c["Action"] == "create")
    assert len(published) == len([n for n in app.changed if n in app.aliases]), published
    assert {k: v for k, v in layer_versions(home).items() if k in app.layers} == \
        {k: v[1] for k, v in app.layers.items()}
    invoke(workdir, home, app.edit.after)
    verified = strata(workdir, home, "verify")
    assert "OK" in verified.stdout, verified.stdout

    tagged = app.tagged or app.calls[0].function
    add_tag(workdir, tagged)
    plan = deploy(workdir, home, app)["Plan"]["Changes"]
    assert not [c for c in plan if c["ResourceType"] in ("AWS::Lambda::Version", "AWS::Lambda::LayerVersion")
                and c["Action"] == "create"], plan
    third = versions(workdir, home)
    assert third[tagged]["tags"].get(TAG[0]) == TAG[1]
    for name, held in third.items():
        assert {k: v for k, v in held.items() if k != "tags"} == {k: v for k, v in second[name].items()
                                                                   if k != "tags"}, name
    assert {k: v for k, v in layer_versions(home).items() if k in app.layers} == \
        {k: v[1] for k, v in app.layers.items()}
    assert "No changes" in strata(workdir, home, "deploy", *deploy_args(home, app)).stdout
