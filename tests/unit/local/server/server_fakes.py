"""A small fake of the control plane's ``dispatch`` for the server's unit tests: just enough behaviour to see every
wire path (JSON bodies, blobs, query members, Invoke headers and status codes, errors, slow handlers)."""
from __future__ import annotations

import base64
import threading
import time
from types import SimpleNamespace
from typing import Any

from strata.model.lambda_errors import ResourceNotFoundException, UnsupportedOperationException

ARN = "arn:aws:lambda:us-east-1:123456789012:function:"


class FakeDispatch:
    def __init__(self) -> None:
        self.functions: dict[str, dict[str, Any]] = {}
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.lock = threading.Lock()
        self.release = threading.Event()   # "blocker" invocations wait for it
        self.gathering: threading.Barrier | None = None   # "gather" invocations: all of them in flight at once

    def __call__(self, operation: str, params: dict[str, Any]) -> dict[str, Any]:
        with self.lock:
            self.calls.append((operation, params))
        handler = getattr(self, "op_" + operation, None)
        if handler is None:
            raise UnsupportedOperationException(f"strata's local Lambda does not implement {operation}.")
        return handler(**params)

    def _config(self, name: str) -> dict[str, Any]:
        if name not in self.functions:
            raise ResourceNotFoundException(f"Function not found: {ARN}{name}")
        return self.functions[name]

    def op_CreateFunction(self, FunctionName: str, Code: dict, **rest: Any) -> dict[str, Any]:
        config = {"FunctionName": FunctionName, "FunctionArn": ARN + FunctionName, "Version": "$LATEST",
                  "CodeSize": len(Code.get("ZipFile", b"")), "MemorySize": rest.get("MemorySize", 128),
                  "Runtime": rest.get("Runtime"), "Handler": rest.get("Handler"), "Role": rest["Role"]}
        self.functions[FunctionName] = config
        return dict(config)

    def op_GetFunctionConfiguration(self, FunctionName: str, Qualifier: str | None = None) -> dict[str, Any]:
        return dict(self._config(FunctionName))

    def op_GetFunction(self, FunctionName: str, Qualifier: str | None = None) -> dict[str, Any]:
        return {"Configuration": self._config(FunctionName), "Code": {"RepositoryType": "S3", "Location": "x"},
                "ResponseMetadata": {"ignored": True}}

    def op_DeleteFunction(self, FunctionName: str, Qualifier: str | None = None) -> dict[str, Any]:
        self._config(FunctionName)
        del self.functions[FunctionName]
        return {"StatusCode": 204}

    def op_ListFunctions(self, **params: Any) -> dict[str, Any]:
        return {"Functions": list(self.functions.values()), "NextMarker": None}

    def op_UntagResource(self, Resource: str, TagKeys: list[str]) -> dict[str, Any]:
        return {}

    def op_GetAccountSettings(self) -> dict[str, Any]:
        return {"AccountLimit": {"TotalCodeSize": 80530636800, "ConcurrentExecutions": 1000},
                "AccountUsage": {"TotalCodeSize": 0, "FunctionCount": len(self.functions)}}

    def op_Invoke(self, FunctionName: str, Payload: bytes = b"", Qualifier: str | None = None,
                  InvocationType: str | None = None, LogType: str | None = None,
                  ClientContext: str | None = None) -> dict[str, Any]:
        if FunctionName == "sleeper":
            time.sleep(float(Payload or b"0.5"))
        elif FunctionName == "blocker":
            self.release.wait(10)
        elif FunctionName == "gather":
            assert self.gathering is not None
            self.gathering.wait(10)        # BrokenBarrierError (a 500) unless every party is in flight together
        elif FunctionName == "fails":
            return {"StatusCode": 200, "FunctionError": "Unhandled", "ExecutedVersion": "$LATEST",
                    "Payload": b'{"errorMessage":"boom","errorType":"Exception"}'}
        elif FunctionName not in ("echo", "sleeper", "blocker", "gather"):
            self._config(FunctionName)
        kind = InvocationType or "RequestResponse"
        if kind == "Event":
            return {"StatusCode": 202, "Payload": b""}
        if kind == "DryRun":
            return {"StatusCode": 204, "Payload": b""}
        out: dict[str, Any] = {"StatusCode": 200, "ExecutedVersion": Qualifier or "$LATEST", "Payload": Payload,
                               "ResponseMetadata": {"RequestId": "11111111-2222-3333-4444-555555555555"}}
        if LogType == "Tail":
            out["LogResult"] = base64.b64encode(f"START RequestId: x Version: $LATEST\n{ClientContext}".encode()
                                                ).decode()
        return out


def start_server(spec, *, verifier=None, body_timeout: float = 30.0, **kw) -> SimpleNamespace:
    """The real app on a free loopback port, on a thread, in front of a ``FakeDispatch``."""
    from strata.local.server.app import LambdaApp
    from strata.local.server.runner import run_in_thread

    fake = FakeDispatch()
    app = LambdaApp(fake, spec, verifier=verifier, body_timeout=body_timeout, **kw)
    served, stop = run_in_thread(app)
    return SimpleNamespace(url=served.url, port=served.port, fake=fake, stop=stop, app=app)
