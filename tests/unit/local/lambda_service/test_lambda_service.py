"""Service internals the contract suite cannot see: the snapshot handed to the runtime, injected randomness, the
lazy runtime, and several processes sharing one database."""
from __future__ import annotations

import io
import multiprocessing
import random
import zipfile
from pathlib import Path

import pytest

from strata.local.lambda_service.service import LambdaService
from strata.local.lambda_service.shapes import (
    AliasRoutingConfiguration,
    Environment,
    FunctionCode,
    LayerVersionContentInput,
)
from strata.local.runtime.api import InvokeResult, Runtime
from strata.model.lambda_errors import ResourceNotFoundException, TooManyRequestsException

ROLE = "arn:aws:iam::123456789012:role/r"


def _zip(text: str = "def handler(e, c):\n    return e\n", name: str = "app.py") -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        zf.writestr(name, text)
    return buffer.getvalue()


class FakeRuntime(Runtime):
    def __init__(self) -> None:
        self.calls = []
        self.closed = False

    def invoke(self, snapshot, request, *, concurrency_limit=None):
        self.calls.append((snapshot, request, concurrency_limit))
        status = 202 if request.invocation_type == "Event" else 200
        return InvokeResult(status, b"null", snapshot.version, request.request_id)

    def close(self) -> None:
        self.closed = True


def _create(service: LambdaService, name: str = "fn", **kw) -> None:
    service.create_function(function_name=name, role=ROLE, runtime="python3.12", handler="app.handler",
                            code=FunctionCode(zip_file=kw.pop("zip_file", _zip())), **kw)


def test_snapshot_carries_code_layers_config_and_concurrency(tmp_path: Path):
    runtime = FakeRuntime()
    ids = iter(f"id-{i}" for i in range(1000))
    service = LambdaService(tmp_path, runtime=runtime, new_id=lambda: next(ids))
    first = service.publish_layer_version(layer_name="a", content=LayerVersionContentInput(
        zip_file=_zip("A = 1\n", "python/a.py")))
    second = service.publish_layer_version(layer_name="b", content=LayerVersionContentInput(
        zip_file=_zip("B = 1\n", "python/b.py")))
    _create(service, memory_size=256, timeout=9, environment=Environment(variables={"ZZ": "1", "AA": "2"}),
            layers=[second.layer_version_arn, first.layer_version_arn])
    service.put_function_concurrency(function_name="fn", reserved_concurrent_executions=3)
    result = service.invoke("fn", payload=b"{}")
    snapshot, request, limit = runtime.calls[-1]
    assert result.executed_version == "$LATEST" and limit == 3
    assert [layer.arn for layer in snapshot.layers] == [second.layer_version_arn, first.layer_version_arn]
    assert all(Path(layer.zip_path).is_file() for layer in snapshot.layers)
    assert Path(snapshot.code_zip).is_file() and len(snapshot.code_sha256) == 64
    assert snapshot.environment == (("AA", "2"), ("ZZ", "1"))
    assert (snapshot.memory_size, snapshot.timeout, snapshot.handler) == (256, 9, "app.handler")
    assert snapshot.log_group == "/aws/lambda/fn" and snapshot.function_arn.endswith(":function:fn")
    assert request.invoked_arn.endswith(":function:fn") and request.request_id.startswith("id-")


def test_routing_uses_the_injected_random(tmp_path: Path):
    runtime = FakeRuntime()

    class Fixed(random.Random):
        def __init__(self, value):
            super().__init__()
            self.value = value

        def random(self):
            return self.value

    service = LambdaService(tmp_path, runtime=runtime, rng=Fixed(0.29))
    _create(service, publish=True)
    service.update_function_configuration(function_name="fn", timeout=5)
    service.publish_version(function_name="fn")
    service.create_alias(function_name="fn", name="live", function_version="1",
                         routing_config=AliasRoutingConfiguration(additional_version_weights={"2": 0.3}))
    assert service.invoke("fn:live").executed_version == "2"
    service.ctx.rng = Fixed(0.3)
    assert service.invoke("fn", qualifier="live").executed_version == "1"
    assert runtime.calls[-1][1].invoked_arn.endswith(":fn:live")


def test_dry_run_and_failed_lookups_never_start_a_runtime(tmp_path: Path, monkeypatch):
    service = LambdaService(tmp_path)
    _create(service)
    assert service.invoke("fn", invocation_type="DryRun").status_code == 204
    with pytest.raises(ResourceNotFoundException):
        service.invoke("nope")
    assert service._runtime is None


def test_runtime_errors_pass_through(tmp_path: Path):
    class Throttling(FakeRuntime):
        def invoke(self, snapshot, request, *, concurrency_limit=None):
            raise TooManyRequestsException("Rate Exceeded.", Reason="ReservedFunctionConcurrentInvocationLimitExceeded")

    service = LambdaService(tmp_path, runtime=Throttling())
    _create(service)
    with pytest.raises(TooManyRequestsException):
        service.invoke("fn")


def test_close_closes_the_runtime(tmp_path: Path):
    runtime = FakeRuntime()
    with LambdaService(tmp_path, runtime=runtime):
        pass
    assert runtime.closed


def _publisher(home: str, worker: int, rounds: int, out) -> None:
    service = LambdaService(Path(home))
    numbers = []
    for i in range(rounds):
        service.update_function_configuration(function_name="fn", description=f"{worker}-{i}")
        numbers.append(int(service.publish_version(function_name="fn").version))
    out.put(numbers)


def test_several_processes_share_one_database(tmp_path: Path):
    service = LambdaService(tmp_path)
    _create(service)
    ctx = multiprocessing.get_context("spawn")
    out = ctx.Queue()
    procs = [ctx.Process(target=_publisher, args=(str(tmp_path), w, 10, out)) for w in range(3)]
    for p in procs:
        p.start()
    results = [out.get(timeout=60) for _ in procs]
    for p in procs:
        p.join(timeout=60)
        assert p.exitcode == 0
    for numbers in results:
        assert numbers == sorted(numbers)  # each process sees strictly increasing numbers
    every = sorted(n for numbers in results for n in numbers)
    versions = service.list_versions_by_function(function_name="fn").versions
    published = [int(v.version) for v in versions[1:]]
    assert published == sorted(set(published)) and max(published) == len(published)
    assert set(every) <= set(published)
